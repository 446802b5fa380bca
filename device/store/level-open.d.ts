import { Level } from 'level';
import type { AbstractSublevel } from 'abstract-level';
import { Ledger } from './ledger.js';
export type Db = Level<string, Uint8Array>;
export type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Uint8Array>;
export interface Sublevels {
    /** Outbox records by recordKey (seq + kind + size). */
    records: Sub;
    /** ctx.state per function name. */
    state: Sub;
    /** Durable publishes by zero-padded id. */
    publishes: Sub;
    /** The embedder's meta (schedule last-runs, ...). */
    meta: Sub;
    /** Our own bookkeeping: counters, format, last sync. */
    sys: Sub;
}
export declare const FORMAT = 1;
export declare const SYS_COUNTERS = "counters";
export declare const SYS_FORMAT = "format";
export declare const SYS_SYNCED = "synced-at";
/** The store lives in a folder of its own so the data dir can hold other things. */
export declare function storePath(dir: string): string;
export declare function openDb(dir: string, createIfMissing: boolean): Promise<{
    db: Db;
    subs: Sublevels;
}>;
/** Reads the counters and rebuilds per-kind totals and the publish count from keys alone. */
export declare function loadLedger(db: Db, subs: Sublevels): Promise<Ledger>;
