// The registry in LevelDB, for one machine (`lambkin cloud --data`). Keys sort as a SQL
// index would: records by (device, seq) in per-batch chunks with per-function and per-kind
// indexes, gaps by (device, from), and the device row with its high-water mark.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import type { AbstractSublevel } from 'abstract-level'
import { Encoder } from 'cbor-x'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { wireError } from '../../src/wire/index.js'
import type { HeartbeatFrame, StatusFrame, WireGap, WireRecordKind } from '../../src/wire/index.js'
import { addRanges, advance, covers, runsOf } from './coverage.js'
import { LevelDeployBase } from './level-deploy.js'
import type { Range } from './coverage.js'
import type { DeviceRow, IngestResult, NewDevice, RecordQuery, Registry, StoredGap, StoredRecord } from './types.js'

type Db = Level<string, Uint8Array>
type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Uint8Array>

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const enc = (v: unknown): Uint8Array => cbor.encode(v)
const dec = <T>(b: Uint8Array): T => cbor.decode(b) as T
/** Zero-padded so that keys sort numerically (seqs are safe integers, < 10^16). */
const pad = (n: number): string => String(n).padStart(16, '0')
const MAX_LIMIT = 10_000
/** How far past its high-water a batch may start (see checkPlacement). */
export const MAX_AHEAD = 1_000_000
const EMPTY = new Uint8Array(0)

/** A record inside a chunk, with short field names (it is stored once per record). */
interface ChunkRecord { s: number, k: WireRecordKind, f?: string, t: number, d: unknown }
type BatchOp = { type: 'put', key: string, value: Uint8Array, sublevel: Sub }

/**
 * Seqs a batch may claim [W4][W8]: nothing more than MAX_AHEAD past the high-water (a device
 * sends oldest first, so only a broken or hostile one jumps that far), and no gap over seqs
 * already stored above it. Throws LAMBKIN_WIRE_INVALID with reason 'too-far-ahead' or
 * 'overlap'; nothing of the batch is stored.
 */
function checkPlacement (hw: number, above: Range[], records: Array<{ seq: number }>, gaps: WireGap[]): void {
  const first = Math.min(...records.map((r) => r.seq), ...gaps.map((g) => g.from))
  if (first > hw + 1 + MAX_AHEAD) throw wireError('too-far-ahead', `batch starts at seq ${first}, more than ${MAX_AHEAD} past the high-water ${hw}`)
  for (const g of gaps) {
    const from = Math.max(g.from, hw + 1)
    if (g.to < from) continue
    for (const [a, b] of above) {
      if (a <= g.to && b >= from && !(a <= from && b >= g.to)) throw wireError('overlap', `gap ${from}..${g.to} overlaps seqs ${a}..${b} already stored`)
    }
  }
}

/** The records of a chunk kept as the wire frame that carried them. */
function fromFrame (raw: Uint8Array): ChunkRecord[] {
  const f = cbor.decode(raw) as { records: Array<{ seq: number, kind: WireRecordKind, fn?: string, time: number, data: unknown }> }
  return f.records.map((r) => ({ s: r.seq, k: r.kind, f: r.fn, t: r.time, d: r.data }))
}

/**
 * A stored chunk's records. One that no longer decodes (a damaged disk) reads as one
 * placeholder record at the chunk's last seq, of the kind and function the query asks for,
 * so the query that would have shown those records answers, and says they are unreadable.
 */
function readChunk (key: string, v: Uint8Array, q: RecordQuery): { r: number, recs: ChunkRecord[] } {
  try {
    const chunk = dec<{ r: number, recs?: ChunkRecord[], raw?: Uint8Array }>(v)
    return { r: chunk.r, recs: chunk.recs ?? fromFrame(chunk.raw as Uint8Array) }
  } catch (err) {
    const seq = Number(key.slice(key.lastIndexOf('!') + 1))
    const placeholder: ChunkRecord = { s: seq, k: q.kinds?.[0] ?? 'log', t: 0, d: { unreadable: `stored records up to seq ${seq} cannot be decoded: ${(err as Error).message}` } }
    if (q.fn !== undefined) placeholder.f = q.fn
    return { r: 0, recs: [placeholder] }
  }
}

