// How a durable publish is stored: a CBOR map with short keys (codec.ts). Fields were added over
// time, each optional, so a publish a previous version wrote loads as it always did.
import { decodeValue, encodeNamed } from './codec.js'
import type { NewPublish } from './types.js'

/**
 * A stored publish's value; the id and size live in its key (keys.ts). `h`/`tr` (hop count and
 * trace id [W9], docs/functions.md "Loops between functions") and `f` (the function) are absent
 * in publishes written before they were kept: such a publish is re-sent after a restart without
 * them, as it was then.
 */
interface StoredPublish {
  /** topic */
  t: string
  /** payload */
  p: Uint8Array | string
  /** qos */
  q: 0 | 1 | 2
  /** retain */
  r: boolean
  /** MQTT 5 correlation data, base64 (request-response.ts) */
  c?: string
  /** MQTT 5 response topic */
  rt?: string
  /** hop count [W9] */
  h?: number
  /** trace id [W9] */
  tr?: string
  /** the function that published it */
  f?: string
}

/** The stored bytes of `p`; throws LAMBKIN_STORE_ERROR when it cannot be encoded. */
export function encodePublish (p: NewPublish): Uint8Array {
  // A function's publish as the invoker stores it (a hop and a function, no MQTT 5 fields):
  // built in its final shape, the same fields in the same order as below, so the same bytes.
  if (p.correlationData === undefined && p.responseTopic === undefined && p.hop !== undefined && p.fn !== undefined) {
    return encodeNamed({ t: p.topic, p: p.payload, q: p.qos, r: p.retain, h: p.hop.hop, tr: p.hop.traceId, f: p.fn } satisfies StoredPublish, 'publish to ', p.topic)
  }
  const s: StoredPublish = { t: p.topic, p: p.payload, q: p.qos, r: p.retain }
  if (p.correlationData !== undefined) s.c = p.correlationData
  if (p.responseTopic !== undefined) s.rt = p.responseTopic
  if (p.hop !== undefined) { s.h = p.hop.hop; s.tr = p.hop.traceId }
  if (p.fn !== undefined) s.f = p.fn
  return encodeNamed(s, 'publish to ', p.topic)
}

/**
 * A stored publish back as a NewPublish: only the optional fields it holds are set; a hop or
 * function of the wrong type (not written by lambkin) is left out rather than failing the read.
 * Throws LAMBKIN_STORE_ERROR when the bytes are no CBOR (`what` names the publish).
 */
export function decodePublish (bytes: Uint8Array, what: string): NewPublish {
  const s = decodeValue(bytes, what) as StoredPublish
  // cbor-x hands back Buffers; callers compare and forward plain bytes.
  const payload = typeof s.p === 'string' ? s.p : new Uint8Array(s.p.buffer, s.p.byteOffset, s.p.byteLength)
  const out: NewPublish = { topic: s.t, payload, qos: s.q, retain: s.r }
  if (s.c !== undefined) out.correlationData = s.c
  if (s.rt !== undefined) out.responseTopic = s.rt
  if (Number.isSafeInteger(s.h) && (s.h as number) >= 0 && typeof s.tr === 'string' && s.tr !== '') out.hop = { traceId: s.tr, hop: s.h as number }
  if (typeof s.f === 'string' && s.f !== '') out.fn = s.f
  return out
}
