import type { Ledger } from './ledger.js';
import type { KeyScanner, PublishScanner, StoredEntry, StoredPublish } from './quota.js';
import type { Sub, Sublevels } from './level-open.js';
import type { CommitResult, RecordKind } from './types.js';
export type Op = {
    type: 'put';
    sublevel: Sub;
    key: string;
    value: Uint8Array;
} | {
    type: 'del';
    sublevel: Sub;
    key: string;
};
/** A commit unit after encoding, so nothing in the lane can fail on a caller's value. */
export interface EncodedUnit {
    records: Array<{
        kind: RecordKind;
        value: Uint8Array;
    }>;
    state: Array<{
        fn: string;
        value: Uint8Array | null;
    }>;
    publishes: Uint8Array[];
    meta: Array<{
        key: string;
        value: Uint8Array | null;
    }>;
}
export interface PlanContext {
    subs: Sublevels;
    ledger: Ledger;
    ops: Op[];
    quotaBytes: number;
    scan: KeyScanner;
    scanPublishes: PublishScanner;
}
export declare function planCommits(ctx: PlanContext, units: EncodedUnit[]): Promise<CommitResult[]>;
export declare function planAck(ctx: PlanContext, seq: number): Promise<number>;
export declare function planDelete(ctx: PlanContext, seqs: number[]): Promise<number>;
/** Expired records found by a read; some may have been acked or deleted since. */
export declare function planPurge(ctx: PlanContext, keys: string[]): Promise<number>;
export declare function planUnpublish(ctx: PlanContext, id: number): Promise<number>;
export declare function encodeCounters(ctx: PlanContext, key: string): Op;
/** Stored record keys in seq order from a seq, read in chunks; closes its iterator when left. */
export declare function scanKeys(records: Sub, fromSeq: number): AsyncGenerator<StoredEntry, void, undefined>;
/** Stored publishes in id order from an id, with their sizes (read from old-style values). */
export declare function scanPublishes(publishes: Sub, fromId: number): AsyncGenerator<StoredPublish, void, undefined>;
