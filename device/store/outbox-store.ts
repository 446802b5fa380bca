// The outbox store interface (abstract-level style): public methods check arguments and the
// open/closed state, then call the protected _hooks a backend implements.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { checkName, checkSeq, checkSeqs, checkUnit, resolveRead } from './validate.js'
import type { ResolvedRead } from './validate.js'
import { encodeValue } from './codec.js'
import type { CommitResult, CommitUnit, EncodedRecord, OutboxRecord, PendingPublish, ReadOptions, StoreStats } from './types.js'

export type StoreStatus = 'open' | 'closing' | 'closed'

/** How commitThen() tells its outcome: `(undefined, result)` once written, `(err)` when not. */
export type CommitDone = (err: unknown, result?: CommitResult) => void

/** A unit with nothing to write: commit() settles it with no seqs and touches no backend. */
function isEmpty (unit: CommitUnit): boolean {
  return (unit.records?.length ?? 0) + (unit.state?.length ?? 0) + (unit.publishes?.length ?? 0) + (unit.meta?.length ?? 0) === 0
}

export abstract class OutboxStore {
  #status: StoreStatus = 'open'
  /** Calls in progress; close() lets them finish before the backend closes. */
  readonly #inflight = new Set<Promise<unknown>>()
  #closing: Promise<void> | null = null

