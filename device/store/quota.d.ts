import type { RecordKind } from './types.js';
import type { Ledger } from './ledger.js';
import type { RecordKeyParts } from './keys.js';
export interface NewEntry {
    seq: number;
    kind: RecordKind;
    bytes: number;
    key: string;
    value: Uint8Array;
    dropped: boolean;
}
export interface StoredEntry extends RecordKeyParts {
    key: string;
}
/** Walks stored record keys in seq order from a seq; the store closes it when done. */
export type KeyScanner = (fromSeq: number) => AsyncGenerator<StoredEntry, void, undefined>;
export interface StoredPublish {
    id: number;
    bytes: number;
    key: string;
}
/** Walks stored publishes in id order from an id. */
export type PublishScanner = (fromId: number) => AsyncGenerator<StoredPublish, void, undefined>;
/**
 * Pending publishes are dropped right after this record kind, before results and dead
 * letters: a publish still waiting when the outbox is full has waited long, and the
 * invocation's result records that it was made. A commit's own publishes are never dropped.
 */
export declare const PUBLISH_DROP_AFTER: RecordKind;
export interface Victims {
    /** Stored records to delete in this batch. */
    stored: StoredEntry[];
    /** How many of the batch's own records were dropped (they are flagged in place). */
    fresh: number;
    /** Stored publishes to delete in this batch. */
    publishes: StoredPublish[];
}
/**
 * Updates `ledger` (a working copy that already counts `fresh`) until it fits `quotaBytes`.
 * `storedCount` is, per kind, how many records of that kind are in the database.
 */
export declare function selectVictims(ledger: Ledger, fresh: NewEntry[], storedCount: Record<RecordKind, number>, quotaBytes: number, scan: KeyScanner, scanPublishes: PublishScanner, storedPublishes: number): Promise<Victims>;
