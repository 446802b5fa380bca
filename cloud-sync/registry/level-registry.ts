// The registry in LevelDB, for one machine (`lambkin cloud --data`). Keys sort as a SQL
// index would (level-keys.ts): records by (device, stream, seq) in chunks with per-function and
// per-kind indexes (level-chunks.ts), gaps by (device, stream, from), a row per outbox stream
// with its high-water and the ranges it covers above it (level-streams.ts), and the device
// row. Ingest is planned in level-ingest.ts; a registry from before streams is brought up to
// date at open (level-migrate.ts).
import { mergeStatus } from './status-merge.js'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import type { HeartbeatFrame, StatusFrame } from '../../src/wire/index.js'
import { LevelDeployBase } from './level-deploy.js'
import { dec, enc, readRecords } from './level-chunks.js'
import type { BatchOp, Db, Sub } from './level-chunks.js'
import { LevelGuard } from './level-guard.js'
import { planIngest } from './level-ingest.js'
import { KEYS } from './level-keys.js'
import { migrate } from './level-migrate.js'
import { StreamBook } from './level-streams.js'
import { systemClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import type { FaultEvent, FaultState } from '../../src/store-fault.js'
import { LEGACY_STREAM, TAKEOVERS_KEPT } from './types.js'
import type { ConflictFacts, DevicePageQuery, DeviceRow, IngestBatch, IngestResult, NewDevice, RecordQuery, Registry, StoredGap, StoredRecord, StreamRow } from './types.js'

export { MAX_AHEAD } from './level-ingest.js'

export class LevelRegistry extends LevelDeployBase implements Registry {
  readonly #db: Db
  readonly #devices: Sub
  /** Records in chunks by (device, stream ordinal, last seq) (level-chunks.ts). */
  readonly #chunks: Sub
  /** (device, fn or kind, stream ordinal, chunk's last seq): which chunks hold what. */
  readonly #byFn: Sub
  readonly #byKind: Sub
  readonly #gaps: Sub
  /** Stream rows (`s`) and their ranges above the high-water (`a`), cached. */
  readonly #streams: StreamBook
  readonly #streamRows: Sub
  readonly #ranges: Sub
  /** The registry's format (level-migrate.ts). */
  readonly #format: Sub
  /** Device rows as last written: ingest reads only its device's row, and not from disk. */
  readonly #rows = new Map<string, DeviceRow>()
  /** Devices whose cached row has heartbeat facts not yet written. */
  readonly #dirty = new Set<string>()
  #flushTimer: ReturnType<typeof setTimeout> | undefined
  /** Per-device tail of the ingest chain: one device's batches apply one at a time. */
  readonly #chains = new Map<string, Promise<unknown>>()
  /** Faults the registry at a failed write until it reopened and verified itself (level-guard.ts). */
  readonly #guard: LevelGuard

  private constructor (db: Db, guard: LevelGuard) {
    super(db)
    this.#db = db
    this.#guard = guard
    const sub = (name: string): Sub => db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
    this.#devices = sub('d')
    this.#chunks = sub('c')
    this.#byFn = sub('f')
    this.#byKind = sub('k')
    this.#gaps = sub('g')
    this.#streamRows = sub('s')
    this.#ranges = sub('a')
    this.#format = sub('fm')
    this.#streams = new StreamBook(this.#streamRows, this.#ranges)
  }

  /**
   * Opens (creating) the registry under `<dir>/registry`. Throws LAMBKIN_STORE_ERROR when locked
   * or damaged. `onFault` hears of a failed write faulting it, and of its recovery.
   */
  static async open (dir: string, opts: { clock?: Clock, onFault?: (e: FaultEvent) => void } = {}): Promise<LevelRegistry> {
    const location = join(dir, 'registry')
    mkdirSync(location, { recursive: true })
    const db = new Level<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      const locked = String((err as { cause?: { code?: string } }).cause?.code ?? '').includes('LOCKED')
      throw new LambkinError(ErrorCodes.STORE_ERROR, locked
        ? `the cloud registry in ${dir} is in use by another process; stop it or choose another --data`
        : `the cloud registry in ${dir} cannot be opened: ${errorMessage(err)}`, { cause: err })
    }
    // The guard wraps the database's writes and the sublevels the registry makes, so it comes first.
    let reg: LevelRegistry | undefined
    const guard = new LevelGuard(db, { what: `the cloud registry in ${dir}`, clock: opts.clock ?? systemClock, onEvent: opts.onFault, verify: async () => reg === undefined ? undefined : await reg.#verify() })
    reg = new LevelRegistry(db, guard)
    try {
      await reg.#migrate()
    } catch (err) {
      guard.close()
      await db.close()
      throw new LambkinError(ErrorCodes.STORE_ERROR, `the cloud registry in ${dir} could not be brought up to this version: ${errorMessage(err)}; what was moved stays moved, start again to finish (check the disk has room)`, { cause: err })
    }
    return reg
  }

  async #migrate (): Promise<void> {
    await migrate(this.#db, {
      format: this.#format,
      devices: this.#devices,
      streams: this.#streamRows,
      ranges: this.#ranges,
      chunks: this.#chunks,
      byFn: this.#byFn,
      byKind: this.#byKind,
      gaps: this.#gaps
    })
  }

  /** Present while the registry is faulted: it takes no write until it has reopened (level-guard.ts). */
  storeFault (): FaultState | undefined { return this.#guard.state }

  /**
   * After a reopen: every device row as acknowledged (the cached ones) must be on disk with at
   * least its high-water; the caches (device rows, stream rows) are then read afresh.
   */
  async #verify (): Promise<string | undefined> {
    const short: string[] = []
    for (const [id, cached] of this.#rows) {
      const v = await this.#devices.get(id)
      const disk = v === undefined ? undefined : dec<DeviceRow>(v)
      if (disk === undefined || disk.highWater < cached.highWater) short.push(`${id} (high-water ${disk?.highWater ?? 'none'}, acknowledged ${cached.highWater})`)
    }
    for (const id of this.#rows.keys()) {
      this.#streams.forget(id)
      if (!this.#dirty.has(id)) this.#rows.delete(id)
    }
    return short.length === 0 ? undefined : `after reopening, devices hold less than was acknowledged: ${short.slice(0, 10).join(', ')}`
  }

  async addDevice (d: NewDevice): Promise<DeviceRow> {
    if (await this.getDevice(d.id) !== undefined) throw new LambkinError(ErrorCodes.DEVICE_EXISTS, `device ${d.id} already exists; revoked ids are not reused`)
    const row: DeviceRow = {
      id: d.id,
      group: d.group,
      secretHash: d.secretHash,
      createdAt: d.createdAt,
      highWater: 0,
      counts: { stored: 0, duplicates: 0, gaps: 0, gapSeqs: 0 },
      streams: 0
    }
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
    this.#dirty.delete(row.id)
  }

  /** Rows as the cache holds them where it does: facts not yet written (heartbeats, takeovers) included. */
  async listDevices (q: DevicePageQuery = {}): Promise<DeviceRow[]> {
    const out: DeviceRow[] = []
    // Keys are the ids in UTF-8, which LevelDB orders by bytes: code-unit order for ids.
    const range = { ...(q.after === undefined ? {} : { gt: q.after }), ...(q.limit === undefined ? {} : { limit: q.limit }) }
    for await (const [id, v] of this.#devices.iterator(range)) {
      const cached = this.#rows.get(id)
      out.push(cached !== undefined ? structuredClone(cached) : dec<DeviceRow>(v))
    }
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

  async rotateSecret (id: string, secretHash: string, at: number): Promise<DeviceRow | undefined> {
    return await this.#serial(id, async () => {
      const row = await this.getDevice(id)
      if (row === undefined || row.revokedAt !== undefined) return row
      row.secretHash = secretHash
      row.rotatedAt = at
      await this.#putRow(row)
      return structuredClone(row)
    })
  }

  async clearConflict (id: string): Promise<{ cleared: ConflictFacts | null } | undefined> {
    return await this.#serial(id, async () => {
      const row = await this.getDevice(id)
      if (row === undefined) return undefined
      const cleared = row.conflict ?? null
      if (cleared === null) return { cleared }
      delete row.conflict
      await this.#putRow(row)
      return { cleared }
    })
  }

  /**
   * A status is written at once (online/offline must survive a restart); a heartbeat only
   * updates the cached row and is written with the other dirty rows at most once a second:
   * a fleet heartbeating costs one LevelDB batch a second, not a write per heartbeat.
   */
  /** Like a heartbeat, written with the dirty rows: a takeover loop is one write a second at most. */
  async noteTakeover (id: string, at: number): Promise<void> {
    await this.#serial(id, async () => {
      const row = await this.#row(id)
      if (row === undefined) return
      const t = row.takeovers ?? { count: 0, lastAt: at, recent: [] }
      row.takeovers = { count: t.count + 1, lastAt: at, recent: [...t.recent, at].slice(-TAKEOVERS_KEPT) }
      this.#dirty.add(id)
      this.#flushTimer ??= setTimeout(() => { void this.#flushDirty() }, 1000).unref()
    })
  }

  async touch (id: string, facts: { lastSeen: number, status?: StatusFrame, heartbeat?: HeartbeatFrame }): Promise<void> {
    await this.#serial(id, async () => {
      const cached = await this.#row(id)
      if (cached === undefined) return
      const row = facts.status !== undefined ? structuredClone(cached) : cached
      row.lastSeen = Math.max(row.lastSeen ?? 0, facts.lastSeen)
      if (facts.status !== undefined) row.status = mergeStatus(cached.status, facts.status, facts.lastSeen)
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

  async ingest (device: string, batch: IngestBatch, receivedAt: number): Promise<IngestResult> {
    return await this.#serial(device, async () => await this.#ingest(device, batch, receivedAt))
  }

  /**
   * One batch: the stream's new records in one chunk per run of newly covered seqs, with one
   * index key per function and kind in it, its new gaps, the range keys it changed, the stream
   * row and the device row, in one LevelDB batch. A refused batch (a conflict) writes only the
   * conflict's counts.
   */
  async #ingest (device: string, batch: IngestBatch, receivedAt: number): Promise<IngestResult> {
    const row = await this.getDevice(device)
    if (row === undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `device ${device} is not registered`)
    const id = batch.stream ?? LEGACY_STREAM
    const known = await this.#streams.get(device, id)
    const streams = row.streams ?? 0
    const stream: StreamRow = known ?? {
      device,
      id,
      ord: streams + 1,
      firstSeen: receivedAt,
      lastSeen: receivedAt,
      highWater: 0,
      counts: { stored: 0, duplicates: 0, gaps: 0, gapSeqs: 0 }
    }
    const plan = await planIngest({ chunks: this.#chunks, byFn: this.#byFn, byKind: this.#byKind, gaps: this.#gaps }, this.#streams, stream, batch, receivedAt)
    row.lastSeen = Math.max(row.lastSeen ?? 0, receivedAt)
    row.stream = id
    row.streams = known === undefined ? streams + 1 : streams
    if (plan.conflict !== undefined) {
      const c = stream.conflicts
      stream.conflicts = { count: (c?.count ?? 0) + 1, lastAt: receivedAt, seq: plan.conflict }
      row.conflict = { count: (row.conflict?.count ?? 0) + 1, firstAt: row.conflict?.firstAt ?? receivedAt, lastAt: receivedAt, stream: id, seq: plan.conflict }
    } else {
      row.counts.stored += plan.stored
      row.counts.duplicates += plan.duplicates
      row.counts.gaps += plan.newGaps.length
      for (const g of plan.newGaps) row.counts.gapSeqs += g.to - g.from + 1
    }
    row.highWater = stream.highWater
    try {
      await this.#putRow(row, [...plan.ops, this.#streams.rowOp(stream)])
    } catch (err) {
      this.#streams.forget(device)
      throw err
    }
    this.#streams.written(stream)
    const result: IngestResult = {
      stored: plan.stored,
      duplicates: plan.duplicates,
      gaps: plan.newGaps.length,
      highWater: stream.highWater,
      stream: id,
      newStream: known === undefined
    }
    if (plan.conflict !== undefined) result.conflict = { seq: plan.conflict }
    return result
  }

  async streams (device: string): Promise<StreamRow[]> {
    return await this.#streams.list(device)
  }

  async records (device: string, q: RecordQuery = {}): Promise<StoredRecord[]> {
    const streams = await this.#streams.list(device)
    const byOrd = new Map(streams.map((st) => [st.ord, st.id]))
    let after: { ord: number, seq: number } | undefined
    if (q.afterSeq !== undefined) {
      const id = q.stream ?? (await this.#row(device))?.stream
      // A stream the device never sent is before all of them.
      after = { ord: streams.find((st) => st.id === id)?.ord ?? 0, seq: q.afterSeq }
    }
    let before: { ord: number, seq: number } | undefined
    if (q.before !== undefined && q.afterSeq === undefined) {
      const ord = streams.find((st) => st.id === q.before?.stream)?.ord
      if (ord === undefined) return []
      before = { ord, seq: q.before.seq }
    }
    const out = await readRecords(
      { chunks: this.#chunks, byFn: this.#byFn, byKind: this.#byKind },
      device,
      q,
      after,
      (ord) => byOrd.get(ord) ?? LEGACY_STREAM,
      before
    )
    if (after === undefined) return out
    // Held back from a follower: the newest stream's records above its high-water (RecordQuery.afterSeq).
    const newest = streams.reduce<StreamRow | undefined>((m, st) => (m === undefined || st.ord > m.ord ? st : m), undefined)
    return newest === undefined ? out : out.filter((r) => r.stream !== newest.id || r.seq <= newest.highWater)
  }

  async gaps (device: string): Promise<StoredGap[]> {
    const out: StoredGap[] = []
    for await (const v of this.#gaps.values(KEYS.prefix(device))) out.push(dec<StoredGap>(v))
    return out
  }

  async close (): Promise<void> {
    this.#guard.close()
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
