// The incoming side of a trigger link's connection, read without mqtt-packet's general parser
// for the two packets it gets per relayed message: a PUBLISH (QoS 0 or 1) and the PUBACK of its
// own QoS 1 publish (docs/performance.md, "The relay job"). mqtt-packet's parser appends each
// socket chunk to a BufferList and walks a state machine per packet, with a dozen `debug` calls
// on the way; here a packet whole inside the chunk is read in one pass into the same Packet
// object, with the same fields in the same order, and emitted as mqtt-packet would, so MQTT.js's
// handlers (one message at a time, with its per-packet tick, into handleMessage) see no
// difference. Anything else (another packet type, QoS 2, a property other than User Property,
// Response Topic or Correlation Data, a packet cut by the chunk's end, any length that does not
// add up) is handed, from its first byte, to mqtt-packet's own parse, which then reads or
// refuses it exactly as before. Like whole-packets.ts this reaches into MQTT.js (its connect(),
// which makes the parser) and mqtt-packet (the parser's state); it checks them first and
// throws LAMBKIN_DEPENDENCY_MISMATCH when they moved.
//
// Layout read (MQTT 3.1.1 sections 2.2, 3.3, 3.4; MQTT 5 sections 2.1, 3.3, 3.4): fixed header
// (0x30 | DUP << 3 | QoS << 1 | RETAIN, or 0x40 for a PUBACK), Remaining Length (variable byte
// integer, at most 4 bytes); PUBLISH: topic (two-byte length, UTF-8), packet id at QoS 1, under
// MQTT 5 the properties (variable byte length, then id and value each), the payload to the end;
// PUBACK: packet id, under MQTT 5 an optional Reason Code (no properties on this path).
import { createRequire } from 'node:module'
import { ErrorCodes, LambkinError } from '../errors.js'
import { readVarByteInt, varByteInt } from './split-packets.js'
import { capPackets } from './packet-cap.js'

/** mqtt-packet's Packet (packet.js): its constructor sets cmd, retain, qos, dup, length, topic, payload. */
type PacketClass = new () => Record<string, unknown>

/** The members of mqtt-packet's Parser (9.x) this file reads; parse() is the one it replaces. */
export interface ParserLike {
  parse: (buf: Buffer) => number
  emit: (event: 'packet', packet: object) => boolean
  settings: { protocolVersion?: unknown }
  error: unknown
  packet: { length: number }
  _list: { length: number }
  _stateCounter: number
}

interface MqttPacketModule { parser: (opt?: unknown) => ParserLike }

/** MQTT 5 PUBACK reason codes mqtt-packet takes (its constants' MQTT5_PUBACK_PUBREC_CODES). */
const PUBACK_CODES = new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99])

function mismatch (what: string): LambkinError {
  return new LambkinError(ErrorCodes.DEPENDENCY_MISMATCH, `the installed MQTT.js or mqtt-packet has no ${what}, which the trigger link's lean incoming parser uses; install the mqtt version package.json pins (5.16.0)`)
}

/** mqtt-packet and its Packet class, the copies MQTT.js itself loads. */
function mqttPacket (): { mod: MqttPacketModule, Packet: PacketClass } | undefined {
  try {
    const fromMqtt = createRequire(import.meta.resolve('mqtt'))
    const mod = fromMqtt('mqtt-packet') as Partial<MqttPacketModule>
    const Packet = createRequire(fromMqtt.resolve('mqtt-packet'))('./packet.js') as unknown
    if (typeof mod.parser !== 'function' || typeof Packet !== 'function') return undefined
    return { mod: mod as MqttPacketModule, Packet: Packet as PacketClass }
  } catch {
    return undefined
  }
}

function looksLikeParser (p: unknown): p is ParserLike {
  const q = p as Partial<ParserLike> | null
  return typeof q?.parse === 'function' && typeof q.emit === 'function' && typeof q.settings === 'object' &&
    typeof q.packet?.length === 'number' && typeof q._list?.length === 'number' && typeof q._stateCounter === 'number' && 'error' in q
}

/** Packets read by the fast path, and chunks (or their rest) handed to mqtt-packet's parse, since install. */
export interface LeanParseCounts { lean: number, handedOn: number }

/** Hears a connection parser's error with the stream that parser reads (MQTT.js makes both per connect()). */
export type OnMalformed = (err: Error, stream: { destroy: () => void } | undefined) => void

