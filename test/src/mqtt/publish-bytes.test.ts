// A PUBLISH written in one pass (src/mqtt/publish-bytes.ts) has the bytes mqtt-packet's own
// writer gives the same packet, as does a PUBACK, and anything of another shape is left to mqtt-packet.
import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { pubackBytes, publishBytes } from '../../../src/mqtt/publish-bytes.js'
import type { PublishBytesPacket } from '../../../src/mqtt/publish-bytes.js'

const generate = (createRequire(import.meta.resolve('mqtt'))('mqtt-packet') as { generate: (p: unknown, o: unknown) => Buffer }).generate

const long = 'é'.repeat(9000)
const payloads: unknown[] = ['{"value":30}', Buffer.from([0, 1, 2, 255]), '', Buffer.alloc(0), undefined, 'x'.repeat(200), Buffer.alloc(20_000, 7), long]
const topics = ['bench/out', 'w/é/🐑', '', 'constructor/__proto__']
const propertySets: unknown[] = [
  undefined,
  { userProperties: { 'lambkin-trace': 'abc', 'lambkin-hop': '2' } },
  { responseTopic: 'r/1', correlationData: Buffer.from('c0ffee', 'hex') },
  { userProperties: { hop: 'é' }, responseTopic: 'reply/🐑', correlationData: Buffer.alloc(0) },
  { correlationData: Buffer.from('x'), userProperties: { constructor: 'a', __proto__: 'b', long } },
  JSON.parse('{"userProperties":{"__proto__":"p","toString":"t"}}')
]

test('the bytes of every combination equal mqtt-packet\'s, MQTT 5 and 3.1.1', () => {
  let n = 0
  for (const protocolVersion of [5, 4] as const) {
    for (const topic of topics) {
      for (const payload of payloads) {
        for (const properties of propertySets) {
          for (const [qos, messageId] of [[0, undefined], [1, 1], [1, 65535], [0, 7]] as const) {
            for (const [dup, retain] of [[false, false], [true, true], [undefined, undefined]] as const) {
              const packet: PublishBytesPacket = { cmd: 'publish', topic, payload, qos, messageId, dup, retain, properties }
              const mine = publishBytes(packet, protocolVersion)
              assert.ok(mine !== undefined, JSON.stringify({ topic, qos, properties }))
              assert.equal(mine, generate(packet, { protocolVersion }), `${protocolVersion} ${topic} ${String(payload).slice(0, 20)} ${JSON.stringify(properties)} ${qos}`)
              n++
            }
          }
        }
      }
    }
  }
  assert.ok(n > 2000)
})

test('a remaining length of each variable-byte size (1 to 3 bytes) is written as mqtt-packet writes it', () => {
  for (const size of [0, 120, 127, 128, 16_383, 16_384, 200_000]) {
    const packet = { cmd: 'publish', topic: 't', payload: Buffer.alloc(size, 1), qos: 1, messageId: 9, dup: false, retain: false }
    assert.equal(publishBytes(packet, 5), generate(packet, { protocolVersion: 5 }))
    assert.equal(publishBytes(packet, 4), generate(packet, { protocolVersion: 4 }))
  }
})

test('other shapes are left to mqtt-packet (undefined)', () => {
  const base = { cmd: 'publish', topic: 't', payload: 'x', qos: 1, messageId: 1, dup: false, retain: false }
  const others: PublishBytesPacket[] = [
    { ...base, cmd: 'puback' },
    { ...base, qos: 2 },
    { ...base, messageId: undefined },
    { ...base, messageId: 70_000 },
    { ...base, topic: Buffer.from('t') },
    { ...base, payload: new Uint8Array([1]) },
    { ...base, payload: 5 },
    { ...base, dup: 1 },
    { ...base, properties: { topicAlias: 3 } },
    { ...base, properties: { userProperties: {} } },
    { ...base, properties: { userProperties: { a: ['1', '2'] } } },
    { ...base, properties: { userProperties: { a: 1 } } },
    { ...base, properties: { responseTopic: undefined } },
    { ...base, properties: { responseTopic: null } },
    { ...base, properties: { correlationData: 'text' } },
    { ...base, properties: Object.create({ userProperties: { a: 'b' } }) },
    { ...base, properties: [] },
    { ...base, topic: 'x'.repeat(70_000) }
  ]
  for (const p of others) assert.is(publishBytes(p, 5), undefined, JSON.stringify(p).slice(0, 80))
  assert.is(publishBytes(base, 3), undefined)
})

test('a PUBACK has the bytes mqtt-packet gives it; one with properties, a reason code under MQTT 5, or a bad id is left to mqtt-packet', () => {
  for (const messageId of [0, 1, 255, 256, 65535]) {
    for (const protocolVersion of [4, 5] as const) {
      const packet = { cmd: 'puback', messageId, reasonCode: 0 }
      assert.equal(pubackBytes(packet, protocolVersion), generate(packet, { protocolVersion }))
    }
    const v4 = { cmd: 'puback', messageId }
    assert.equal(pubackBytes(v4, 4), generate(v4, { protocolVersion: 4 }))
  }
  const others = [
    [{ cmd: 'puback', messageId: 1, reasonCode: 0x10 }, 5],
    [{ cmd: 'puback', messageId: 1 }, 5],
    [{ cmd: 'puback', messageId: 1, reasonCode: 0, properties: { reasonString: 'x' } }, 5],
    [{ cmd: 'puback', messageId: 70_000, reasonCode: 0 }, 4],
    [{ cmd: 'puback', reasonCode: 0 }, 4],
    [{ cmd: 'pubrec', messageId: 1, reasonCode: 0 }, 5]
  ] as const
  for (const [p, v] of others) assert.is(pubackBytes(p, v), undefined, JSON.stringify(p))
})

test.run()