  get status (): StoreStatus { return this.#status }

  /**
   * The outbox's stream id [W4], made at random with the store and kept with it; undefined for
   * the legacy stream of a store made before streams existed. Its batches and acks carry it.
   */
  get streamId (): string | undefined { return this._streamId() }

  /**
   * Writes one unit atomically: its records (each gets the next seq), function state
   * (null deletes), durable publishes (each gets the next id) and meta (null deletes).
   * Resolves once the write reached LevelDB (a killed process keeps it; a power cut may lose
   * the last sync interval). A record larger than the whole quota fails the unit with
   * LAMBKIN_STORE_FULL and nothing of it is written. Not async: the backend's promise is
   * handed back as it is (a promise and a resumption fewer per trigger message).
   * `queued`, if given, is called once the unit has passed the backend's own checks (encoding,
   * the quota's size check) and holds its place in the write queue: from then on it is written
   * in order with what was queued before it, and if it fails so does every unit queued after it
   * (a failed batch trips the store's fault). A backend without such a queue never calls it, so a
   * caller that waits for it also waits for the commit to settle (docs/durability.md).
   */
  commit (unit: CommitUnit, queued?: () => void): Promise<CommitResult> {
    return this.#queue(() => {
      checkUnit(unit)
      if (isEmpty(unit)) {
        return Promise.resolve({ seqs: [], publishIds: [] })
      }
      return this._commit(unit, queued)
    })
  }

  /**
   * commit() with its outcome told to `done` instead of a promise: `done(undefined, result)` once
   * written, `done(err)` with the error commit() would reject with. `done` is never called before
   * commitThen() returns. The invoker's path (one call per message): a backend with a write queue
   * tells `done` from its group commit, without a promise per unit (LevelDB's write lane).
   */
  commitThen (unit: CommitUnit, queued: (() => void) | undefined, done: CommitDone): void {
    if (this.#status !== 'open' || !this._closeAwaitsQueued) {
      this.commit(unit, queued).then((r) => { done(undefined, r) }, done)
      return
    }
    try {
      checkUnit(unit)
      if (isEmpty(unit)) {
        queueMicrotask(() => { done(undefined, { seqs: [], publishIds: [] }) })
        return
      }
      this._commitThen(unit, queued, done)
    } catch (err) {
      queueMicrotask(() => { done(err) })
    }
  }

  /** Buffered records with seq > afterSeq in seq order, skipping (and purging) expired ones. */
  async read (opts?: ReadOptions): Promise<OutboxRecord[]> {
    return await this.#call(() => this._read(resolveRead(opts)))
  }

  /**
   * read(), with each record's data as CBOR bytes (`dataCbor`) instead of a value: what the store
   * holds where the backend can hand it over without decoding (LevelDB), else encoded here.
   */
  async readEncoded (opts?: ReadOptions): Promise<EncodedRecord[]> {
    return await this.#call(() => this._readEncoded(resolveRead(opts)))
  }

  /** Deletes every record with seq <= seq (the cloud stored them). Resolves to how many went. */
  async ackThrough (seq: number): Promise<number> {
    return await this.#call(() => { checkSeq(seq, 'seq'); return this._ackThrough(seq) })
  }

  /** Deletes the given records; unknown seqs are ignored. Resolves to how many went. */
  async delete (seqs: number[]): Promise<number> {
    return await this.#call(() => { checkSeqs(seqs); return seqs.length === 0 ? Promise.resolve(0) : this._delete([...new Set(seqs)]) })
  }

  async stats (): Promise<StoreStats> {
    return await this.#call(() => this._stats())
  }

  /** A function's persisted ctx.state, or undefined if it has none. */
  async getState (fn: string): Promise<unknown> {
    return await this.#call(() => { checkName(fn, 'fn'); return this._getState(fn) })
  }

  /**
   * Publishes still waiting for the broker's PUBACK, in id order: those with id > `afterId`
   * (default 0), at most `limit` of them (default all), so a sender can page through a long
   * backlog without loading it whole.
   */
  async pendingPublishes (opts: { afterId?: number, limit?: number } = {}): Promise<PendingPublish[]> {
    return await this.#call(() => {
      const afterId = opts.afterId ?? 0
      const limit = opts.limit ?? Infinity
      checkSeq(afterId, 'afterId')
      if (limit !== Infinity) checkSeq(limit, 'limit')
      return this._pendingPublishes(afterId, limit)
    })
  }

  /** Removes an acknowledged publish. Not async, as commit(): the trigger link calls it once per PUBACK. */
  removePublish (id: number): Promise<void> {
    return this.#queue(() => { checkSeq(id, 'id'); return this._removePublish(id) })
  }

  /**
   * Removes acknowledged publishes, as removePublish() does each of them, in one call: a trigger
   * link hands over the PUBACKs of a socket read together, so the relay path pays one store call
   * (and one promise) per read rather than per publish. Unknown ids are skipped.
   */
  removePublishes (ids: readonly number[]): Promise<void> {
    return this.#queue(() => {
      for (const id of ids) checkSeq(id, 'id')
      return ids.length === 0 ? Promise.resolve() : this._removePublishes(ids)
    })
  }

  async getMeta (key: string): Promise<unknown> {
    return await this.#call(() => { checkName(key, 'key'); return this._getMeta(key) })
  }

  /** Every meta key starting with `prefix`, in key order, with its value (an owner's whole table). */
  async metaEntries (prefix: string): Promise<Array<{ key: string, value: unknown }>> {
    return await this.#call(() => { checkName(prefix, 'prefix'); return this._metaEntries(prefix) })
  }

  /** Forces everything written so far onto the disk (fsync) now. */
  async flush (): Promise<void> {
    return await this.#call(() => this._flush())
  }

  /** Lets calls in progress finish, flushes, and closes. Safe to call twice. */
  async close (): Promise<void> {
    if (this.#closing !== null) return await this.#closing
    this.#status = 'closing'
    this.#closing = (async () => {
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
      try {
        await this._close()
      } finally {
        this.#status = 'closed'
      }
    })()
    return await this.#closing
  }

  #call<T> (fn: () => Promise<T>): Promise<T> {
    if (this.#status !== 'open') {
      return Promise.reject(new LambkinError(ErrorCodes.CLOSED, `the outbox store is ${this.#status}; open it again before using it`, { details: { status: this.#status } }))
    }
    let p: Promise<T>
    try {
      p = fn()
    } catch (err) {
      return Promise.reject(err)
    }
    this.#inflight.add(p)
    const done = (): void => { this.#inflight.delete(p) }
    p.then(done, done)
    return p
  }

  /**
   * #call for a write the backend queues before returning (commit, removePublish(s)): when its
   * _close() waits for every write queued before it (_closeAwaitsQueued), close() need not track
   * it, and the relay path saves a then() and a Set entry per message (docs/performance.md, "The
   * relay job"). A backend without that promise is tracked as before.
   */
  #queue<T> (fn: () => Promise<T>): Promise<T> {
    if (!this._closeAwaitsQueued) return this.#call(fn)
    if (this.#status !== 'open') return this.#call(fn)
    try {
      return fn()
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * True when the backend's _commit() and _removePublish(s)() put their write in a queue before
   * they return and _close() settles everything queued before it (LevelDB's write lane).
   */
  protected get _closeAwaitsQueued (): boolean { return false }

  protected abstract _streamId (): string | undefined
  /**
   * Backend's commitThen(): _commit() told to `done` (a backend with a write queue overrides it).
   * A throw is commitThen()'s `done(err)`; `done` must not be called before it returns.
   */
  protected _commitThen (unit: CommitUnit, queued: (() => void) | undefined, done: CommitDone): void {
    this._commit(unit, queued).then((r) => { done(undefined, r) }, done)
  }

  /** Backend's commit(); calls `queued` (if it has a write queue) once the unit holds its place in it. */
  protected abstract _commit (unit: CommitUnit, queued?: () => void): Promise<CommitResult>
  /** A backend that holds data encoded overrides this to skip the decode and encode. */
  protected async _readEncoded (r: ResolvedRead): Promise<EncodedRecord[]> {
    return (await this._read(r)).map(({ data, ...rest }) => ({ ...rest, dataCbor: encodeValue(data, `record ${rest.seq}`) }))
  }

  protected abstract _read (opts: ResolvedRead): Promise<OutboxRecord[]>
  protected abstract _ackThrough (seq: number): Promise<number>
  protected abstract _delete (seqs: number[]): Promise<number>
  protected abstract _stats (): Promise<StoreStats>
  protected abstract _getState (fn: string): Promise<unknown>
  protected abstract _pendingPublishes (afterId: number, limit: number): Promise<PendingPublish[]>
  protected abstract _removePublish (id: number): Promise<void>
  /** A backend that can remove several in one write overrides this; by default one _removePublish each. */
  protected async _removePublishes (ids: readonly number[]): Promise<void> {
    await Promise.all(ids.map(async (id) => await this._removePublish(id)))
  }
  protected abstract _getMeta (key: string): Promise<unknown>
  protected abstract _metaEntries (prefix: string): Promise<Array<{ key: string, value: unknown }>>
  protected abstract _flush (): Promise<void>
  protected abstract _close (): Promise<void>
}
