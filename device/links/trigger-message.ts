// What a trigger link hands the agent for each message it takes, whichever broker it came
// from, and how a payload's bytes become the event's `payload` (or `payloadBase64`), or are
// refused with a code when they cannot.
import { isUtf8 } from 'node:buffer'
import { ErrorCodes } from '../../src/errors.js'
import type { MqttPayloadFormat, RetainHandling } from '../../src/function/index.js'

/**
 * One MQTT message as a trigger link received it (MQTT 5 section 3.3; 3.1.1 has no properties).
 * `payload` is the exact bytes; `retain` is set when the broker sent a message from its retained
 * store because the agent subscribed (MQTT 3.1.1 section 3.3.1.3, MQTT 5 section 3.3.1.3 with
 * Retain As Published off), never for a message published while subscribed;
 * `userProperties` are MQTT 5 user properties, if any.
 */
export interface TriggerMessage {
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  userProperties?: Record<string, string | string[]>
  /** MQTT 5 Response Topic and Correlation Data (section 4.10), when the message has them. */
  responseTopic?: string
  correlationData?: Buffer
  /** Where a QoS 1 message came from within its broker session (processed once). */
  origin?: MessageOrigin
}

/**
 * A QoS 1 message's identity within the broker session it came in (device/triggers/mqtt/
 * processed-once.ts): a message sent again keeps its packet id within the session
 * (MQTT 3.1.1 section 4.4, MQTT 5 section 4.4).
 */
export interface MessageOrigin {
  /** The session: the trigger link's own (broker URL and client id), or a sensor's client id on the embedded broker. */
  session: string
  /** The connection it came in on, counted by the link from 1 in this process. */
  connection: number
  /** Whether that connection carried the session on (Session Present; a sensor that did not start clean). */
  resumed: boolean
  /** Whether the session outlives the connection (clean session 0): a clean one is never sent again, so nothing is marked. */
  persistent: boolean
  packetId: number
  /** The DUP flag: the sender says it may have sent this message before. */
  dup: boolean
}

/** Called by a trigger link for every message; settles once the message's effects are durable. */
export type OnTriggerMessage = (msg: TriggerMessage) => Promise<void>

/** What a trigger link is asked to subscribe per filter: QoS and MQTT 5 Retain Handling (section 3.8.3.1). */
export interface TriggerSubscription { qos: 0 | 1, retainHandling: RetainHandling }

/**
 * What the router hears from a trigger link around each round of SUBSCRIBEs (at connect when
 * the broker kept no session, or when the filters change): `prepare` before the first SUBSCRIBE,
 * with the CONNACK's Session Present, so retained messages the round brings meet the right
 * rules; `done` after the SUBACKs, with the filters granted and, if some were refused, a
 * LAMBKIN_SUBSCRIBE_REFUSED error naming them. A rejection from either is logged and the
 * round is made again on the next connect.
 */
export interface SubscribeHooks {
  prepare?: (sessionPresent: boolean) => Promise<void>
  done?: (granted: string[], refused: (Error & { code: string }) | undefined) => Promise<void>
}

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
    return invalid(`the payload is not JSON (${(err as Error).message}), but the trigger asks for json; use "payload": "auto" or "text" to receive it as text`, format)
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
