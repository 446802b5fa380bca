export declare function encodeValue(value: unknown, what: string): Uint8Array;
export declare function decodeValue(bytes: Uint8Array, what: string): unknown;
/** A stored outbox record's value; the kind and size live in its key. */
export interface StoredRecord {
    /** time */
    t: number;
    /** data */
    d: unknown;
    /** fn */
    f?: string;
    /** expiresAt */
    x?: number;
}
