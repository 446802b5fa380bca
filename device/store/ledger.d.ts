import type { KindStats, RecordKind } from './types.js';
/** The part persisted with every batch, so seqs never repeat and counters survive restarts. */
export interface PersistedCounters {
    lastSeq: number;
    lastPublishId: number;
    dropped: Record<RecordKind, number>;
    expired: number;
    /** QoS 1 publishes dropped to stay under the quota (they never reached their broker). */
    droppedPublishes: number;
}
export declare class Ledger {
    tally: Record<RecordKind, KindStats>;
    lastSeq: number;
    lastPublishId: number;
    dropped: Record<RecordKind, number>;
    expired: number;
    /** Publishes waiting for their broker's PUBACK: they count against the quota too. */
    publishes: KindStats;
    droppedPublishes: number;
    /** The lowest publish id that may still be stored (quota scans start here). */
    publishCursor: number;
    /** Per kind, the lowest seq that may still hold a record of that kind (quota scans start here). */
    cursor: Record<RecordKind, number>;
    clone(): Ledger;
    add(kind: RecordKind, bytes: number): void;
    remove(kind: RecordKind, bytes: number): void;
    /** Bytes of records (what `stats().bytes` reports). */
    totalBytes(): number;
    /** What the quota counts: records and pending publishes. */
    quotaBytes(): number;
    totalCount(): number;
    counters(): PersistedCounters;
    /** Takes persisted counters, tolerating missing fields from an older or empty store. */
    restore(c: Partial<PersistedCounters> | undefined): void;
}
