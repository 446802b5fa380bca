// The embedded broker's bound on client publishes worked on at once (broker.maxTaken, see
// device/links/broker/index.ts): real aedes on an ephemeral port, real MQTT.js clients.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { setTimeout as sleep } from 'node:timers/promises'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import net from 'node:net'
import { startEmbeddedBroker } from '../../../device/links/broker/index.js'

/** Waits until `ok()` holds; throws after 10 s (a guard, not a timing). */
async function until (ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !ok(); i++) await sleep(10)
  if (!ok()) throw new Error(`timed out waiting for ${what}`)
}

test('at most broker.maxTaken publishes are worked on at once over all connections; the rest wait in order, each PUBACK after its own hook', async () => {
  const broker = await startEmbeddedBroker('127.0.0.1', 0, { settings: { maxTaken: 2 } })
  const started: string[] = []
  const release: Array<() => void> = []
  let running = 0
  let most = 0
  broker.onPublish(async (m) => {
    started.push(m.topic)
    most = Math.max(most, ++running)
    await new Promise<void>((resolve) => release.push(resolve))
    running--
  })
  const a = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })
  const b = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })
  try {
    const acked: string[] = []
    const sends: Array<Promise<unknown>> = []
    for (const [c, name] of [[a, 'a'], [b, 'b']] as const) {
      for (let i = 0; i < 3; i++) sends.push(c.publishAsync(`${name}/${i}`, 'x', { qos: 1 }).then(() => acked.push(`${name}/${i}`)))
    }
    await until(() => started.length === 2, 'the first two hooks')
    // Room for the other four packets to reach aedes: without the bound their hooks start now.
    await sleep(300)
    assert.is(started.length, 2, 'two hooks running, four publishes waiting')
    assert.is(acked.length, 0, 'nothing acknowledged before its hook settled')
    for (let n = 0; n < 6; n++) {
      await until(() => release.length > 0, 'a running hook')
      const before = acked.length;
      (release.shift() as () => void)()
      await until(() => acked.length > before, 'the PUBACK of the released hook')
    }
    await Promise.all(sends)
    assert.is(most, 2, 'never more than maxTaken hooks at once')
    assert.equal(started.filter((t) => t.startsWith('a/')), ['a/0', 'a/1', 'a/2'], 'one connection\'s publishes start in order')
    assert.equal(started.filter((t) => t.startsWith('b/')), ['b/0', 'b/1', 'b/2'])
    assert.equal(acked.length, 6)
  } finally {
    for (const r of release) r()
    await a.endAsync()
    await b.endAsync()
    await broker.close()
  }
})

test('a rejected hook frees its place: the publish gets no PUBACK, the next waiting one runs', async () => {
  const broker = await startEmbeddedBroker('127.0.0.1', 0, { settings: { maxTaken: 1 } })
  const started: string[] = []
  broker.onPublish(async (m) => {
    started.push(m.topic)
    if (m.topic === 'fail') throw new Error('store failed')
  })
  const failing = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })
  const other = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })
  try {
    let failedAcked = false
    failing.publishAsync('fail', 'x', { qos: 1 }).then(() => { failedAcked = true }, () => {})
    await other.publishAsync('next', 'y', { qos: 1 })
    assert.ok(started.includes('fail') && started.includes('next'))
    assert.is(failedAcked, false, 'a publish whose hook rejected is never acknowledged')
  } finally {
    failing.end(true)
    await other.endAsync()
    await broker.close()
  }
})

test('a hostile client floods QoS 1 and QoS 0 without waiting, then its link drops mid-stream: what it got PUBACKs for reached the hook, others are not stalled and keep their order', async () => {
  const broker = await startEmbeddedBroker('127.0.0.1', 0, { settings: { maxTaken: 2 } })
  const seen: string[] = []
  broker.onPublish(async (m) => {
    await new Promise((resolve) => setImmediate(resolve))
    seen.push(m.topic)
  })
  const port = Number(new URL(broker.url).port)
  const sock = net.connect(port, '127.0.0.1')
  await new Promise((resolve) => sock.once('connect', resolve))
  const acked: number[] = []
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  parser.on('packet', (p) => { if (p.cmd === 'puback' && p.messageId !== undefined) acked.push(p.messageId) })
  sock.on('data', (d) => parser.parse(d))
  sock.on('error', () => {})
  const polite = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })
  try {
    const connack = new Promise((resolve) => parser.once('packet', resolve))
    sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'flood', keepalive: 60 }))
    await connack
    // One write of 2000 publishes, QoS 1 and 0 mixed: aedes parses them in one read.
    const flood: Buffer[] = []
    for (let i = 1; i <= 2000; i++) {
      flood.push(mqttPacket.generate(i % 2 === 0
        ? { cmd: 'publish', topic: `flood/${i}`, payload: Buffer.alloc(0), qos: 1, messageId: i, dup: false, retain: false }
        : { cmd: 'publish', topic: `flood/${i}`, payload: 'x', qos: 0, dup: false, retain: false }))
    }
    sock.write(Buffer.concat(flood))
    const sends: Array<Promise<unknown>> = []
    for (let i = 0; i < 50; i++) sends.push(polite.publishAsync(`polite/${i}`, String(i), { qos: 1 }))
    await until(() => acked.length >= 10, 'some PUBACKs for the flood')
    sock.destroy()
    await Promise.all(sends)
    const ackedAtCut = [...acked]
    await until(() => seen.filter((t) => t.startsWith('polite/')).length === 50, 'the polite client\'s publishes')
    assert.equal(seen.filter((t) => t.startsWith('polite/')), Array.from({ length: 50 }, (_, i) => `polite/${i}`), 'one client\'s order kept')
    for (const id of ackedAtCut) assert.ok(seen.includes(`flood/${id}`), `flood/${id} was acknowledged, so it reached the hook`)
    const flooded = seen.filter((t) => t.startsWith('flood/'))
    assert.equal(flooded, [...flooded].sort((x, y) => Number(x.slice(6)) - Number(y.slice(6))), 'the flood kept its order')
    // Nothing holds a place for ever: a new client's publish still goes through.
    const late = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })
    await late.publishAsync('late', 'y', { qos: 1 })
    await late.endAsync()
    assert.ok(seen.includes('late'))
  } finally {
    sock.destroy()
    await polite.endAsync()
    await broker.close()
  }
})

test.run()
