import type { RecordKind, StoreClock } from './types.js';
export interface StoreOptions {
    /** The agent's data dir; the LevelDB lives in it. */
    dir: string;
    /** Bytes of encoded records kept before the oldest low-priority ones are dropped. */
    quotaBytes: number;
    /** Per-kind time to live, counted from the commit; absent or 0 means kept until acked. */
    ttlMs: Partial<Record<RecordKind, number>>;
    /** How often written data is fsynced: a power cut loses at most this much. */
    syncIntervalMs: number;
    /** false: opening a dir with no store fails instead of creating one (the CLI viewer). */
    createIfMissing: boolean;
    clock: StoreClock;
}
export declare const SYSTEM_CLOCK: StoreClock;
export declare const STORE_DEFAULTS: Readonly<Omit<StoreOptions, 'dir'>>;
export declare const MAX_TTL_MS: number;
export declare function resolveStoreOptions(opts: Partial<StoreOptions> & {
    dir: string;
}): StoreOptions;
