// The LevelDB backend of the outbox store: one database per data dir, a single writer lane
// with group commit, and an fsync on a timer (docs/architecture.md, "Durability").
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { StoreFault, probeDisk } from '../../src/store-fault.js'
import { decodeValue, encodeValue } from './codec.js'
import type { StoredRecord } from './codec.js'
import { parsePublishKey, seqKey } from './keys.js'
import { decodePublish } from './publish-value.js'
import { encodeUnit } from './encode-unit.js'
import type { RecordKeyParts } from './keys.js'
import { splitRecord } from './record-value.js'
import { SYS_COUNTERS, SYS_SYNCED, loadLedger, openDb, storePath } from './level-open.js'
import type { Db, Sublevels } from './level-open.js'
import { encodeCounters, planAck, planCommits, planDelete, planPurge, planUnpublish, scanKeys, scanPublishes, skipping } from './level-plan.js'
import type { EncodedUnit, PlanContext } from './level-plan.js'
import { resolveStoreOptions } from './options.js'
import type { StoreOptions } from './options.js'
import { OutboxStore } from './outbox-store.js'
import type { CommitDone } from './outbox-store.js'
import { PublishKeys } from './publish-keys.js'
import { loadStreamId } from './stream-id.js'
import type { KeyScanner, PublishScanner } from './quota.js'
import { WriteLane } from './write-lane.js'
import type { LaneDone } from './write-lane.js'
import { Expiry } from './expiry.js'
import { reopenVerified } from './level-recover.js'
import { scanRecords } from './level-read.js'
import { storeError, writeOps } from './level-write.js'
import type { Ledger } from './ledger.js'
import { ReadRun } from './read-run.js'
import type { ResolvedRead } from './validate.js'
import { RECORD_KINDS, emptyByKind } from './types.js'
import type { CommitResult, CommitUnit, EncodedRecord, OutboxRecord, PendingPublish, StoreStats } from './types.js'

type Job =
  | { type: 'commit', unit: EncodedUnit }
  | { type: 'ack', seq: number }
  | { type: 'delete', seqs: number[] }
  | { type: 'purge', keys: string[] }
  | { type: 'unpublish', ids: readonly number[] }
  | { type: 'sync' }

type JobResult = CommitResult | number

export type LevelStoreOptions = Partial<StoreOptions> & { dir: string }

export class LevelOutboxStore extends OutboxStore {
  readonly #opts: StoreOptions
  #db: Db
  #subs: Sublevels
  #ledger: Ledger
  readonly #lane: WriteLane<Job, JobResult>
  /** Something was written since the last fsync. */
  #dirty = false
  #syncedSeq: number
  #syncTimer: unknown = null
  #shuttingDown = false
  readonly #streamId: string | undefined
  #publishKeys = new PublishKeys()
  /** Set by a failed write: nothing more is taken until reopened and verified (src/store-fault.ts). */
  readonly #fault: StoreFault
  #recovering: Promise<unknown> | undefined
  /** A group of commits failed while closing, when the fault trips no more: no later commit is written. */
  #failedClosing: LambkinError | undefined
  /** TTLs on a clock that does not jump (expiry.ts). */
  readonly #expiry: Expiry
  /** The keys the last reads walked, so their ack need not walk them again (read-run.ts). */
  readonly #run = new ReadRun()

  private constructor (opts: StoreOptions, db: Db, subs: Sublevels, ledger: Ledger, streamId: string | undefined) {
    super()
    this.#opts = opts
    this.#streamId = streamId
    this.#db = db
    this.#subs = subs
    this.#ledger = ledger
    // Whatever was on disk at open is as durable as it is going to get.
    this.#syncedSeq = ledger.lastSeq
    this.#expiry = new Expiry(opts.clock)
    this.#fault = new StoreFault({ what: `the outbox store in ${opts.dir}`, clock: opts.clock, recover: async () => await this.#recover(), onEvent: opts.onFault })
    this.#lane = new WriteLane<Job, JobResult>(async (jobs) => await this.#write(jobs))
  }

  static async open (options: LevelStoreOptions): Promise<LevelOutboxStore> {
    const opts = resolveStoreOptions(options)
    const { db, subs } = await openDb(opts.dir, opts.createIfMissing, opts.writeBufferKiB)
    try {
      const ledger = await loadLedger(db, subs)
      return new LevelOutboxStore(opts, db, subs, ledger, await loadStreamId(db, subs, ledger))
    } catch (err) {
      await db.close()
      throw err instanceof LambkinError ? err : storeError(err, `reading the outbox store in ${opts.dir}`)
    }
  }

