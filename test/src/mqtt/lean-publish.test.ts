// The trigger link's lean MQTT.js publish path (src/mqtt/lean-publish.ts): a QoS 1 publish kept
// by a shallow copy in the outgoing store, and sent without MQTT.js's publish(), against a real
// Mosquitto in MQTT 5 and 3.1.1, with the bytes MQTT.js's own path writes.
import { createRequire } from 'node:module'
import mqtt from 'mqtt'
import type { IPublishPacket, MqttClient } from 'mqtt'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { leanPublisher, storeWithoutCopy } from '../../../src/mqtt/lean-publish.js'
import { ResendStore } from '../../../device/links/resend-store.js'
import { mosquittoMissing, startMosquitto } from '../../helpers/brokers.js'
import { startRelay } from '../../helpers/tcp-relay.js'

const generate = (createRequire(import.meta.resolve('mqtt'))('mqtt-packet') as { generate: (p: unknown, o: unknown) => Buffer }).generate
const skip = mosquittoMissing()

async function connect (url: string, protocolVersion: 4 | 5, id: string, store = new ResendStore()): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: id, protocolVersion, reconnectPeriod: 0, manualConnect: true, outgoingStore: store, clean: false })
  const up = new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject) })
  client.connect()
  await up
  return client
}

/** What the client's outgoing store was handed, in order. */
function storedPackets (store: ResendStore): IPublishPacket[] {
  const seen: IPublishPacket[] = []
  const put = store.put.bind(store)
  store.put = (p, cb) => { seen.push(p as IPublishPacket); return put(p, cb) }
  return seen
}

for (const version of [5, 4] as const) {
  test(`MQTT ${version === 5 ? '5' : '3.1.1'}: a QoS 1 publish skips publish(), stores the sent payload Buffer itself, writes MQTT.js's bytes and arrives`, async () => {
    if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
    const broker = await startMosquitto()
    try {
      const watcher = await connect(broker.url, version, `watch-${version}`)
      await watcher.subscribeAsync('w/#', { qos: 1 })
      const got = new Promise<IPublishPacket>((resolve) => watcher.once('message', (_t, _p, packet) => resolve(packet)))
      const store = new ResendStore()
      const client = await connect(broker.url, version, `lean-${version}`, store)
      storeWithoutCopy(client)
      const publish = leanPublisher(client)
      client.publish = () => { throw new Error('publish() called') }
      const stored = storedPackets(store)
      const sent: IPublishPacket[] = []
      client.on('packetsend', (p) => { if (p.cmd === 'publish') sent.push(p as IPublishPacket) })
      const payload = Buffer.from('{"value":30}')
      const properties = version === 5 ? { userProperties: { 'lambkin-hop': '2' }, responseTopic: 'r/1' } : undefined
      await new Promise<void>((resolve, reject) => publish('w/é', payload, 1, false, properties, (err) => { if (err != null) reject(err); else resolve() }))
      assert.is(stored.length, 1)
      assert.is(sent.length, 1)
      // No deep copy: the store holds its own packet object around the same payload Buffer.
      assert.is(stored[0].payload, payload)
      assert.is.not(stored[0], sent[0])
      assert.equal({ ...stored[0] }, { ...sent[0] })
      assert.equal(generate(sent[0], { protocolVersion: version }), generate({ cmd: 'publish', topic: 'w/é', payload, qos: 1, retain: false, dup: false, messageId: sent[0].messageId, ...(properties === undefined ? {} : { properties }) }, { protocolVersion: version }))
      const packet = await got
      assert.is(packet.topic, 'w/é')
      assert.is(packet.payload.toString(), '{"value":30}')
      if (version === 5) {
        assert.equal({ ...packet.properties?.userProperties }, { 'lambkin-hop': '2' })
        assert.is(packet.properties?.responseTopic, 'r/1')
      }
      // Acknowledged: nothing left in flight or in the store.
      assert.equal(Object.keys(client.outgoing), [])
      await client.endAsync()
      await watcher.endAsync()
    } finally {
      await broker.close()
    }
  })
}