export class LevelRegistry extends LevelDeployBase implements Registry {
  readonly #db: Db
  readonly #devices: Sub
  /** Records in chunks (one per ingested batch) by (device, last seq). */
  readonly #chunks: Sub
  /** (device, fn, chunk's last seq) and (device, kind, chunk's last seq): which chunks hold what. */
  readonly #byFn: Sub
  readonly #byKind: Sub
  readonly #gaps: Sub
  /** Device rows as last written: ingest reads only its device's row, and not from disk. */
  readonly #rows = new Map<string, DeviceRow>()
  /** Devices whose cached row has heartbeat facts not yet written. */
  readonly #dirty = new Set<string>()
  #flushTimer: ReturnType<typeof setTimeout> | undefined
  /** Per-device tail of the ingest chain: one device's batches apply one at a time. */
  readonly #chains = new Map<string, Promise<unknown>>()

  private constructor (db: Db) {
    super(db)
    this.#db = db
    const sub = (name: string): Sub => db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
    this.#devices = sub('d')
    this.#chunks = sub('c')
    this.#byFn = sub('f')
    this.#byKind = sub('k')
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
    await this.#putRow(row)
    return structuredClone(row)
  }

  async getDevice (id: string): Promise<DeviceRow | undefined> {
    const row = await this.#row(id)
    return row === undefined ? undefined : structuredClone(row)
  }

