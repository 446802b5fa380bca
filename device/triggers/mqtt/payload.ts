// How an MQTT trigger's payload bytes become the event's `payload` (or `payloadBase64`), or
// are refused with a code when they cannot (the trigger's `payload` format).
import { isUtf8 } from 'node:buffer'
import { ErrorCodes, errorMessage } from '../../../src/errors.js'
import type { MqttPayloadFormat } from '../../../src/function/index.js'

/**
 * Deepest JSON nesting (arrays and objects) a payload may have. The event crosses V8's
 * JSON.stringify, the store's CBOR encoder and QuickJS's JSON.parse, all recursive: 5,000
 * levels broke the first two and crash a sandbox, 512 levels parse at the smallest stackKiB
 * (16). Half of that leaves room for the event around the payload and the handler's own frames.
 */
export const MAX_PAYLOAD_DEPTH = 256

/** Bytes of a refused payload a dead letter keeps (as base64), so a flood cannot fill the outbox. */
export const REFUSED_PREVIEW_BYTES = 1024

/** The event's payload part: `payload` (JSON value or text) or, for bytes, `payloadBase64`. */
export type DecodedPayload = { payload: unknown } | { payloadBase64: string }

/** Why a payload cannot reach the function; becomes a dead letter with this code. */
export interface PayloadRefusal { code: string, message: string, details: Record<string, unknown> }

/**
 * Turns a message's bytes into the event's payload part per the trigger's `payload` format:
 * - `auto`: valid UTF-8 that parses as JSON gives the value, other valid UTF-8 the text, and
 *   bytes that are not UTF-8 `payloadBase64` (so nothing is replaced with U+FFFD);
 * - `json`: the JSON value; anything else is refused with LAMBKIN_PAYLOAD_INVALID;
 * - `text`: the UTF-8 text; bytes that are not valid UTF-8 are refused with LAMBKIN_PAYLOAD_INVALID;
 * - `bytes`: always `payloadBase64` (RFC 4648 section 4, with padding).
 * JSON nested deeper than MAX_PAYLOAD_DEPTH is refused with LAMBKIN_INPUT_LIMIT in `auto` and
 * `json` (ask for `text` or `bytes` to take it as it is). Never throws.
 */
export function decodePayload (payload: Buffer, format: MqttPayloadFormat = 'auto'): DecodedPayload | PayloadRefusal {
  if (format === 'bytes') return { payloadBase64: payload.toString('base64') }
  if (!isUtf8(payload)) {
    if (format === 'auto') return { payloadBase64: payload.toString('base64') }
    return invalid(`the payload is not valid UTF-8, but the trigger asks for ${format}; use "payload": "bytes" to receive it as base64`, format)
  }
  const text = payload.toString('utf8')
  if (format === 'text') return { payload: text }
  let value: unknown
  try {
    // V8's JSON.parse is not recursive (100,000 levels parse); the depth is checked after.
    value = JSON.parse(text)
  } catch (err) {
    if (format === 'auto') return { payload: text }
    return invalid(`the payload is not JSON (${errorMessage(err)}), but the trigger asks for json; use "payload": "auto" or "text" to receive it as text`, format)
  }
  // Nesting needs one byte per level, so a short payload cannot be too deep.
  if (payload.length > MAX_PAYLOAD_DEPTH && jsonDepth(payload) > MAX_PAYLOAD_DEPTH) {
    return {
      code: ErrorCodes.INPUT_LIMIT,
      message: `the payload's JSON is nested deeper than ${MAX_PAYLOAD_DEPTH} levels; use "payload": "text" or "bytes" to receive it undecoded`,
      details: { limit: 'payloadDepth', max: MAX_PAYLOAD_DEPTH }
    }
  }
  return { payload: value }
}

export function isRefusal (d: DecodedPayload | PayloadRefusal): d is PayloadRefusal {
  return 'code' in d
}

function invalid (message: string, format: MqttPayloadFormat): PayloadRefusal {
  return { code: ErrorCodes.PAYLOAD_INVALID, message, details: { payloadFormat: format } }
}

/**
 * The deepest array/object nesting of a valid JSON text, scanned as bytes: `"`, `\`, `[`, `{`
 * are ASCII and never part of a multi-byte UTF-8 sequence. Stops counting past the limit.
 */
function jsonDepth (bytes: Buffer): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (inString) {
      if (b === 0x5c) i++ // backslash: skip the escaped byte
      else if (b === 0x22) inString = false
    } else if (b === 0x22) {
      inString = true
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > max && (max = depth) > MAX_PAYLOAD_DEPTH) return max
    } else if (b === 0x5d || b === 0x7d) {
      depth--
    }
  }
  return max
}
