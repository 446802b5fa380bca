// The trigger link's lean incoming parser (src/mqtt/lean-parse.ts) emits what mqtt-packet's own
// parser emits for the same bytes: the same packets (class, fields in order, values, Buffers by
// their bytes) and the same errors, however the bytes are cut into chunks; and an MQTT.js client
// it is installed on reads through it against a real Mosquitto.
import { createRequire } from 'node:module'
import mqtt from 'mqtt'
import type { IPublishPacket, MqttClient } from 'mqtt'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseIncomingLean, readLean } from '../../../src/mqtt/lean-parse.js'
import type { LeanParseCounts, ParserLike } from '../../../src/mqtt/lean-parse.js'
import { mosquittoMissing, startMosquitto } from '../../helpers/brokers.js'

const fromMqtt = createRequire(import.meta.resolve('mqtt'))
const mp = fromMqtt('mqtt-packet') as { generate: (p: unknown, o: unknown) => Buffer, parser: (o: unknown) => ParserLike & { on: (e: string, l: (x: unknown) => void) => void } }
const Packet = createRequire(fromMqtt.resolve('mqtt-packet'))('./packet.js') as new () => Record<string, unknown>
const skip = mosquittoMissing()

/** A value as plain data: objects with their prototype and key order, Buffers as hex. */
function shape (v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { buffer: v.toString('hex') }
  if (Array.isArray(v)) return v.map(shape)
  if (typeof v === 'object' && v !== null) {
    const proto = Object.getPrototypeOf(v) as { constructor?: { name: string } } | null
    return { proto: proto === null ? null : proto.constructor?.name, entries: Object.keys(v).map((k) => [k, shape((v as Record<string, unknown>)[k])]) }
  }
  return v
}

/** What a parser emits for `chunks` at protocol version `v`, lean or mqtt-packet's own. */
function run (chunks: Buffer[], v: 4 | 5, lean: boolean, counts?: LeanParseCounts): unknown[] {
  const parser = mp.parser({ protocolVersion: v })
  if (lean) readLean(parser, Packet, counts)
  const seen: unknown[] = []
  parser.on('packet', (p) => seen.push(shape(p)))
  parser.on('error', (e) => seen.push({ error: (e as Error).message }))
  for (const c of chunks) parser.parse(c)
  return seen
}

function same (chunks: Buffer[], v: 4 | 5, what: string): LeanParseCounts {
  const counts = { lean: 0, handedOn: 0 }
  assert.equal(run(chunks, v, true, counts), run(chunks, v, false), what)
  return counts
}

const topics = ['bench/in/1', '', '__proto__', 'constructor', 'w/é/🐑', 'x'.repeat(300)]
const payloads = [Buffer.from('{"value":30}'), Buffer.alloc(0), Buffer.alloc(20_000, 9)]
const propertySets: Array<object | undefined> = [
  undefined,
  { userProperties: JSON.parse('{"lambkin-hop":"a","__proto__":"p","constructor":"c"}') as object },
  { userProperties: { k: ['1', '2', '3'], e: ['', 'x'], f: ['x', ''] } },
  { responseTopic: 'reply/🐑', correlationData: Buffer.from('c0ffee', 'hex') },
  { correlationData: Buffer.alloc(0), responseTopic: '', userProperties: { é: 'ü' } },
  // Not read by the fast path: handed to mqtt-packet.
  { messageExpiryInterval: 60 },
  { topicAlias: 3 },
  { contentType: 'text/plain', userProperties: { a: 'b' } },
  { payloadFormatIndicator: true }
]

