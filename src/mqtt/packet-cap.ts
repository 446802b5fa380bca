// The agent's own cap on the packets its trigger broker sends (mqtt.maxPacketBytes, docs/device.md
// "The trigger link's protocol"). mqtt-packet buffers a packet's whole Remaining Length before it
// reads it, so a broker announcing a 256 MiB PUBLISH had the agent hold 256 MiB. This sits in front
// of the connection's parse(): it follows the packet boundaries of the byte stream (fixed header:
// a control byte, then the Remaining Length as a variable byte integer, MQTT 5 sections 2.1.1,
// 1.5.5) and passes every packet within the cap through unchanged and in order. Of a PUBLISH over
// the cap it reads only the fixed header, the topic and the packet id (MQTT 3.1.1 section 3.3.2),
// discards the rest of its bytes as they arrive, and emits in its place a PUBLISH with an empty
// payload marked as oversized (oversizedBytes()), which the link dead-letters and then acknowledges
// like any trigger, so the broker does not send it again. Any other packet over the cap is a
// parser error (LAMBKIN_BROKER_PACKET_TOO_LARGE) that ends the connection. At most the bytes up to
// the packet id are held across socket reads: 5 + 2 + 65,535 + 2.
import { ErrorCodes, LambkinError } from '../errors.js'
import { readVarByteInt, varByteInt } from './split-packets.js'

/** The members of an mqtt-packet Parser (9.x) this file uses: parse() it wraps, emit() for the marker or the error. */
export interface CappedParser {
  parse: (buf: Buffer) => number
  emit: (event: 'packet' | 'error', what: object) => boolean
  error: unknown
}

/** mqtt-packet's Packet class (packet.js). */
type PacketClass = new () => Record<string, unknown>

/** The announced sizes of the markers' payloads: an empty Buffer of each marker, keyed by identity. */
const oversized = new WeakMap<Buffer, number>()

/**
 * The whole size in bytes (fixed header included) of the PUBLISH that `payload` stands for, when
 * it is the empty payload of an oversized PUBLISH's marker; otherwise undefined.
 */
export function oversizedBytes (payload: Buffer): number | undefined {
  return payload.length === 0 ? oversized.get(payload) : undefined
}

/** Counts since install: oversized PUBLISH packets skipped, and their bytes discarded. */
export interface PacketCapCounts { skipped: number, discardedBytes: number }

/**
 * Wraps `parser`'s parse() so no packet over `maxBytes` (its whole size, as MQTT 5 section
 * 3.1.2.11.4 counts Maximum Packet Size) is buffered; see the file's header. Install one per
 * connection (a parser's state is its connection's). Returns live counts.
 */
export function capPackets (parser: CappedParser, Packet: PacketClass, maxBytes: number): PacketCapCounts {
  const parse = parser.parse
  const counts: PacketCapCounts = { skipped: 0, discardedBytes: 0 }
  // Bytes left of the packet passing through, or of the one being discarded.
  let passing = 0
  let skipping = 0
  // A packet's first bytes held until `heldNeed` of them are in (a fixed header, or an oversized PUBLISH's topic and id).
  let held: Buffer[] = []
  let heldBytes = 0
  let heldNeed = 0
  // After a length that cannot be read: everything goes to parse(), which refuses it as before.
  let stopped = false
  // After an error of this file's: nothing more is read (the link is closing the connection).
  let dead = false

  const fail = (self: CappedParser, err: Error): void => {
    dead = true
    self.error = err
    self.emit('error', err)
  }

  parser.parse = function (this: CappedParser, chunk: Buffer): number {
    if (dead) return 0
    if (stopped) return parse.call(this, chunk)
    let buf = chunk
    if (heldBytes > 0) {
      held.push(chunk)
      heldBytes += chunk.length
      if (heldBytes < heldNeed) return 0
      buf = Buffer.concat(held, heldBytes)
      held = []
      heldBytes = 0
      heldNeed = 0
    }
    const len = buf.length
    let at = 0
    let from = 0
    while (at < len) {
      if (skipping > 0) {
        const n = Math.min(skipping, len - at)
        skipping -= n
        counts.discardedBytes += n
        at += n
        from = at
        continue
      }
      if (passing > 0) {
        const n = Math.min(passing, len - at)
        passing -= n
        at += n
        continue
      }
      // A packet starts at `at`.
      if (!readVarByteInt(buf, at + 1, len)) {
        if (len - at > 4) {
          // Five length bytes: mqtt-packet refuses it as malformed, as before.
          stopped = true
          break
        }
        heldNeed = len - at + 1
        break
      }
      const start = at
      const body = varByteInt.next
      const remaining = varByteInt.value
      const total = body - start + remaining
      if (total <= maxBytes) {
        passing = total
        continue
      }
      const zero = buf[start]
      if (from < start) parse.call(this, buf.subarray(from, start))
      from = start
      if (zero >> 4 !== 3) {
        fail(this, new LambkinError(ErrorCodes.BROKER_PACKET_TOO_LARGE, `a packet of type ${zero >> 4} and ${total} bytes is over mqtt.maxPacketBytes (${maxBytes})`, { details: { bytes: total, maxBytes } }))
        return 0
      }
      const qos = (zero >> 1) & 3
      const idBytes = qos > 0 ? 2 : 0
      if (body + 2 > len) { heldNeed = body + 2 - start; break }
      const topicEnd = body + 2 + buf.readUInt16BE(body)
      if (qos === 3 || topicEnd + idBytes - body > remaining) {
        fail(this, new Error('Malformed Publish: its topic and packet id are longer than the packet'))
        return 0
      }
      if (topicEnd + idBytes > len) { heldNeed = topicEnd + idBytes - start; break }
      const payload = Buffer.alloc(0)
      oversized.set(payload, total)
      const packet = new Packet()
      packet.cmd = 'publish'
      packet.retain = (zero & 1) !== 0
      packet.qos = qos
      packet.dup = (zero & 8) !== 0
      // The length of what was read: MQTT.js (5.x) closes the connection on a packet whose length is over the Maximum Packet Size it announced.
      packet.length = topicEnd + idBytes - body
      packet.topic = buf.toString('utf8', body + 2, topicEnd)
      if (qos > 0) packet.messageId = buf.readUInt16BE(topicEnd)
      packet.payload = payload
      counts.skipped++
      at = topicEnd + idBytes
      from = at
      skipping = total - (at - start)
      this.emit('packet', packet)
    }
    if (heldNeed > 0) {
      // A packet's first bytes, not enough yet: what came before it goes on, they wait.
      if (from < at) parse.call(this, buf.subarray(from, at))
      held = [Buffer.from(buf.subarray(at))]
      heldBytes = len - at
      return 0
    }
    if (from < len) return parse.call(this, from === 0 ? buf : buf.subarray(from))
    return 0
  }
  return counts
}
