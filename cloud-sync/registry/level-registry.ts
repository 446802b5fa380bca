// The registry in LevelDB, for one machine (`lambkin cloud --data`). Keys sort as a SQL
// index would: records by (device, seq), a per-function index, gaps by (device, from).
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import type { AbstractSublevel } from 'abstract-level'
import { Encoder } from 'cbor-x'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import type { HeartbeatFrame, StatusFrame, WireGap } from '../../src/wire/index.js'
import type { DeviceRow, IngestResult, NewDevice, RecordQuery, Registry, StoredGap, StoredRecord } from './types.js'

type Db = Level<string, Uint8Array>
type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Uint8Array>

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const enc = (v: unknown): Uint8Array => cbor.encode(v)
const dec = <T>(b: Uint8Array): T => cbor.decode(b) as T
/** Zero-padded so that keys sort numerically (seqs are safe integers, < 10^16). */
const pad = (n: number): string => String(n).padStart(16, '0')
const MAX_LIMIT = 10_000

export class LevelRegistry implements Registry {
  readonly #db: Db
  readonly #devices: Sub
  readonly #records: Sub
  readonly #byFn: Sub
  readonly #gaps: Sub
  /** Per-device tail of the ingest chain: one device's batches apply one at a time. */
  readonly #chains = new Map<string, Promise<unknown>>()

  private constructor (db: Db) {
    this.#db = db
    const sub = (name: string): Sub => db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
    this.#devices = sub('d')
    this.#records = sub('r')
    this.#byFn = sub('f')
    this.#gaps = sub('g')
  }