/** Packets of every shape the link meets, and some it does not, as mqtt-packet writes them. */
function packets (v: 4 | 5): Buffer[] {
  const out: Buffer[] = []
  for (const topic of topics) {
    for (const payload of payloads) {
      for (const properties of v === 5 ? propertySets : [undefined]) {
        for (const [qos, messageId] of [[0, undefined], [1, 1], [1, 65535], [2, 9]] as const) {
          for (const [dup, retain] of [[false, false], [true, true]]) {
            out.push(mp.generate({ cmd: 'publish', topic, payload, qos, messageId, dup, retain, properties }, { protocolVersion: v }))
          }
        }
      }
    }
  }
  out.push(mp.generate({ cmd: 'puback', messageId: 7 }, { protocolVersion: v }))
  if (v === 5) {
    for (const reasonCode of [0, 0x10, 0x87]) out.push(mp.generate({ cmd: 'puback', messageId: 8, reasonCode }, { protocolVersion: 5 }))
    out.push(mp.generate({ cmd: 'puback', messageId: 9, reasonCode: 0x10, properties: { reasonString: 'none' } }, { protocolVersion: 5 }))
  }
  out.push(mp.generate({ cmd: 'suback', messageId: 3, granted: [1], properties: undefined }, { protocolVersion: v }))
  out.push(mp.generate({ cmd: 'pingresp' }, { protocolVersion: v }))
  out.push(mp.generate({ cmd: 'pubrel', messageId: 9 }, { protocolVersion: v }))
  out.push(mp.generate({ cmd: 'connack', sessionPresent: true, returnCode: 0, reasonCode: 0 }, { protocolVersion: v }))
  return out
}

test('every packet alone, and all of them in one chunk, parse as mqtt-packet parses them (MQTT 5 and 3.1.1)', () => {
  for (const v of [5, 4] as const) {
    const all = packets(v)
    let lean = 0
    for (const p of all) lean += same([p], v, `${v} ${p.subarray(0, 24).toString('hex')}`).lean
    const counts = same([Buffer.concat(all)], v, `${v} all in one chunk`)
    // The common shapes took the fast path (the chunk's packets up to the first other one), the others went to mqtt-packet.
    assert.ok(lean > all.length / 3 && counts.lean > 0 && counts.handedOn === 1, `${v}: ${lean} of ${all.length} lean, ${JSON.stringify(counts)}`)
  }
})

test('a stream cut at every offset, and in chunks of every small size, parses the same', () => {
  for (const v of [5, 4] as const) {
    const stream = Buffer.concat([
      mp.generate({ cmd: 'publish', topic: 'bench/in/3', payload: Buffer.from('{"value":31}'), qos: 1, messageId: 5, dup: false, retain: false }, { protocolVersion: v }),
      mp.generate({ cmd: 'puback', messageId: 6 }, { protocolVersion: v }),
      mp.generate({ cmd: 'publish', topic: '__proto__', payload: Buffer.from('é'), qos: 0, dup: false, retain: true, properties: { userProperties: { constructor: 'x', a: ['1', '2'] }, correlationData: Buffer.from('ab') } }, { protocolVersion: v }),
      mp.generate({ cmd: 'pingresp' }, { protocolVersion: v }),
      mp.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(300, 1), qos: 1, messageId: 65535, dup: true, retain: false, properties: { topicAlias: 2 } }, { protocolVersion: v })
    ])
    for (let cut = 0; cut <= stream.length; cut++) same([stream.subarray(0, cut), stream.subarray(cut)], v, `${v} cut at ${cut}`)
    for (let size = 1; size <= 40; size++) {
      const chunks: Buffer[] = []
      for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size))
      same(chunks, v, `${v} chunks of ${size}`)
    }
  }
})

