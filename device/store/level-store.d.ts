import type { StoreOptions } from './options.js';
import { OutboxStore } from './outbox-store.js';
import type { ResolvedRead } from './validate.js';
import type { CommitResult, CommitUnit, OutboxRecord, PendingPublish, StoreStats } from './types.js';
export type LevelStoreOptions = Partial<StoreOptions> & {
    dir: string;
};
export declare class LevelOutboxStore extends OutboxStore {
    #private;
    private constructor();
    static open(options: LevelStoreOptions): Promise<LevelOutboxStore>;
    protected _commit(unit: CommitUnit): Promise<CommitResult>;
    protected _read({ afterSeq, limit, kinds }: ResolvedRead): Promise<OutboxRecord[]>;
    protected _ackThrough(seq: number): Promise<number>;
    protected _delete(seqs: number[]): Promise<number>;
    protected _stats(): Promise<StoreStats>;
    protected _getState(fn: string): Promise<unknown>;
    protected _getMeta(key: string): Promise<unknown>;
    protected _pendingPublishes(afterId: number, limit: number): Promise<PendingPublish[]>;
    protected _removePublish(id: number): Promise<void>;
    protected _flush(): Promise<void>;
    protected _close(): Promise<void>;
}