  /** Opens (creating) the registry under `<dir>/registry`. Throws LAMBKIN_STORE_ERROR when locked or damaged. */
  static async open (dir: string): Promise<LevelRegistry> {
    const location = join(dir, 'registry')
    mkdirSync(location, { recursive: true })
    const db = new Level<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      const locked = String((err as { cause?: { code?: string } }).cause?.code ?? '').includes('LOCKED')
      throw new LambkinError(ErrorCodes.STORE_ERROR, locked
        ? `the cloud registry in ${dir} is in use by another process; stop it or choose another --data`
        : `the cloud registry in ${dir} cannot be opened: ${(err as Error).message}`, { cause: err })
    }
    return new LevelRegistry(db)
  }

  async addDevice (d: NewDevice): Promise<DeviceRow> {
    if (await this.getDevice(d.id) !== undefined) throw new LambkinError(ErrorCodes.DEVICE_EXISTS, `device ${d.id} already exists; revoked ids are not reused`)
    const row: DeviceRow = { id: d.id, group: d.group, secretHash: d.secretHash, createdAt: d.createdAt, highWater: 0, counts: { stored: 0, duplicates: 0, gaps: 0, gapSeqs: 0 } }
    if (row.group === undefined) delete row.group
    await this.#devices.put(d.id, enc(row))
    return row
  }

  async getDevice (id: string): Promise<DeviceRow | undefined> {
    const v = await this.#devices.get(id)
    return v === undefined ? undefined : dec<DeviceRow>(v)
  }

  async listDevices (): Promise<DeviceRow[]> {
    const out: DeviceRow[] = []
    for await (const v of this.#devices.values()) out.push(dec<DeviceRow>(v))
    return out
  }

  async revokeDevice (id: string, at: number): Promise<boolean> {
    return await this.#serial(id, async () => {
      const row = await this.getDevice(id)
      if (row === undefined) return false
      row.revokedAt ??= at
      await this.#devices.put(id, enc(row))
      return true
    })
  }

  async touch (id: string, facts: { lastSeen: number, status?: StatusFrame, heartbeat?: HeartbeatFrame }): Promise<void> {
    await this.#serial(id, async () => {
      const row = await this.getDevice(id)
      if (row === undefined) return
      row.lastSeen = Math.max(row.lastSeen ?? 0, facts.lastSeen)
      if (facts.status !== undefined) row.status = { ...facts.status, at: facts.lastSeen }
      if (facts.heartbeat !== undefined) row.heartbeat = { ...facts.heartbeat, at: facts.lastSeen }
      await this.#devices.put(id, enc(row))
    })
  }

  async ingest (device: string, records: Array<Omit<StoredRecord, 'device' | 'receivedAt'>>, gaps: WireGap[], receivedAt: number): Promise<IngestResult> {
    return await this.#serial(device, async () => await this.#ingest(device, records, gaps, receivedAt))
  }

  async #ingest (device: string, records: Array<Omit<StoredRecord, 'device' | 'receivedAt'>>, gaps: WireGap[], receivedAt: number): Promise<IngestResult> {
    const row = await this.getDevice(device)
    if (row === undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `device ${device} is not registered`)
    const hw = row.highWater
    const fresh = records.filter((r) => r.seq > hw)
    // Records above the high-water may already be here (a batch re-sent out of order).
    const known = fresh.length === 0 ? [] : await this.#records.getMany(fresh.map((r) => `${device}!${pad(r.seq)}`))
    const ops: Array<{ type: 'put', key: string, value: Uint8Array, sublevel: Sub }> = []
    const newSeqs = new Set<number>()
    for (let i = 0; i < fresh.length; i++) {
      const r = fresh[i]
      if (known[i] !== undefined || newSeqs.has(r.seq)) continue
      newSeqs.add(r.seq)
      const stored: StoredRecord = { device, seq: r.seq, kind: r.kind, time: r.time, receivedAt, data: r.data }
      if (r.fn !== undefined) stored.fn = r.fn
      ops.push({ type: 'put', key: `${device}!${pad(r.seq)}`, value: enc(stored), sublevel: this.#records })
      if (r.fn !== undefined) ops.push({ type: 'put', key: `${device}!${r.fn}!${pad(r.seq)}`, value: new Uint8Array(0), sublevel: this.#byFn })
    }
    // A gap counts once: the part above the high-water that no stored gap already starts at.
    const newGaps = new Map<number, WireGap>()
    for (const g of gaps) {
      if (g.to <= hw) continue
      const from = Math.max(g.from, hw + 1)
      if (newGaps.has(from) || await this.#gaps.get(`${device}!${pad(from)}`) !== undefined) continue
      const stored: StoredGap = { device, from, to: g.to, reason: g.reason, receivedAt }
      newGaps.set(from, stored)
      ops.push({ type: 'put', key: `${device}!${pad(from)}`, value: enc(stored), sublevel: this.#gaps })
    }
    // Advance over what is now contiguous: this batch's records and gaps, then earlier ones.
    let next = hw + 1
    for (;;) {
      if (newSeqs.has(next)) { next++; continue }
      const g = newGaps.get(next)
      if (g !== undefined) { next = g.to + 1; continue }
      if (await this.#records.get(`${device}!${pad(next)}`) !== undefined) { next++; continue }
      const old = await this.#gaps.get(`${device}!${pad(next)}`)
      if (old !== undefined) { next = dec<StoredGap>(old).to + 1; continue }
      break
    }
    const duplicates = records.length - newSeqs.size
    row.highWater = next - 1
    row.lastSeen = Math.max(row.lastSeen ?? 0, receivedAt)
    row.counts.stored += newSeqs.size
    row.counts.duplicates += duplicates
    row.counts.gaps += newGaps.size
    for (const g of newGaps.values()) row.counts.gapSeqs += g.to - g.from + 1
    await this.#db.batch([...ops, { type: 'put', key: device, value: enc(row), sublevel: this.#devices }])
    return { stored: newSeqs.size, duplicates, gaps: newGaps.size, highWater: row.highWater }
  }

  async records (device: string, q: RecordQuery = {}): Promise<StoredRecord[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_LIMIT)
    const kinds = q.kinds === undefined ? undefined : new Set<string>(q.kinds)
    const forward = q.afterSeq !== undefined
    const after = q.afterSeq ?? 0
    const out: StoredRecord[] = []
    const take = (r: StoredRecord): boolean => {
      if (kinds === undefined || kinds.has(r.kind)) out.push(r)
      return out.length < limit
    }
    if (q.fn === undefined) {
      const range = { gt: `${device}!${pad(after)}`, lt: `${device}!~`, reverse: !forward }
      for await (const v of this.#records.values(range)) if (!take(dec<StoredRecord>(v))) break
    } else {
      const prefix = `${device}!${q.fn}!`
      const range = { gt: `${prefix}${pad(after)}`, lt: `${prefix}~`, reverse: !forward }
      for await (const k of this.#byFn.keys(range)) {
        const v = await this.#records.get(`${device}!${k.slice(prefix.length)}`)
        if (v !== undefined && !take(dec<StoredRecord>(v))) break
      }
    }
    return out
  }

  async gaps (device: string): Promise<StoredGap[]> {
    const out: StoredGap[] = []
    for await (const v of this.#gaps.values({ gt: `${device}!`, lt: `${device}!~` })) out.push(dec<StoredGap>(v))
    return out
  }

  async close (): Promise<void> {
    await Promise.allSettled([...this.#chains.values()])
    await this.#db.close()
  }

  /** Runs `fn` after every earlier call for the same device has settled. */
  #serial<T> (device: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#chains.get(device) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => {})
    this.#chains.set(device, tail)
    void tail.then(() => { if (this.#chains.get(device) === tail) this.#chains.delete(device) })
    return run
  }
}