test('300 QoS 1 publishes with hostile topics and user properties, the link cut every 40 sends: every callback ends, each arrives intact at least once, in order of first arrival', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  const broker = await startMosquitto()
  const relay = await startRelay({ port: broker.port })
  try {
    const watcher = await connect(broker.url, 5, 'lean-cut-watch')
    await watcher.subscribeAsync('#', { qos: 1 })
    const got = new Map<number, { topic: string, payload: string, props: unknown }>()
    const order: number[] = []
    watcher.on('message', (topic, payload, packet) => {
      const n = Number(payload.subarray(0, 6).toString())
      if (!got.has(n)) order.push(n)
      got.set(n, { topic, payload: payload.toString(), props: { ...packet.properties?.userProperties } })
    })
    const client = mqtt.connect(relay.url, { clientId: 'lean-cut', protocolVersion: 5, reconnectPeriod: 20, manualConnect: true, outgoingStore: new ResendStore(), clean: false })
    storeWithoutCopy(client)
    const publish = leanPublisher(client)
    await new Promise<void>((resolve) => { client.once('connect', () => resolve()); client.connect() })
    let sends = 0
    relay.filter = (p) => { if (p.dir === 'up' && p.type === 3 && ++sends % 40 === 0) setImmediate(() => relay.cut()) }
    const topics = ['__proto__', 'constructor', 'a/__proto__/constructor', 'é/温度/😀', 'prototype/toString']
    const want = new Map<number, { topic: string, payload: string, props: unknown }>()
    const done: Array<Promise<void>> = []
    for (let n = 0; n < 300; n++) {
      const topic = topics[n % topics.length]
      const payload = String(n).padStart(6, '0') + (n % 3 === 0 ? '' : 'ü'.repeat(n))
      const userProperties = JSON.parse(`{"__proto__":"p${n}","constructor":"c","ключ":"значение😀"}`) as Record<string, string>
      want.set(n, { topic, payload, props: { ...userProperties } })
      done.push(new Promise<void>((resolve, reject) =>
        publish(topic, Buffer.from(payload), 1, false, { userProperties }, (err) => { if (err != null) reject(err); else resolve() })))
    }
    await Promise.all(done)
    for (let i = 0; i < 1000 && got.size < 300; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.ok(relay.connections > 2, `the link was cut (${relay.connections} connections)`)
    assert.is(got.size, 300)
    for (const [n, w] of want) assert.equal(got.get(n), w, `message ${n}`)
    assert.equal(order, [...order].sort((a, b) => a - b), 'first arrivals in publish order')
    assert.equal(Object.keys(client.outgoing), [])
    await client.endAsync()
    await watcher.endAsync()
  } finally {
    await relay.close()
    await broker.close()
  }
})

test('a QoS 0 publish is written at once and not stored', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  const broker = await startMosquitto()
  try {
    const store = new ResendStore()
    const client = await connect(broker.url, 5, 'lean-q0', store)
    storeWithoutCopy(client)
    const stored = storedPackets(store)
    const publish = leanPublisher(client)
    let done = false
    publish('w/0', 'x', 0, false, undefined, () => { done = true })
    assert.ok(done)
    assert.is(stored.length, 0)
    await client.endAsync()
  } finally {
    await broker.close()
  }
})

test('a QoS 1 publish the broker never acknowledged is sent again from the store with DUP=1 on the next connection', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  const broker = await startMosquitto()
  try {
    const store = new ResendStore()
    const client = mqtt.connect(broker.url, { clientId: 'lean-resend', protocolVersion: 5, reconnectPeriod: 50, manualConnect: true, outgoingStore: store, clean: false })
    storeWithoutCopy(client)
    const publish = leanPublisher(client)
    await new Promise<void>((resolve) => { client.once('connect', () => resolve()); client.connect() })
    // The PUBACK is lost: the connection drops right after the publish is written.
    const sent: IPublishPacket[] = []
    client.on('packetsend', (p) => { if (p.cmd === 'publish') sent.push({ ...(p as IPublishPacket) }) })
    const acked = new Promise<void>((resolve, reject) => publish('w/r', Buffer.from('again'), 1, false, undefined, (err) => { if (err != null) reject(err); else resolve() }))
    client.stream.destroy()
    await acked
    assert.ok(sent.length >= 2, `${sent.length} sends`)
    assert.is(sent[0].dup, false)
    assert.is(sent[sent.length - 1].dup, true)
    assert.is(sent[sent.length - 1].payload.toString(), 'again')
    await client.endAsync()
  } finally {
    await broker.close()
  }
})

test('while MQTT.js is disconnecting, the call goes to its own publish(), which answers with its error', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  const broker = await startMosquitto()
  try {
    const client = await connect(broker.url, 5, 'lean-end')
    const publish = leanPublisher(client)
    const ended = client.endAsync()
    const err = await new Promise<Error | undefined>((resolve) => publish('w/e', 'x', 1, false, undefined, resolve))
    assert.match(String(err?.message), /disconnecting/)
    await ended
  } finally {
    await broker.close()
  }
})

test('a client without the members used is refused with LAMBKIN_DEPENDENCY_MISMATCH', () => {
  assert.throws(() => leanPublisher({}), (e: { code?: string }) => e.code === 'LAMBKIN_DEPENDENCY_MISMATCH')
  assert.throws(() => storeWithoutCopy({ _storeAndSend: () => {} }), (e: { code?: string }) => e.code === 'LAMBKIN_DEPENDENCY_MISMATCH')
})

test.run()
