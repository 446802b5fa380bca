/** Bytes of the event's JSON a dead letter keeps whole; above this it keeps a summary. */
export declare const DEAD_LETTER_EVENT_BYTES: number;
/**
 * An event too large to keep whole. `head` is the first `DEAD_LETTER_EVENT_BYTES` bytes of
 * the event's JSON (cut on a character boundary, so it is valid UTF-8 but not valid JSON);
 * `bytes` and `sha256` are of the whole JSON text, so the original can be matched if found.
 */
export interface TruncatedEvent {
    truncated: true;
    source: unknown;
    topic?: unknown;
    bytes: number;
    sha256: string;
    head: string;
}
/** The event as a dead letter stores it: unchanged up to the cap, a TruncatedEvent above. */
export declare function deadLetterEvent(event: Record<string, unknown>, capBytes?: number): Record<string, unknown> | TruncatedEvent;
