// W9's pieces on their own: reading a hop from user properties (only what lambkin writes),
// the 3.1.1 fallback's memory (bounded in time and size), and the PUBLISH packet size the
// link checks against the broker's maximum, compared with mqtt-packet's own encoder.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqttPacket from 'mqtt-packet'
import { deeper, hopProperties, readHop, RecentPublishes } from '../../../device/links/hops.js'
import { publishPacketBytes, refusalOf } from '../../../device/links/publish-limits.js'

test('[W9] a hop is read back from the user properties it was written to', () => {
  const h = { traceId: '6f1c2f5e-0a4b-4a57-9c1e-2b0f7d1c9a11', hop: 7 }
  assert.equal(readHop(hopProperties(h)), h)
  assert.equal(hopProperties(h), { 'lambkin-trace': h.traceId, 'lambkin-hop': '7' })
})

test('[W9] properties lambkin did not write start a new trace', () => {
  assert.is(readHop(undefined), undefined)
  assert.is(readHop({}), undefined)
  assert.is(readHop({ 'lambkin-hop': '3' }), undefined, 'no trace')
  assert.is(readHop({ 'lambkin-trace': 't', 'lambkin-hop': ['1', '2'] }), undefined, 'repeated property')
  assert.is(readHop({ 'lambkin-trace': 't', 'lambkin-hop': '-1' }), undefined)
  assert.is(readHop({ 'lambkin-trace': 't', 'lambkin-hop': '1.5' }), undefined)
  assert.is(readHop({ 'lambkin-trace': 't', 'lambkin-hop': '1e3' }), undefined)
  assert.is(readHop({ 'lambkin-trace': 't', 'lambkin-hop': '99999999' }), undefined, 'more digits than a hop has')
  assert.is(readHop({ 'lambkin-trace': 'has space', 'lambkin-hop': '1' }), undefined)
  assert.is(readHop({ 'lambkin-trace': 'x'.repeat(129), 'lambkin-hop': '1' }), undefined)
  assert.equal(readHop({ 'lambkin-trace': 't', 'lambkin-hop': '0' }), { traceId: 't', hop: 0 })
})

test('[W9] a batch runs at the deepest hop among its messages', () => {
  const a = { traceId: 'a', hop: 2 }
  const b = { traceId: 'b', hop: 5 }
  assert.is(deeper(undefined, undefined), undefined)
  assert.is(deeper(a, undefined), a)
  assert.is(deeper(undefined, b), b)
  assert.is(deeper(a, b), b)
  assert.is(deeper(b, a), b)
})

test('[W9] 3.1.1 fallback: own publishes are recognised by topic and payload, for ttlMs only', () => {
  let now = 1000
  const recent = new RecentPublishes({ ttlMs: 500, now: () => now })
  const h = { traceId: 't', hop: 3 }
  recent.remember('a/b', 'payload', h)
  assert.equal(recent.lookup('a/b', Buffer.from('payload')), h, 'string and bytes of the same payload match')
  assert.is(recent.lookup('a/b', 'other'), undefined)
  assert.is(recent.lookup('a/c', 'payload'), undefined)
  // The split between topic and payload is part of the key.
  recent.remember('a', 'bc', h)
  assert.is(recent.lookup('ab', 'c'), undefined)
  now += 501
  assert.is(recent.lookup('a/b', 'payload'), undefined, 'forgotten after ttlMs')
  assert.is(recent.size, 0)
})

test('[W9] 3.1.1 fallback: memory is bounded, the oldest go first', () => {
  const recent = new RecentPublishes({ maxEntries: 3, now: () => 0 })
  for (let i = 0; i < 10; i++) recent.remember(`t/${i}`, 'x', { traceId: 't', hop: i })
  assert.is(recent.size, 3)
  assert.is(recent.lookup('t/6', 'x'), undefined)
  assert.equal(recent.lookup('t/9', 'x'), { traceId: 't', hop: 9 })
})

test('publishPacketBytes matches the encoded PUBLISH packet (MQTT 3.1.1 and 5, with and without user properties)', () => {
  const cases: Array<[string, string | Uint8Array, 0 | 1]> = [
    ['a', '', 0], ['a/b', 'x', 1], ['sensors/€/t', '€'.repeat(40), 1], ['t', new Uint8Array(126), 0],
    ['t', new Uint8Array(200), 1], ['big', 'x'.repeat(16_380), 1], ['big', 'x'.repeat(2_100_000), 1]
  ]
  const props = hopProperties({ traceId: '6f1c2f5e-0a4b-4a57-9c1e-2b0f7d1c9a11', hop: 12 })
  for (const [topic, payload, qos] of cases) {
    const packet = { cmd: 'publish' as const, topic, payload: typeof payload === 'string' ? payload : Buffer.from(payload), qos, dup: false, retain: false, messageId: qos > 0 ? 1 : undefined }
    assert.is(publishPacketBytes(topic, payload, qos, 4), mqttPacket.generate(packet, { protocolVersion: 4 }).length, `3.1.1 ${topic}`)
    assert.is(publishPacketBytes(topic, payload, qos, 5), mqttPacket.generate({ ...packet, properties: {} }, { protocolVersion: 5 }).length, `5 ${topic}`)
    assert.is(publishPacketBytes(topic, payload, qos, 5, props), mqttPacket.generate({ ...packet, properties: { userProperties: props } }, { protocolVersion: 5 }).length, `5+props ${topic}`)
  }
})

test('refusalOf: PUBACK reason codes >= 0x80 are refusals; lost connections are not', () => {
  const coded = (code: number): Error & { code: number } => Object.assign(new Error('Publish error'), { code })
  assert.equal(refusalOf(coded(0x87))?.permanent, true)
  assert.equal(refusalOf(coded(0x95))?.permanent, true)
  assert.equal(refusalOf(coded(0x97))?.permanent, false, 'Quota exceeded may pass')
  assert.is(refusalOf(coded(0x10)), undefined, 'No matching subscribers is a success')
  assert.is(refusalOf(new Error('Connection closed')), undefined)
  assert.is(refusalOf(Object.assign(new Error('x'), { code: 'ECONNRESET' })), undefined)
})

test.run()