test('hostile and truncated packets give mqtt-packet\'s errors, and the parser goes on after them as it does', () => {
  const good = mp.generate({ cmd: 'publish', topic: 'a', payload: Buffer.from('p'), qos: 1, messageId: 2, dup: false, retain: false }, { protocolVersion: 5 })
  const hostile = [
    '30ffffffff7f', // a Remaining Length of five bytes
    '3005ffff616263', // topic longer than the packet
    '320400016101', // QoS 1, the packet id cut by the packet's end
    '3203000161', // QoS 1 without room for a packet id
    '36050001610001', // QoS 3
    '3001', // shorter than a topic length
    '300600016100ff7f', // properties longer than the packet (MQTT 5)
    '3007000161000226', // a user property cut short
    '300800016104230001', // an unknown/other property id
    '300600016102ff00', // an invalid property id
    '4003000102', // PUBACK with a reason code
    '40030001ee', // PUBACK with an invalid reason code
    '4004000100ff', // PUBACK with properties cut short
    '4103000100', // PUBACK with reserved flags set
    '40020001', // PUBACK
    '30', // a lone header byte
    '3080' // a Remaining Length cut
  ]
  for (const v of [5, 4] as const) {
    for (const hex of hostile) {
      const bad = Buffer.from(hex, 'hex')
      same([bad], v, `${v} ${hex}`)
      same([bad, good], v, `${v} ${hex} then a good packet`)
      same([Buffer.concat([good, bad, good])], v, `${v} ${hex} between good packets`)
      same([good, bad.subarray(0, 2), bad.subarray(2), good], v, `${v} ${hex} split`)
    }
  }
})

test('a PUBLISH whose packet id or properties would be read from the next packet in the chunk is refused, not read as a message', () => {
  // mqtt-packet checks a packet id against the bytes buffered, not the Remaining Length: with the
  // next packet in the same chunk it took that packet's first bytes as the id, and MQTT.js then
  // ran a trigger made of two packets and PUBACKed an id the broker never gave.
  const good = mp.generate({ cmd: 'publish', topic: 'a', payload: Buffer.from('p'), qos: 1, messageId: 2, dup: false, retain: false }, { protocolVersion: 5 })
  const client = {
    parser: undefined as unknown as ReturnType<typeof mp.parser>,
    connect () { this.parser = mp.parser({ protocolVersion: 5 }); return this }
  }
  let seen: unknown[] = []
  parseIncomingLean(client, (e) => seen.push({ error: e.message }))
  const read = (chunk: Buffer): unknown[] => {
    seen = []
    client.connect()
    client.parser.on('packet', (p) => seen.push((p as { messageId?: unknown }).messageId))
    client.parser.parse(chunk)
    return seen
  }
  assert.equal(read(good), [2], 'a good packet alone')
  for (const [hex, what] of [['3203000161', 'QoS 1 without room for a packet id'], ['320400016101', 'QoS 1, the packet id cut by the packet\'s end'], ['3205000161000203', 'properties longer than the packet']]) {
    const bad = Buffer.from(hex, 'hex')
    const events = read(Buffer.concat([bad, good]))
    assert.is(events.length, 1, `${what}, the next packet in the same chunk: ${JSON.stringify(events)}`)
    assert.type((events[0] as { error?: unknown }).error, 'string', `${what}: an error, not a message`)
  }
})

test('a parser\'s error names the connection that parser reads, not the one that replaced it', () => {
  // MQTT.js makes a parser and a stream per connect(); closing "the client's stream" on a late
  // error of an old parser would end the new connection.
  const client = {
    parser: undefined as unknown as ReturnType<typeof mp.parser>,
    stream: undefined as unknown as { n: number, destroy: () => void },
    made: 0,
    connect () { this.parser = mp.parser({ protocolVersion: 5 }); this.stream = { n: ++this.made, destroy () {} }; return this }
  }
  const heard: number[] = []
  parseIncomingLean(client, (_e, stream) => { heard.push((stream as unknown as { n: number }).n) })
  client.connect()
  const first = client.parser
  client.connect()
  first.parse(Buffer.from('3203000161', 'hex'))
  client.parser.parse(Buffer.from('3203000161', 'hex'))
  assert.equal(heard, [1, 2])
})

