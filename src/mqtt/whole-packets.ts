// One socket write call per MQTT packet for an MQTT.js client. MQTT.js writes each packet with
// mqtt-packet's writeToStream, which calls the socket's write() once per field: a QoS 1 PUBLISH
// with its hop as MQTT 5 user properties [W9] is a dozen calls, each a buffered request in
// Node's Writable and an entry in the next writev's array. Here the same writer runs into a
// plain list, copied into one Buffer, so the socket sees one write per packet with the same
// bytes (docs/performance.md, "The relay job"); a PUBLISH or PUBACK of the usual shapes skips
// mqtt-packet's writer altogether (publish-bytes.ts). This replaces MQTT.js's private
// _writePacket (mqtt 5.x), as src/mqtt/ack-hold.ts wraps its _sendPacket.
import { createRequire } from 'node:module'
import { ErrorCodes, LambkinError } from '../errors.js'
import { pubackBytes, publishBytes } from './publish-bytes.js'

type Packet = { cmd: string }
type WriteToStream = (packet: Packet, stream: Collector, opts: unknown) => boolean

/** The parts of an MQTT.js client (5.x) this file uses. */
interface WritingClient {
  _writePacket: (packet: Packet, cb?: (err?: Error) => void) => void
  emit: (event: 'packetsend', packet: Packet) => boolean
  stream: { write: (chunk: Buffer) => boolean, once: (event: 'drain', listener: () => void) => unknown }
  options: { protocolVersion?: unknown }
  noop: unknown
}

/** mqtt-packet's writeToStream, the copy MQTT.js itself loads (so its settings, such as the number cache off, are the same). */
function mqttPacketWriter (): WriteToStream | undefined {
  try {
    const fromMqtt = createRequire(import.meta.resolve('mqtt'))
    const w = (fromMqtt('mqtt-packet') as { writeToStream?: unknown }).writeToStream
    return typeof w === 'function' ? w as WriteToStream : undefined
  } catch {
    return undefined
  }
}

/**
 * What writeToStream writes one packet into: its chunks (Buffers and strings) in order, and
 * whether it refused the packet (it calls destroy() then). No cork(), so writeToStream schedules
 * no uncork either.
 */
class Collector {
  chunks: Array<Buffer | string> = []
  refused = false
  write (chunk: Buffer | string): boolean {
    this.chunks.push(chunk)
    return true
  }

  destroy (): void {
    this.refused = true
  }

  /** The chunks as one Buffer (strings in UTF-8, as the socket would have written them). */
  bytes (): Buffer {
    const { chunks } = this
    let length = 0
    for (const c of chunks) length += typeof c === 'string' ? Buffer.byteLength(c) : c.length
    const out = Buffer.allocUnsafe(length)
    let at = 0
    for (const c of chunks) {
      if (typeof c === 'string') at += out.write(c, at)
      else { out.set(c, at); at += c.length }
    }
    return out
  }
}

/**
 * Makes `client` write each packet as one Buffer, built by mqtt-packet's own writer, with what
 * MQTT.js's own _writePacket does around it kept: the `packetsend` event first, and the
 * callback run at once, or on `drain` when the socket's buffer is full. A packet the writer
 * refuses (an invalid topic or message id, which it answers by destroying the socket) goes
 * through MQTT.js's own path instead, so it fails as before. Throws
 * LAMBKIN_DEPENDENCY_MISMATCH when MQTT.js's internals or mqtt-packet moved.
 */
export function writeWholePackets (client: object): void {
  const c = client as WritingClient
  const writeToStream = mqttPacketWriter()
  if (typeof c._writePacket !== 'function' || writeToStream === undefined) {
    throw new LambkinError(ErrorCodes.DEPENDENCY_MISMATCH, 'the installed MQTT.js has no _writePacket, or its mqtt-packet no writeToStream, which the whole-packet writer replaces; install the mqtt version package.json pins (5.16.0)')
  }
  const own = c._writePacket.bind(c)
  c._writePacket = (packet, cb) => {
    // A PUBLISH or PUBACK of the usual shapes is written in one pass (publish-bytes.ts), the rest by mqtt-packet.
    let bytes = packet.cmd === 'puback' ? pubackBytes(packet, c.options.protocolVersion) : publishBytes(packet, c.options.protocolVersion)
    if (bytes === undefined) {
      const collector = new Collector()
      if (!writeToStream(packet, collector, c.options) || collector.refused) {
        own(packet, cb)
        return
      }
      bytes = collector.bytes()
    }
    c.emit('packetsend', packet)
    const flowing = c.stream.write(bytes)
    if (!flowing && cb !== undefined && cb !== c.noop) c.stream.once('drain', cb)
    else cb?.()
  }
}
