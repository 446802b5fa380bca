import type { ResolvedRead } from './validate.js';
import type { CommitResult, CommitUnit, OutboxRecord, PendingPublish, ReadOptions, StoreStats } from './types.js';
export type StoreStatus = 'open' | 'closing' | 'closed';
export declare abstract class OutboxStore {
    #private;
    get status(): StoreStatus;
    /**
     * Writes one unit atomically: its records (each gets the next seq), function state
     * (null deletes), durable publishes (each gets the next id) and meta (null deletes).
     * Resolves once the write reached LevelDB (a killed process keeps it; a power cut may lose
     * the last sync interval). A record larger than the whole quota fails the unit with
     * LAMBKIN_STORE_FULL and nothing of it is written.
     */
    commit(unit: CommitUnit): Promise<CommitResult>;
    /** Buffered records with seq > afterSeq in seq order, skipping (and purging) expired ones. */
    read(opts?: ReadOptions): Promise<OutboxRecord[]>;
    /** Deletes every record with seq <= seq (the cloud stored them). Resolves to how many went. */
    ackThrough(seq: number): Promise<number>;
    /** Deletes the given records; unknown seqs are ignored. Resolves to how many went. */
    delete(seqs: number[]): Promise<number>;
    stats(): Promise<StoreStats>;
    /** A function's persisted ctx.state, or undefined if it has none. */
    getState(fn: string): Promise<unknown>;
    /**
     * Publishes still waiting for the broker's PUBACK, in id order: those with id > `afterId`
     * (default 0), at most `limit` of them (default all), so a sender can page through a long
     * backlog without loading it whole.
     */
    pendingPublishes(opts?: {
        afterId?: number;
        limit?: number;
    }): Promise<PendingPublish[]>;
    removePublish(id: number): Promise<void>;
    getMeta(key: string): Promise<unknown>;
    /** Forces everything written so far onto the disk (fsync) now. */
    flush(): Promise<void>;
    /** Lets calls in progress finish, flushes, and closes. Safe to call twice. */
    close(): Promise<void>;
    protected abstract _commit(unit: CommitUnit): Promise<CommitResult>;
    protected abstract _read(opts: ResolvedRead): Promise<OutboxRecord[]>;
    protected abstract _ackThrough(seq: number): Promise<number>;
    protected abstract _delete(seqs: number[]): Promise<number>;
    protected abstract _stats(): Promise<StoreStats>;
    protected abstract _getState(fn: string): Promise<unknown>;
    protected abstract _pendingPublishes(afterId: number, limit: number): Promise<PendingPublish[]>;
    protected abstract _removePublish(id: number): Promise<void>;
    protected abstract _getMeta(key: string): Promise<unknown>;
    protected abstract _flush(): Promise<void>;
    protected abstract _close(): Promise<void>;
}