  protected _streamId (): string | undefined {
    return this.#streamId
  }

  /**
   * Encodes the unit and queues it for the next group commit, then calls `queued`; a throw here
   * (LAMBKIN_STORE_FULL) becomes commit()'s rejection and `queued` is not called.
   */
  protected _commit (unit: CommitUnit, queued?: () => void): Promise<CommitResult> {
    const written = this.#lane.push({ type: 'commit', unit: encodeUnit(unit, this.#opts, this.#expiry) }, true) as Promise<CommitResult>
    queued?.()
    return written
  }

  /** _commit with the outcome told to `done` from the lane (no promise per commit). */
  protected override _commitThen (unit: CommitUnit, queued: (() => void) | undefined, done: CommitDone): void {
    this.#lane.pushThen({ type: 'commit', unit: encodeUnit(unit, this.#opts, this.#expiry) }, true, done as LaneDone<JobResult>)
    queued?.()
  }

  protected async _read (r: ResolvedRead): Promise<OutboxRecord[]> {
    return await this.#scanRecords(r, (k, value) => {
      const v = decodeValue(value, `record ${k.seq}`) as StoredRecord
      if (this.#expiry.expired(v)) return undefined
      const rec: OutboxRecord = { seq: k.seq, kind: k.kind, time: v.t, data: v.d, bytes: k.bytes }
      if (v.f !== undefined) rec.fn = v.f
      if (v.x !== undefined) rec.expiresAt = v.x
      return rec
    })
  }

  /** The data's bytes are cut out of the stored value (record-value.ts): no decode on a drain. */
  protected override async _readEncoded (r: ResolvedRead): Promise<EncodedRecord[]> {
    return await this.#scanRecords(r, (k, value) => {
      let v = splitRecord(value)
      if (v === undefined) {
        const d = decodeValue(value, `record ${k.seq}`) as StoredRecord
        v = { ...d, d: encodeValue(d.d, `record ${k.seq}`) }
      }
      if (this.#expiry.expired(v)) return undefined
      const rec: EncodedRecord = { seq: k.seq, kind: k.kind, time: v.t, dataCbor: v.d, bytes: k.bytes }
      if (v.f !== undefined) rec.fn = v.f
      if (v.x !== undefined) rec.expiresAt = v.x
      return rec
    })
  }

  /** Up to `limit` records after `afterSeq` (level-read.ts); expired ones are purged here. */
  async #scanRecords<T> (r: ResolvedRead, make: (k: RecordKeyParts, value: Uint8Array) => T | undefined): Promise<T[]> {
    this.#fault.check()
    const books = { removals: this.#ledger.removals, lastSeq: this.#ledger.lastSeq }
    const { out, expired, seen } = await scanRecords(this.#db, this.#subs.records.prefix, r, make)
    if (seen !== undefined) this.#run.record(r.afterSeq + 1, books, seen.seqs, seen.kinds, seen.bytes)
    if (expired.length > 0) await this.#lane.push({ type: 'purge', keys: expired }, false)
    return out
  }

  protected async _ackThrough (seq: number): Promise<number> {
    return await this.#lane.push({ type: 'ack', seq }, false) as number
  }

  protected async _delete (seqs: number[]): Promise<number> {
    return await this.#lane.push({ type: 'delete', seqs }, false) as number
  }

  protected async _stats (): Promise<StoreStats> {
    const l = this.#ledger
    const byKind = emptyByKind(() => ({ count: 0, bytes: 0 }))
    for (const k of RECORD_KINDS) byKind[k] = { ...l.tally[k] }
    return {
      count: l.totalCount(),
      bytes: l.totalBytes(),
      byKind,
      dropped: { ...l.dropped },
      expired: l.expired,
      lastSeq: l.lastSeq,
      syncedSeq: this.#syncedSeq,
      pendingPublishes: l.publishes.count,
      publishBytes: l.publishes.bytes,
      droppedPublishes: l.droppedPublishes,
      ...(this.#fault.faulted ? { fault: this.#fault.state } : {})
    }
  }

  protected async _getState (fn: string): Promise<unknown> {
    this.#fault.check()
    return await this.#getDecoded(this.#subs.state.get(fn), `state of ${fn}`)
  }

  protected async _getMeta (key: string): Promise<unknown> {
    this.#fault.check()
    return await this.#getDecoded(this.#subs.meta.get(key), `meta ${key}`)
  }

  protected async _metaEntries (prefix: string): Promise<Array<{ key: string, value: unknown }>> {
    this.#fault.check()
    const out: Array<{ key: string, value: unknown }> = []
    try {
      // '\uffff' sorts after every character a key holds.
      for await (const [key, value] of this.#subs.meta.iterator({ gte: prefix, lt: `${prefix}\uffff` })) out.push({ key, value: decodeValue(value, `meta ${key}`) })
    } catch (err) {
      throw err instanceof LambkinError ? err : storeError(err, 'reading meta')
    }
    return out
  }

  protected async _pendingPublishes (afterId: number, limit: number): Promise<PendingPublish[]> {
    this.#fault.check()
    const out: PendingPublish[] = []
    // Keys are the padded id plus a size suffix, so "after id" starts at the next id's prefix.
    const range = { gte: seqKey(afterId + 1), ...(limit === Infinity ? {} : { limit }) }
    try {
      for await (const [key, value] of this.#subs.publishes.iterator(range)) {
        out.push({ id: parsePublishKey(key).id, ...decodePublish(value, `publish ${key}`) })
      }
    } catch (err) {
      throw err instanceof LambkinError ? err : storeError(err, 'reading pending publishes')
    }
    return out
  }

  /**
   * Joins the next group commit (write-lane.ts) rather than taking a write of its own: under
   * load every PUBACK removes a publish, and one batch each kept commits waiting behind them.
   */
  protected _removePublish (id: number): Promise<void> {
    // Lazy: a removal rides with the next commit instead of a LevelDB write of its own (at a
    // message at a time, one write per message fewer). Until it is written a restart sends
    // the publish again, as it would after a kill between the PUBACK and the removal.
    return this._removePublishes([id])
  }

  /** _removePublish's lazy job for several publishes at once: one lane job, one promise. */
  protected override _removePublishes (ids: readonly number[]): Promise<void> {
    return this.#lane.push({ type: 'unpublish', ids }, true, true) as Promise<unknown> as Promise<void>
  }

  protected async _flush (): Promise<void> {
    this.#cancelSyncTimer()
    await this.#lane.push({ type: 'sync' }, false)
  }

  /** _commit and _removePublishes push onto the lane before returning, and _close waits for the lane. */
  protected override get _closeAwaitsQueued (): boolean { return true }
  protected async _close (): Promise<void> {
    this.#shuttingDown = true
    this.#cancelSyncTimer()
    this.#fault.close()
    try {
      await this.#recovering
      await this.#lane.idle()
      if (this.#dirty && !this.#fault.faulted) await this.#lane.push({ type: 'sync' }, false)
    } finally {
      await this.#db.close()
    }
  }

  /**
   * src/store-fault.ts's reopen: once no write is in flight, close the database, open it again
   * and verify it (level-recover.ts), then go on from the books it was verified with.
   */
  async #recover (): Promise<string | undefined> {
    const run = (async () => {
      await this.#lane.idle()
      probeDisk(storePath(this.#opts.dir))
      this.#cancelSyncTimer()
      await this.#db.close().catch(() => {})
      const r = await reopenVerified(this.#opts.dir, this.#ledger, this.#opts.clock.now(), this.#opts.writeBufferKiB)
      // A read begun before the reopen must not match the new books (read-run.ts).
      r.ledger.removals = this.#ledger.removals + 1
      ;[this.#db, this.#subs, this.#ledger] = [r.db, r.subs, r.ledger]
      this.#publishKeys = new PublishKeys()
      this.#run.clear()
      this.#dirty = false
      this.#syncedSeq = r.ledger.lastSeq
      return r.lost
    })()
    this.#recovering = run.catch(() => {})
    return await run
  }

  async #getDecoded (pending: Promise<Uint8Array | undefined>, what: string): Promise<unknown> {
    let bytes: Uint8Array | undefined
    try {
      bytes = await pending
    } catch (err) {
      throw storeError(err, `reading ${what}`)
    }
    return bytes === undefined ? undefined : decodeValue(bytes, what)
  }

  /** The lane's runner: one group of jobs becomes one db.batch. */
  async #write (jobs: Job[]): Promise<JobResult[]> {
    this.#fault.check()
    if (this.#failedClosing !== undefined && jobs.some((j) => j.type === 'commit')) throw this.#failedClosing
    const first = jobs[0]
    const ctx: PlanContext = {
      subs: this.#subs,
      ledger: this.#ledger.clone(),
      ops: [],
      clears: [],
      quotaBytes: this.#opts.quotaBytes,
      scan: this.#scan,
      scanPublishes: this.#scanPublishes,
      run: this.#run
    }
    try {
      if (first.type === 'sync') {
        if (!this.#dirty) return [0]
        ctx.ops.push({ type: 'put', sublevel: this.#subs.sys, key: SYS_SYNCED, value: encodeValue(this.#opts.clock.now(), 'sync time') })
        const seq = ctx.ledger.lastSeq
        await writeOps(this.#db, ctx.ops, true)
        this.#syncedSeq = seq
        this.#dirty = false
        return [0]
      }
      let results: JobResult[]
      if (first.type === 'commit' || first.type === 'unpublish') results = await this.#planGroup(ctx, jobs)
      else if (first.type === 'ack') results = [await planAck(ctx, first.seq)]
      else if (first.type === 'delete') results = [await planDelete(ctx, first.seqs)]
      else results = [await planPurge(ctx, first.keys)]
      // A commit always writes: even if quota dropped all its records, their seqs and the drops count.
      if (ctx.ops.length === 0 && ctx.clears.length === 0 && !jobs.some((j) => j.type === 'commit')) return results
      ctx.ops.push(encodeCounters(ctx, SYS_COUNTERS))
      await writeOps(this.#db, ctx.ops, false)
      this.#ledger = ctx.ledger
      for (const c of ctx.clears) await c.sublevel.clear({ gte: c.gte, lt: c.lt })
      for (const op of ctx.ops) {
        if (op.sublevel !== this.#subs.publishes) continue
        const { id } = parsePublishKey(op.key)
        if (op.type === 'put') this.#publishKeys.written(id, op.key, op.value.length)
        else this.#publishKeys.deleted(id)
      }
      this.#dirty = true
      this.#armSyncTimer()
      return results
    } catch (err) {
      // A failed group of commits trips the fault whatever failed, so the groups queued after it
      // fail too (commit()'s `queued`: a later unit may hold a state built on this one's).
      const commits = jobs.some((j) => j.type === 'commit')
      if (err instanceof LambkinError && (err.code === ErrorCodes.STORE_FAULT || !commits)) throw err
      // LevelDB failed a write or a read for one: its log may end torn (src/store-fault.ts).
      this.#fault.trip(err)
      const failure = err instanceof LambkinError ? err : storeError(err, 'writing to the outbox store')
      // Closing, the fault trips no more: the groups queued after this one fail all the same.
      if (commits && !this.#fault.faulted) this.#failedClosing = failure
      throw failure
    }
  }

  /**
   * A group of commits and removals of acknowledged publishes, in one batch. Removals are
   * planned first and kept from the quota pass, so a publish is never taken off the books twice.
   */
  async #planGroup (ctx: PlanContext, jobs: Job[]): Promise<JobResult[]> {
    const ids = jobs.flatMap((j) => j.type === 'unpublish' ? j.ids : [])
    const removed = ids.length === 0 ? new Set<number>() : await planUnpublish(ctx, ids, this.#publishKeys)
    const units = jobs.flatMap((j) => j.type === 'commit' ? [j.unit] : [])
    const committed = units.length === 0 ? [] : await planCommits({ ...ctx, scanPublishes: skipping(ctx.scanPublishes, removed) }, units)
    let c = 0
    return jobs.map((j) => j.type === 'commit' ? committed[c++] : j.type === 'unpublish' ? countRemoved(j.ids, removed) : 0)
  }

  readonly #scan: KeyScanner = (from) => scanKeys(this.#subs.records, from)
  readonly #scanPublishes: PublishScanner = (from) => scanPublishes(this.#subs.publishes, from)

  #armSyncTimer (): void {
    if (this.#syncTimer !== null || this.#shuttingDown) return
    const h = this.#opts.clock.setTimeout(() => {
      this.#syncTimer = null
      if (this.#shuttingDown || !this.#dirty) return
      // A failed fsync leaves #dirty set: the next write re-arms, flush() and close() retry and report it.
      this.#lane.push({ type: 'sync' }, false).catch(() => {})
    }, this.#opts.syncIntervalMs)
    ;(h as { unref?: () => void } | null)?.unref?.()
    this.#syncTimer = h
  }

  #cancelSyncTimer (): void {
    if (this.#syncTimer === null) return
    this.#opts.clock.clearTimeout(this.#syncTimer)
    this.#syncTimer = null
  }
}

/** How many of `ids` the group removed (a lane job's result for a removal). */
function countRemoved (ids: readonly number[], removed: ReadonlySet<number>): number {
  let n = 0
  for (const id of ids) if (removed.has(id)) n++
  return n
}