  /** The cached row (not a copy: callers clone before changing it). */
  async #row (id: string): Promise<DeviceRow | undefined> {
    const cached = this.#rows.get(id)
    if (cached !== undefined) return cached
    const v = await this.#devices.get(id)
    if (v === undefined) return undefined
    const row = dec<DeviceRow>(v)
    this.#rows.set(id, row)
    return row
  }

  async #putRow (row: DeviceRow, ops: BatchOp[] = []): Promise<void> {
    await this.#db.batch([...ops, { type: 'put', key: row.id, value: enc(row), sublevel: this.#devices }])
    this.#rows.set(row.id, row)
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
      await this.#putRow(row)
      return true
    })
  }

  /**
   * A status is written at once (online/offline must survive a restart); a heartbeat only
   * updates the cached row and is written with the other dirty rows at most once a second:
   * a fleet heartbeating costs one LevelDB batch a second, not a write per heartbeat.
   */
  async touch (id: string, facts: { lastSeen: number, status?: StatusFrame, heartbeat?: HeartbeatFrame }): Promise<void> {
    await this.#serial(id, async () => {
      const cached = await this.#row(id)
      if (cached === undefined) return
      const row = facts.status !== undefined ? structuredClone(cached) : cached
      row.lastSeen = Math.max(row.lastSeen ?? 0, facts.lastSeen)
      if (facts.status !== undefined) row.status = { ...facts.status, at: facts.lastSeen }
      if (facts.heartbeat !== undefined) row.heartbeat = { ...facts.heartbeat, at: facts.lastSeen }
      if (facts.status !== undefined) { await this.#putRow(row); return }
      this.#dirty.add(id)
      this.#flushTimer ??= setTimeout(() => { void this.#flushDirty() }, 1000).unref()
    })
  }

  /** Writes the rows heartbeats changed, in one batch. */
  async #flushDirty (): Promise<void> {
    this.#flushTimer = undefined
    const ids = [...this.#dirty]
    this.#dirty.clear()
    const ops = ids.map((id) => this.#rows.get(id)).filter((r): r is DeviceRow => r !== undefined).map((r): BatchOp => ({ type: 'put', key: r.id, value: enc(r), sublevel: this.#devices }))
    if (ops.length > 0) await this.#db.batch(ops).catch(() => { for (const id of ids) this.#dirty.add(id) })
  }

  async ingest (device: string, records: Array<Omit<StoredRecord, 'device' | 'receivedAt'>>, gaps: WireGap[], receivedAt: number, raw?: Uint8Array): Promise<IngestResult> {
    return await this.#serial(device, async () => await this.#ingest(device, records, gaps, receivedAt, raw))
  }

  /**
   * One batch's new records go into one chunk value keyed by (device, last seq), with one
   * index key per function and per kind in it: a few LevelDB writes per batch instead of two
   * per record, which is what ingest throughput is made of. Dedup and the high-water mark use
   * the device row's coverage ranges, so ingest reads nothing but that row.
   */
  async #ingest (device: string, records: Array<Omit<StoredRecord, 'device' | 'receivedAt'>>, gaps: WireGap[], receivedAt: number, raw: Uint8Array | undefined): Promise<IngestResult> {
    const row = await this.getDevice(device)
    if (row === undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `device ${device} is not registered`)
    const hw = row.highWater
    const above = row.above ?? []
    checkPlacement(hw, above, records, gaps)
    const fresh: ChunkRecord[] = []
    const seen = new Set<number>()
    for (const r of [...records].sort((a, b) => a.seq - b.seq)) {
      if (r.seq <= hw || seen.has(r.seq) || covers(above, r.seq)) continue
      seen.add(r.seq)
      const c: ChunkRecord = { s: r.seq, k: r.kind, t: r.time, d: r.data }
      if (r.fn !== undefined) c.f = r.fn
      fresh.push(c)
    }
    const ops: BatchOp[] = []
    if (fresh.length > 0) {
      const last = pad(fresh[fresh.length - 1].s)
      // When every record is new, the frame's own bytes are kept: no encoding on the hot path.
      const value = raw !== undefined && fresh.length === records.length ? enc({ r: receivedAt, raw }) : enc({ r: receivedAt, recs: fresh })
      ops.push({ type: 'put', key: `${device}!${last}`, value, sublevel: this.#chunks })
      for (const fn of new Set(fresh.map((c) => c.f).filter((f): f is string => f !== undefined))) ops.push({ type: 'put', key: `${device}!${fn}!${last}`, value: EMPTY, sublevel: this.#byFn })
      for (const kind of new Set(fresh.map((c) => c.k))) ops.push({ type: 'put', key: `${device}!${kind}!${last}`, value: EMPTY, sublevel: this.#byKind })
    }
    // A gap counts once: the part above the high-water not already covered.
    const newGaps: StoredGap[] = []
    for (const g of gaps) {
      const from = Math.max(g.from, hw + 1)
      if (g.to < from || covers(above, from) || newGaps.some((n) => n.from === from)) continue
      const stored: StoredGap = { device, from, to: g.to, reason: g.reason, receivedAt }
      newGaps.push(stored)
      ops.push({ type: 'put', key: `${device}!${pad(from)}`, value: enc(stored), sublevel: this.#gaps })
    }
    const moved = advance(hw, addRanges(above, [...runsOf(fresh.map((c) => c.s)), ...newGaps.map((g): Range => [g.from, g.to])]))
    const duplicates = records.length - fresh.length
    row.highWater = moved.hw
    row.above = moved.above
    row.lastSeen = Math.max(row.lastSeen ?? 0, receivedAt)
    row.counts.stored += fresh.length
    row.counts.duplicates += duplicates
    row.counts.gaps += newGaps.length
    for (const g of newGaps) row.counts.gapSeqs += g.to - g.from + 1
    await this.#putRow(row, ops)
    return { stored: fresh.length, duplicates, gaps: newGaps.length, highWater: row.highWater }
  }

  async records (device: string, q: RecordQuery = {}): Promise<StoredRecord[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_LIMIT)
    const kinds = q.kinds === undefined ? undefined : new Set<string>(q.kinds)
    const forward = q.afterSeq !== undefined
    const after = q.afterSeq ?? 0
    const out: StoredRecord[] = []
    // Chunks are keyed by their last seq, so "last > after" finds every chunk holding a seq > after.
    const chunkKeys = async function * (self: LevelRegistry): AsyncGenerator<string> {
      const one = kinds?.size === 1 ? [...kinds][0] : undefined
      const [sub, prefix] = q.fn !== undefined ? [self.#byFn, `${device}!${q.fn}!`] : one !== undefined ? [self.#byKind, `${device}!${one}!`] : [undefined, `${device}!`]
      if (sub === undefined) {
        for await (const k of self.#chunks.keys({ gt: `${prefix}${pad(after)}`, lt: `${prefix}~`, reverse: !forward })) yield k
      } else {
        for await (const k of sub.keys({ gt: `${prefix}${pad(after)}`, lt: `${prefix}~`, reverse: !forward })) yield `${device}!${k.slice(prefix.length)}`
      }
    }
    for await (const key of chunkKeys(this)) {
      const v = await this.#chunks.get(key)
      if (v === undefined) continue
      const chunk = readChunk(key, v, q)
      const all = chunk.recs
      const recs = forward ? all : [...all].reverse()
      for (const c of recs) {
        if (c.s <= after || (q.fn !== undefined && c.f !== q.fn) || (kinds !== undefined && !kinds.has(c.k))) continue
        const r: StoredRecord = { device, seq: c.s, kind: c.k, time: c.t, receivedAt: chunk.r, data: c.d }
        if (c.f !== undefined) r.fn = c.f
        out.push(r)
        if (out.length >= limit) return out
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
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer)
    await this.#flushDirty()
    await this.settleDeploy()
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
