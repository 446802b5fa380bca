// A second outbox store backend, in memory, for the abstract suite (test/device/store/): proof
// that the suite states the OutboxStore contract and not LevelDB's habits. It is written apart
// from the LevelDB planner (no shared quota or ledger code) and kept plain over fast: the books
// are counted from the data on each call, never kept beside it.
//
// A `MemoryDisk` stands in for the data dir: it holds each dir's store across close and reopen
// in this process (like a tmpfs), so seqs, counters, state and publishes outlive a reopen. It
// does not outlive the process, and has no file system to fill: the suite's `supports` flags
// say so. Values are stored as their cbor encoding (device/store/codec.ts), so `bytes` and the
// quota count what LevelDB counts and no caller object is shared with the store.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { decodeValue, encodeValue } from '../../device/store/codec.js'
import { decodePublish, encodePublish } from '../../device/store/publish-value.js'
import type { StoredRecord } from '../../device/store/codec.js'
import { Expiry } from '../../device/store/expiry.js'
import { resolveStoreOptions } from '../../device/store/options.js'
import type { StoreOptions } from '../../device/store/options.js'
import { OutboxStore } from '../../device/store/outbox-store.js'
import { newStreamId } from '../../device/store/stream-id.js'
import { RECORD_KINDS, emptyByKind } from '../../device/store/types.js'
import type { CommitResult, CommitUnit, OutboxRecord, PendingPublish, RecordKind, StoreStats } from '../../device/store/types.js'
import type { ResolvedRead } from '../../device/store/validate.js'

/** Pending publishes are dropped right after this kind: the rule of device/store/quota.ts, restated. */
const PUBLISH_DROP_AFTER: RecordKind = 'emit'

interface MemRecord { kind: RecordKind, value: Uint8Array }

/** One data dir's store: what LevelDB would hold on disk. */
interface Volume {
  /** By seq; Map order is insertion order, and seqs only grow, so it is seq order. */
  records: Map<number, MemRecord>
  state: Map<string, Uint8Array>
  /** By id, in id order for the same reason. */
  publishes: Map<number, Uint8Array>
  meta: Map<string, Uint8Array>
  lastSeq: number
  lastPublishId: number
  dropped: Record<RecordKind, number>
  expired: number
  droppedPublishes: number
  streamId: string
  /** An open store holds the dir, as LevelDB's LOCK file does. */
  locked: boolean
}

/** Where memory stores keep their data by dir; one per test file is plenty. */
export class MemoryDisk {
  readonly #volumes = new Map<string, Volume>()