/**
 * Puts the fast path on the parser of each connection `client` makes from now on (MQTT.js 5.x
 * makes one per connect(), reconnects included, with mqtt-packet's parser()); install it before
 * the first connect (the link's client is made with manualConnect). Returns live counts. A
 * connect() that made its parser some other way keeps mqtt-packet's parse (slower, the same
 * packets). Throws LAMBKIN_DEPENDENCY_MISMATCH when MQTT.js has no connect() or mqtt-packet's
 * parser lacks the state this file reads (checked on a parser made here). `onMalformed`, when
 * given, hears each error of each connection's parser (a Malformed Packet, MQTT 5 section 4.13),
 * after MQTT.js re-emitted it as the client's 'error' and left the connection open: mqtt-packet
 * then reads the next socket chunk from a reset state but a stale read position, so the caller
 * is to close the connection: the stream that parser reads, passed with the error. With it, a PUBLISH whose packet id is cut off, or read past its
 * Remaining Length from the next packet's bytes, is such an error too (refuseBadIds). `maxBytes`, when given, caps each incoming packet's size
 * (packet-cap.ts): a PUBLISH over it is skipped and handed on as a marker, any other packet is
 * an error, heard by `onMalformed` with the code LAMBKIN_BROKER_PACKET_TOO_LARGE.
 */
export function parseIncomingLean (client: object, onMalformed?: OnMalformed, maxBytes?: number): LeanParseCounts {
  const c = client as { connect?: (...args: unknown[]) => unknown }
  const found = mqttPacket()
  if (typeof c.connect !== 'function' || found === undefined) throw mismatch('connect() or mqtt-packet parser')
  const { mod, Packet } = found
  if (!looksLikeParser(mod.parser({}))) throw mismatch('parser state (settings, packet, _list, _stateCounter, error)')
  const own = c.connect
  const counts: LeanParseCounts = { lean: 0, handedOn: 0 }
  c.connect = function (this: unknown, ...args: unknown[]) {
    const make = mod.parser
    let made: unknown
    mod.parser = function (this: unknown, opt?: unknown) {
      made = make.call(this, opt)
      return made as ParserLike
    }
    let out: unknown
    try {
      out = own.apply(this, args)
    } finally {
      mod.parser = make
    }
    if (!looksLikeParser(made)) return out
    readLean(made, Packet, counts)
    if (maxBytes !== undefined) capPackets(made as unknown as Parameters<typeof capPackets>[0], Packet, maxBytes)
    const on = (made as { on?: unknown }).on
    if (onMalformed !== undefined && typeof on === 'function') {
      refuseBadIds(made)
      // The connection this parser reads (MQTT.js makes a parser and a stream per connect()), so a
      // late error of an old parser never ends the connection that replaced it.
      const stream = (this as { stream?: { destroy: () => void } }).stream
      on.call(made, 'error', (err: Error) => { onMalformed(err, stream) })
    }
    return out
  }
  return counts
}

/**
 * Makes a QoS 1 or 2 PUBLISH that mqtt-packet emits without a packet id of its own a parser
 * error instead (MQTT 3.1.1 section 3.3.2.2): its messageId is -1 when the chunk ends before the
 * two bytes (MQTT.js would hand the message on, then throw writing a PUBACK for id -1), and it is
 * read from the next packet's first bytes when that packet came in the same chunk (mqtt-packet's
 * _parseNum checks the bytes buffered, not the packet's Remaining Length): a message made up of
 * two packets, acknowledged under a packet id the broker never gave. So is any PUBLISH whose
 * fields mqtt-packet read past its Remaining Length (its `_pos` beyond `length` when emitted;
 * MQTT 5 properties too). The fast path never emits one.
 */
function refuseBadIds (parser: ParserLike): void {
  const emit = parser.emit as (event: string, x: unknown) => boolean
  type Emitted = { cmd?: unknown, qos?: unknown, messageId?: unknown, length?: unknown }
  parser.emit = function (this: ParserLike & { _pos?: unknown }, event: string, packet: Emitted): boolean {
    if (event === 'packet' && (packet.qos === 1 || packet.qos === 2) && !(typeof packet.messageId === 'number' && packet.messageId >= 0)) {
      this.error = new Error('Cannot parse messageId')
      return emit.call(this, 'error', this.error)
    }
    // mqtt-packet's own emit (_newPacket) sends this.packet with _pos where its reading stopped.
    if (event === 'packet' && packet === this.packet && packet.cmd === 'publish' && typeof this._pos === 'number' && typeof packet.length === 'number' && this._pos > packet.length) {
      this.error = new Error(`PUBLISH fields run past its Remaining Length (${packet.length} bytes)`)
      return emit.call(this, 'error', this.error)
    }
    return emit.call(this, event, packet)
  } as ParserLike['emit']
}

/**
 * Replaces `parser`'s parse() with one that reads whole PUBLISH and PUBACK packets itself while
 * the parser stands between packets, and hands the rest of a chunk to the original parse.
 * `Packet` is mqtt-packet's Packet class; `counts` is added to.
 */
