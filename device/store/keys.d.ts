import type { RecordKind } from './types.js';
export declare function seqKey(seq: number): string;
export declare function recordKey(seq: number, kind: RecordKind, bytes: number): string;
export interface RecordKeyParts {
    seq: number;
    kind: RecordKind;
    bytes: number;
}
export declare function parseRecordKey(key: string): RecordKeyParts;
/** Range options selecting the record keys of seqs in [from, to). */
export declare function seqRange(from: number, to?: number): {
    gte: string;
    lt?: string;
};
/**
 * Publish keys: the fixed-width id, then the encoded size in base 36, so the quota can count
 * pending publishes from keys alone. Stores written before publishes counted have bare ids.
 */
export declare function publishKey(id: number, bytes: number): string;
export interface PublishKeyParts {
    id: number;
    bytes: number | undefined;
}
export declare function parsePublishKey(key: string): PublishKeyParts;