  get (dir: string): Volume | undefined { return this.#volumes.get(dir) }

  create (dir: string): Volume {
    const v: Volume = {
      records: new Map(),
      state: new Map(),
      publishes: new Map(),
      meta: new Map(),
      lastSeq: 0,
      lastPublishId: 0,
      dropped: emptyByKind(() => 0),
      expired: 0,
      droppedPublishes: 0,
      streamId: newStreamId(),
      locked: false
    }
    this.#volumes.set(dir, v)
    return v
  }

  /** Forgets a dir, as removing it from a disk would. */
  remove (dir: string): void { this.#volumes.delete(dir) }
}

const DEFAULT_DISK = new MemoryDisk()

export class MemoryOutboxStore extends OutboxStore {
  readonly #opts: StoreOptions
  readonly #v: Volume
  readonly #expiry: Expiry
  #syncedSeq: number
  #dirty = false
  #syncTimer: unknown = null

  private constructor (opts: StoreOptions, v: Volume) {
    super()
    this.#opts = opts
    this.#v = v
    this.#expiry = new Expiry(opts.clock)
    this.#syncedSeq = v.lastSeq
  }

  /** Opens the store of `opts.dir` on `disk`, with the options and errors of LevelOutboxStore.open. */
  static async open (options: Partial<StoreOptions> & { dir: string }, disk = DEFAULT_DISK): Promise<MemoryOutboxStore> {
    const opts = resolveStoreOptions(options)
    let v = disk.get(opts.dir)
    if (v === undefined) {
      if (!opts.createIfMissing) throw new LambkinError(ErrorCodes.STORE_ERROR, `there is no outbox store in ${opts.dir}`, { details: { dir: opts.dir } })
      v = disk.create(opts.dir)
    }
    if (v.locked) throw new LambkinError(ErrorCodes.STORE_ERROR, `the outbox store in ${opts.dir} is open already`, { details: { dir: opts.dir, reason: 'locked' } })
    v.locked = true
    return new MemoryOutboxStore(opts, v)
  }

  protected _streamId (): string | undefined { return this.#v.streamId }

  protected async _commit (unit: CommitUnit): Promise<CommitResult> {
    const quota = this.#opts.quotaBytes
    // Everything is encoded and checked before anything is written: a refused unit leaves no trace.
    const records = (unit.records ?? []).map((r, i): MemRecord => {
      const stored: StoredRecord = { t: r.time, d: r.data }
      if (r.fn !== undefined) stored.f = r.fn
      const ttl = r.ttlMs ?? this.#opts.ttlMs[r.kind] ?? 0
      if (ttl > 0) Object.assign(stored, this.#expiry.stamp(ttl))
      const value = encodeValue(stored, `records[${i}].data`)
      if (value.length > quota) throw new LambkinError(ErrorCodes.STORE_FULL, `records[${i}] is ${value.length} bytes, more than the whole outbox quota of ${quota} bytes`, { details: { index: i, bytes: value.length, quotaBytes: quota } })
      return { kind: r.kind, value }
    })
    const publishes = (unit.publishes ?? []).map(encodePublish)
    const publishBytes = publishes.reduce((n, b) => n + b.length, 0)
    if (publishBytes > quota) throw new LambkinError(ErrorCodes.STORE_FULL, `the commit's publishes are ${publishBytes} bytes, more than the whole outbox quota of ${quota} bytes`, { details: { bytes: publishBytes, quotaBytes: quota } })
    const state = (unit.state ?? []).map((s) => [s.fn, s.value === null || s.value === undefined ? null : encodeValue(s.value, `state of ${s.fn}`)] as const)
    const meta = (unit.meta ?? []).map((m) => [m.key, m.value === null || m.value === undefined ? null : encodeValue(m.value, `meta ${m.key}`)] as const)

    const v = this.#v
    const seqs = records.map((r) => { v.records.set(++v.lastSeq, r); return v.lastSeq })
    const own = new Set<number>()
    const publishIds = publishes.map((b) => { v.publishes.set(++v.lastPublishId, b); own.add(v.lastPublishId); return v.lastPublishId })
    for (const [fn, value] of state) { if (value === null) v.state.delete(fn); else v.state.set(fn, value) }
    for (const [key, value] of meta) { if (value === null) v.meta.delete(key); else v.meta.set(key, value) }
    this.#fitQuota(own)
    this.#wrote()
    return { seqs, publishIds }
  }

  /** Drops the oldest records kind by kind (lowest priority first), publishes after emits, never the commit's own publishes. */
  #fitQuota (own: Set<number>): void {
    const v = this.#v
    let used = this.#recordBytes() + this.#publishBytes()
    const quota = this.#opts.quotaBytes
    for (const kind of RECORD_KINDS) {
      for (const [seq, r] of v.records) {
        if (used <= quota) return
        if (r.kind !== kind) continue
        v.records.delete(seq)
        v.dropped[kind]++
        used -= r.value.length
      }
      if (kind !== PUBLISH_DROP_AFTER) continue
      for (const [id, b] of v.publishes) {
        if (used <= quota) return
        if (own.has(id)) continue
        v.publishes.delete(id)
        v.droppedPublishes++
        used -= b.length
      }
    }
  }

  protected async _read ({ afterSeq, limit, kinds }: ResolvedRead): Promise<OutboxRecord[]> {
    const out: OutboxRecord[] = []
    for (const [seq, r] of this.#v.records) {
      if (out.length === limit) break
      if (seq <= afterSeq || (kinds !== null && !kinds.includes(r.kind))) continue
      const s = decodeValue(r.value, `record ${seq}`) as StoredRecord
      if (this.#expiry.expired(s)) {
        this.#v.records.delete(seq)
        this.#v.expired++
        this.#wrote()
        continue
      }
      const rec: OutboxRecord = { seq, kind: r.kind, time: s.t, data: s.d, bytes: r.value.length }
      if (s.f !== undefined) rec.fn = s.f
      if (s.x !== undefined) rec.expiresAt = s.x
      out.push(rec)
    }
    return out
  }

  protected async _ackThrough (seq: number): Promise<number> {
    let n = 0
    for (const s of this.#v.records.keys()) {
      if (s > seq) break
      this.#v.records.delete(s)
      n++
    }
    if (n > 0) this.#wrote()
    return n
  }

  protected async _delete (seqs: number[]): Promise<number> {
    let n = 0
    for (const s of seqs) if (this.#v.records.delete(s)) n++
    if (n > 0) this.#wrote()
    return n
  }

  protected async _stats (): Promise<StoreStats> {
    const v = this.#v
    const byKind = emptyByKind(() => ({ count: 0, bytes: 0 }))
    for (const r of v.records.values()) { byKind[r.kind].count++; byKind[r.kind].bytes += r.value.length }
    return {
      count: v.records.size,
      bytes: this.#recordBytes(),
      byKind,
      dropped: { ...v.dropped },
      expired: v.expired,
      lastSeq: v.lastSeq,
      syncedSeq: this.#syncedSeq,
      pendingPublishes: v.publishes.size,
      publishBytes: this.#publishBytes(),
      droppedPublishes: v.droppedPublishes
    }
  }

  protected async _getState (fn: string): Promise<unknown> {
    const b = this.#v.state.get(fn)
    return b === undefined ? undefined : decodeValue(b, `state of ${fn}`)
  }

  protected async _pendingPublishes (afterId: number, limit: number): Promise<PendingPublish[]> {
    const out: PendingPublish[] = []
    for (const [id, b] of this.#v.publishes) {
      if (out.length === limit) break
      if (id <= afterId) continue
      out.push({ id, ...decodePublish(b, `publish ${id}`) })
    }
    return out
  }

  protected async _removePublish (id: number): Promise<void> {
    if (this.#v.publishes.delete(id)) this.#wrote()
  }

  protected async _getMeta (key: string): Promise<unknown> {
    const b = this.#v.meta.get(key)
    return b === undefined ? undefined : decodeValue(b, `meta ${key}`)
  }

  protected async _metaEntries (prefix: string): Promise<Array<{ key: string, value: unknown }>> {
    return [...this.#v.meta].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([key, b]) => ({ key, value: decodeValue(b, `meta ${key}`) }))
  }

  protected async _flush (): Promise<void> {
    this.#sync()
  }

  protected async _close (): Promise<void> {
    this.#sync()
    this.#v.locked = false
  }

  #recordBytes (): number {
    let n = 0
    for (const r of this.#v.records.values()) n += r.value.length
    return n
  }

  #publishBytes (): number {
    let n = 0
    for (const b of this.#v.publishes.values()) n += b.length
    return n
  }

  /** Something changed: it counts as synced at the next sync tick, as LevelDB's writes do. */
  #wrote (): void {
    this.#dirty = true
    if (this.#syncTimer !== null) return
    const h = this.#opts.clock.setTimeout(() => { this.#syncTimer = null; this.#sync() }, this.#opts.syncIntervalMs)
    ;(h as { unref?: () => void } | null)?.unref?.()
    this.#syncTimer = h
  }

  #sync (): void {
    if (this.#syncTimer !== null) this.#opts.clock.clearTimeout(this.#syncTimer)
    this.#syncTimer = null
    if (!this.#dirty) return
    this.#dirty = false
    this.#syncedSeq = this.#v.lastSeq
  }
}