export function readLean (parser: ParserLike, Packet: PacketClass, counts: LeanParseCounts = { lean: 0, handedOn: 0 }): void {
  const own = parser.parse
  parser.parse = function (this: ParserLike, buf: Buffer): number {
    // Mid-packet, or after an error (the original resets first): the original goes on.
    if (this.error !== null || this._list.length > 0 || this._stateCounter !== 0 || this.packet.length !== -1) {
      counts.handedOn++
      return own.call(this, buf)
    }
    let at = 0
    while (at < buf.length) {
      const end = readPacket(this, buf, at, Packet)
      if (end < 0) break
      counts.lean++
      at = end
    }
    if (at === buf.length) return 0
    counts.handedOn++
    return own.call(this, at === 0 ? buf : buf.subarray(at))
  }
}

/**
 * Reads the packet at `buf[at]` and emits it, returning where it ends; or -1, emitting nothing,
 * when it is not one of the shapes read here or not whole in `buf`.
 */
function readPacket (parser: ParserLike, buf: Buffer, at: number, Packet: PacketClass): number {
  const zero = buf[at]
  const type = zero >> 4
  if (type !== 3 && zero !== 0x40) return -1
  // Remaining Length, as mqtt-packet's _parseVarByteNum reads it (non-minimal forms included).
  if (!readVarByteInt(buf, at + 1, buf.length)) return -1
  const length = varByteInt.value
  const i = varByteInt.next
  const end = i + length
  if (end > buf.length) return -1
  const v5 = parser.settings.protocolVersion === 5
  if (type === 4) {
    if (length !== 2 && !(v5 && length === 3 && PUBACK_CODES.has(buf[i + 2]))) return -1
    const packet = new Packet()
    packet.cmd = 'puback'
    packet.length = length
    packet.messageId = buf.readUInt16BE(i)
    if (v5) packet.reasonCode = length === 3 ? buf[i + 2] : 0
    parser.emit('packet', packet)
    return end
  }
  const qos = (zero >> 1) & 3
  if (qos > 1 || length < 2) return -1
  const topicEnd = i + 2 + buf.readUInt16BE(i)
  let pos = topicEnd + (qos === 1 ? 2 : 0)
  if (pos > end) return -1
  let properties: Record<string, unknown> | undefined
  if (v5) {
    // The properties' length: a variable byte integer, whole inside the packet.
    if (!readVarByteInt(buf, pos, end)) return -1
    const n = varByteInt.value
    pos = varByteInt.next
    if (pos + n > end) return -1
    if (n > 0) {
      properties = readProperties(buf, pos, pos + n)
      if (properties === undefined) return -1
      pos += n
    }
  }
  const packet = new Packet()
  packet.cmd = 'publish'
  packet.retain = (zero & 1) !== 0
  packet.qos = qos
  packet.dup = (zero & 8) !== 0
  packet.length = length
  packet.topic = buf.toString('utf8', i + 2, topicEnd)
  if (qos === 1) packet.messageId = buf.readUInt16BE(topicEnd)
  if (properties !== undefined) packet.properties = properties
  packet.payload = buf.subarray(pos, end)
  parser.emit('packet', packet)
  return end
}

/**
 * The PUBLISH properties in `buf[from, to)` as mqtt-packet's _parseProperties builds them, or
 * undefined for anything but User Property (0x26; a name met again makes an array, as there),
 * one Response Topic (0x08) and one Correlation Data (0x09), each value inside `to`.
 */
function readProperties (buf: Buffer, from: number, to: number): Record<string, unknown> | undefined {
  const result: Record<string, unknown> = {}
  let user: Record<string, unknown> | undefined
  let pos = from
  while (pos < to) {
    const id = buf[pos++]
    if (id === 0x26) {
      if (pos + 2 > to) return undefined
      const nameEnd = pos + 2 + buf.readUInt16BE(pos)
      if (nameEnd + 2 > to) return undefined
      const valueEnd = nameEnd + 2 + buf.readUInt16BE(nameEnd)
      if (valueEnd > to) return undefined
      const name = buf.toString('utf8', pos + 2, nameEnd)
      const value = buf.toString('utf8', nameEnd + 2, valueEnd)
      pos = valueEnd
      if (user === undefined) {
        user = Object.create(null) as Record<string, unknown>
        result.userProperties = user
      }
      // mqtt-packet's rule, kept as it is: a truthy earlier value becomes an array, an empty one is replaced.
      const had = user[name]
      if (had !== undefined && had !== '') user[name] = Array.isArray(had) ? (had.push(value), had) : [had, value]
      else user[name] = value
    } else if (id === 0x08 || id === 0x09) {
      const key = id === 0x08 ? 'responseTopic' : 'correlationData'
      if (key in result || pos + 2 > to) return undefined
      const valueEnd = pos + 2 + buf.readUInt16BE(pos)
      if (valueEnd > to) return undefined
      result[key] = id === 0x08 ? buf.toString('utf8', pos + 2, valueEnd) : buf.subarray(pos + 2, valueEnd)
      pos = valueEnd
    } else {
      return undefined
    }
  }
  return result
}
