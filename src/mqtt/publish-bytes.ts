// The bytes of an MQTT PUBLISH, written into one Buffer in one pass, for the packets a trigger
// link sends (docs/performance.md, "The relay job"). mqtt-packet's writer, which
// whole-packets.ts otherwise runs, makes a small Buffer per field and per property, and two
// `debug` calls per packet; for the same bytes this measures the packet once and writes it in
// place. Only the common shapes are written here; for anything else it answers undefined and
// the caller uses mqtt-packet, so every other packet (and every packet mqtt-packet would refuse)
// is written, or refused, exactly as before.
//
// Layout (MQTT 3.1.1 section 3.3, MQTT 5 section 3.3): fixed header 0x30 | DUP << 3 | QoS << 1
// | RETAIN; Remaining Length (variable byte integer); topic (two-byte length, UTF-8); packet id
// (two bytes, QoS > 0); under MQTT 5 the properties (variable byte length, then each property
// in the object's key order as mqtt-packet writes them: Response Topic 0x08 as a UTF-8 string,
// Correlation Data 0x09 as binary data, each User Property 0x26 as a UTF-8 string pair); payload.
// A PUBACK (section 3.4) without properties: 0x40, Remaining Length 2, the packet id; under
// MQTT 5 with Reason Code 0 (Success) too, which may then be left out (MQTT 5 section 3.4.2.1).

/** A PUBLISH packet as MQTT.js hands it to its writer (mqtt-packet's IPublishPacket). */
export interface PublishBytesPacket {
  cmd: string
  topic?: unknown
  payload?: unknown
  qos?: unknown
  retain?: unknown
  dup?: unknown
  messageId?: unknown
  properties?: unknown
}

const MAX_REMAINING = 268_435_455
const MAX_STRING = 0xffff

/** Bytes of a variable byte integer (MQTT 5 section 1.5.5). */
function varIntBytes (n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

function writeVarInt (out: Buffer, at: number, n: number): number {
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out[at++] = b
  } while (n > 0)
  return at
}

function writeString (out: Buffer, at: number, s: string, bytes: number): number {
  out.writeUInt16BE(bytes, at)
  return at + 2 + out.write(s, at + 2, bytes, 'utf8')
}

/**
 * `packet` as mqtt-packet's writer would write it for `protocolVersion` (4 or 5), or undefined
 * when it is not a PUBLISH of the shapes written here: QoS 0 or 1, a string topic, a string or
 * Buffer payload (or none), a packet id of 0-65535 at QoS 1, and under MQTT 5 no properties or
 * only responseTopic (string), correlationData (Buffer) and userProperties (an object of
 * strings), none null, each string at most 65,535 bytes.
 */
export function publishBytes (packet: PublishBytesPacket, protocolVersion: unknown): Buffer | undefined {
  if (packet.cmd !== 'publish') return undefined
  const { topic, messageId, properties } = packet
  const qos = packet.qos ?? 0
  const payload = packet.payload === undefined || packet.payload === null || packet.payload === '' ? EMPTY : packet.payload
  if (typeof topic !== 'string' || (qos !== 0 && qos !== 1) || !flag(packet.dup) || !flag(packet.retain)) return undefined
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return undefined
  if (qos === 1 && (typeof messageId !== 'number' || !Number.isInteger(messageId) || messageId < 0 || messageId > 0xffff)) return undefined
  const v5 = protocolVersion === 5
  if (!v5 && protocolVersion !== 4 && protocolVersion !== undefined) return undefined
  const topicBytes = Buffer.byteLength(topic)
  if (topicBytes > MAX_STRING) return undefined
  const payloadBytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  let propsBytes = 0
  // Property values in write order, with their byte lengths, measured once.
  const props: Array<string | Buffer | number> = []
  if (v5 && properties !== undefined) {
    if (!plainObject(properties)) return undefined
    for (const name in properties) {
      if (!Object.prototype.hasOwnProperty.call(properties, name)) continue
      const value = (properties as Record<string, unknown>)[name]
      if (name === 'responseTopic' && typeof value === 'string') {
        const n = Buffer.byteLength(value)
        if (n > MAX_STRING) return undefined
        props.push(0x08, value, n)
        propsBytes += 3 + n
      } else if (name === 'correlationData' && Buffer.isBuffer(value)) {
        if (value.length > MAX_STRING) return undefined
        props.push(0x09, value, value.length)
        propsBytes += 3 + value.length
      } else if (name === 'userProperties' && plainObject(value)) {
        // mqtt-packet lists them with Object.getOwnPropertyNames (own keys, enumerable or not),
        // and refuses an empty set.
        const keys = Object.getOwnPropertyNames(value)
        if (keys.length === 0) return undefined
        for (const key of keys) {
          const v = (value as Record<string, unknown>)[key]
          if (typeof v !== 'string') return undefined
          const kn = Buffer.byteLength(key)
          const vn = Buffer.byteLength(v)
          if (kn > MAX_STRING || vn > MAX_STRING) return undefined
          props.push(0x26, key, kn, v, vn)
          propsBytes += 5 + kn + vn
        }
      } else {
        return undefined
      }
    }
  }
  const remaining = 2 + topicBytes + (qos === 1 ? 2 : 0) + (v5 ? varIntBytes(propsBytes) + propsBytes : 0) + payloadBytes
  if (remaining > MAX_REMAINING) return undefined
  const out = Buffer.allocUnsafe(1 + varIntBytes(remaining) + remaining)
  out[0] = 0x30 | (packet.dup === true ? 0x08 : 0) | (qos << 1) | (packet.retain === true ? 1 : 0)
  let at = writeVarInt(out, 1, remaining)
  at = writeString(out, at, topic, topicBytes)
  if (qos === 1) { out.writeUInt16BE(messageId as number, at); at += 2 }
  if (v5) {
    at = writeVarInt(out, at, propsBytes)
    for (let i = 0; i < props.length;) {
      const id = props[i] as number
      out[at++] = id
      if (id === 0x26) {
        at = writeString(out, at, props[i + 1] as string, props[i + 2] as number)
        at = writeString(out, at, props[i + 3] as string, props[i + 4] as number)
        i += 5
      } else if (id === 0x08) {
        at = writeString(out, at, props[i + 1] as string, props[i + 2] as number)
        i += 3
      } else {
        const b = props[i + 1] as Buffer
        out.writeUInt16BE(b.length, at)
        out.set(b, at + 2)
        at += 2 + b.length
        i += 3
      }
    }
  }
  if (typeof payload === 'string') at += out.write(payload, at, 'utf8')
  else { out.set(payload, at); at += payload.length }
  return at === out.length ? out : undefined
}

const EMPTY = Buffer.alloc(0)

/**
 * `packet` as mqtt-packet's writer would write it, or undefined when it is not a PUBACK of the
 * shape written here: a packet id of 0-65535, no properties, and under MQTT 5 Reason Code 0.
 */
export function pubackBytes (packet: PublishBytesPacket & { reasonCode?: unknown }, protocolVersion: unknown): Buffer | undefined {
  if (packet.cmd !== 'puback' || packet.properties !== undefined) return undefined
  const id = packet.messageId
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffff) return undefined
  if (protocolVersion === 5 ? packet.reasonCode !== 0 : protocolVersion !== 4 && protocolVersion !== undefined) return undefined
  return Buffer.from([0x40, 2, id >> 8, id & 0xff])
}

/** An object literal's shape: no inherited keys a for-in would meet (mqtt-packet measures with one). */
function plainObject (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

function flag (v: unknown): boolean {
  return v === undefined || typeof v === 'boolean'
}
