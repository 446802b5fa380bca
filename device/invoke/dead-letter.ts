// What a dead letter keeps of the event that failed: all of it when small, else a bounded
// head with the full size and a sha256, so one oversized message cannot push the outbox over
// its quota and evict acknowledged results (the quota drops oldest results to make room).
import { createHash } from 'node:crypto'

/** Bytes of the event's JSON a dead letter keeps whole; above this it keeps a summary. */
export const DEAD_LETTER_EVENT_BYTES = 16 * 1024

/**
 * An event too large to keep whole. `head` is the first `DEAD_LETTER_EVENT_BYTES` bytes of
 * the event's JSON (cut on a character boundary, so it is valid UTF-8 but not valid JSON);
 * `bytes` and `sha256` are of the whole JSON text, so the original can be matched if found.
 */
export interface TruncatedEvent {
  truncated: true
  source: unknown
  topic?: unknown
  bytes: number
  sha256: string
  head: string
}

/** The event as a dead letter stores it: unchanged up to the cap, a TruncatedEvent above. */
export function deadLetterEvent (event: Record<string, unknown>, capBytes = DEAD_LETTER_EVENT_BYTES): Record<string, unknown> | TruncatedEvent {
  let json: string
  try {
    json = JSON.stringify(event) ?? 'null'
  } catch {
    // Events are built by triggers from plain data; a value JSON cannot hold is kept as text.
    json = String(event)
  }
  const bytes = Buffer.byteLength(json)
  if (bytes <= capBytes) return event
  const buf = Buffer.from(json)
  // Back off to a UTF-8 character start so the head decodes cleanly.
  let end = capBytes
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--
  const out: TruncatedEvent = {
    truncated: true,
    source: event.source,
    bytes,
    sha256: createHash('sha256').update(buf).digest('hex'),
    head: buf.subarray(0, end).toString('utf8')
  }
  if (event.topic !== undefined) out.topic = event.topic
  return out
}