test('random streams of generated packets cut at random places parse the same', () => {
  let seed = 7
  const rand = (n: number): number => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return seed % n }
  for (const v of [5, 4] as const) {
    const all = packets(v)
    for (let round = 0; round < 30; round++) {
      const picked = Array.from({ length: 20 }, () => all[rand(all.length)])
      const stream = Buffer.concat(picked)
      const chunks: Buffer[] = []
      for (let at = 0; at < stream.length;) { const n = 1 + rand(3000); chunks.push(stream.subarray(at, at + n)); at += n }
      same(chunks, v, `${v} round ${round}`)
    }
  }
})

test('a client without connect(), or an MQTT.js whose parser moved, is refused with LAMBKIN_DEPENDENCY_MISMATCH', () => {
  assert.throws(() => parseIncomingLean({}), (e: Error & { code?: string }) => e.code === 'LAMBKIN_DEPENDENCY_MISMATCH')
})

async function connect (url: string, protocolVersion: 4 | 5, id: string, counts?: (c: MqttClient) => void): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: id, protocolVersion, reconnectPeriod: counts === undefined ? 0 : 50, manualConnect: true })
  counts?.(client)
  const up = new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject) })
  client.connect()
  await up
  return client
}

test('an MQTT.js client reads its messages and PUBACKs through the fast path against Mosquitto, MQTT 5 and 3.1.1', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  const broker = await startMosquitto()
  try {
    for (const v of [5, 4] as const) {
      let counts: LeanParseCounts = { lean: 0, handedOn: 0 }
      const reader = await connect(broker.url, v, `lean-reader-${v}`, (c) => { counts = parseIncomingLean(c) })
      const writer = await connect(broker.url, v, `lean-writer-${v}`)
      await reader.subscribeAsync('lean/#', { qos: 1 })
      const got: IPublishPacket[] = []
      const all = new Promise<void>((resolve) => { reader.on('message', (_t, _p, packet) => { got.push(packet); if (got.length === 6) resolve() }) })
      const properties = v === 5 ? { userProperties: JSON.parse('{"__proto__":"p","hop":["1","2"]}') as Record<string, string[]>, responseTopic: 'r/é' } : undefined
      for (let i = 0; i < 3; i++) {
        await writer.publishAsync(`lean/${i}/🐑`, `m${i}`, { qos: 1, properties })
        await writer.publishAsync('lean/constructor', Buffer.alloc(i * 1000, i), { qos: 0 })
      }
      // The reader's own QoS 1 publish: its PUBACK comes back through the parser too.
      await reader.publishAsync('elsewhere', 'x', { qos: 1 })
      await all
      assert.equal(got.filter((p) => p.qos === 1).map((p) => [p.topic, p.payload.toString()]), [0, 1, 2].map((i) => [`lean/${i}/🐑`, `m${i}`]))
      assert.equal(got.filter((p) => p.qos === 0).map((p) => p.payload.length), [0, 1000, 2000])
      if (v === 5) assert.equal(shape(got[0].properties), shape({ userProperties: Object.assign(Object.create(null) as object, JSON.parse('{"__proto__":"p","hop":["1","2"]}') as object), responseTopic: 'r/é' }))
      assert.ok(counts.lean >= 7, `lean ${counts.lean}`)
      // The parser of the next connection, after a cut, reads through the fast path too.
      const before = counts.lean
      const back = new Promise<void>((resolve) => reader.once('connect', () => resolve()))
      reader.stream.destroy()
      await back
      const again = new Promise<IPublishPacket>((resolve) => reader.once('message', (_t, _p, packet) => resolve(packet)))
      await writer.publishAsync('lean/again', 'after the cut', { qos: 1 })
      assert.is((await again).payload.toString(), 'after the cut')
      assert.ok(counts.lean > before, `lean ${counts.lean} after the cut, ${before} before`)
      await Promise.all([reader.endAsync(), writer.endAsync()])
    }
  } finally {
    await broker.close()
  }
})

test.run()
