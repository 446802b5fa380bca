// Session resends of lambkin's own aedes brokers (src/mqtt/session-resend.ts): a QoS 1 message
// resent on a resumed session carries DUP 1 and its first packet id, one queued while the client
// was away goes with DUP 0, and resends come before a message routed during the reconnect, once.
// Real brokers (the device's embedded broker, the cloud's, a plain aedes with the wrapper) and a
// raw MQTT 3.1.1 client written with mqtt-packet, which acknowledges nothing unless told.
import type net from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startEmbeddedBroker } from '../../../device/links/broker/index.js'
import { asResend, oncePerClient } from '../../../src/mqtt/session-resend.js'
import { startCloud } from '../../helpers/cloud.js'
import { connectRaw, startResendBroker, text } from '../../helpers/raw-mqtt.js'

test('asResend marks only a PUBLISH that already has a packet id, on a copy', () => {
  const sent = { cmd: 'publish', qos: 1, messageId: 7, dup: false, topic: 't' }
  assert.equal(asResend(sent), { ...sent, dup: true })
  assert.is(sent.dup, false, 'the stored entry is left as it is')
  const queued = { cmd: 'publish', qos: 1, messageId: undefined, dup: false }
  assert.is(asResend(queued), queued, 'queued while away: a first delivery, DUP 0')
  assert.equal(asResend({ ...queued, dup: true }), queued, 'the publisher\'s DUP is not handed on [MQTT-3.3.1-3]')
  const pubrel = { cmd: 'pubrel', messageId: 7 }
  assert.is(asResend(pubrel), pubrel)
})

test('[MQTT-3.3.5-1] oncePerClient keeps one subscription per client, the one with the highest QoS, in first-seen order', () => {
  const subs = [{ clientId: 'a', topic: 'in/#', qos: 1 }, { clientId: 'b', topic: 'in/#', qos: 1 }, { clientId: 'a', topic: 'in/+', qos: 2 }, { clientId: 'a', topic: '#', qos: 1 }]
  assert.equal(oncePerClient(subs), [{ clientId: 'a', topic: 'in/+', qos: 2 }, { clientId: 'b', topic: 'in/#', qos: 1 }])
  const distinct = [{ clientId: 'a', qos: 1 }, { clientId: 'b', qos: 1 }]
  assert.is(oncePerClient(distinct), distinct, 'nothing repeats: the same array')
})

test('[MQTT-3.3.1-1] the embedded broker resends an unacknowledged QoS 1 message with DUP 1 and its packet id; one queued while away goes with DUP 0', async () => {
  const broker = await startEmbeddedBroker('127.0.0.1', 0)
  const publish = async (payload: string): Promise<void> => { await new Promise<void>((resolve, reject) => broker.publish('t/x', Buffer.from(payload), 1, false, (err) => { if (err === undefined) resolve(); else reject(err) })) }
  try {
    let c = await connectRaw(broker.port, 'sensor-dup')
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/#', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await publish('first')
    await c.until(() => c.publishes().length === 1, '1 PUBLISHes')
    const first = c.publishes()[0]
    assert.is(first.dup, false)
    await c.leave() // no PUBACK
    await publish('while away')
    c = await connectRaw(broker.port, 'sensor-dup')
    await c.until(() => c.publishes().length === 2, '2 PUBLISHes')
    const [again, queued] = c.publishes()
    assert.equal([text(again), again.messageId, again.dup], ['first', first.messageId, true])
    assert.equal([text(queued), queued.dup], ['while away', false])
    c.close()
  } finally {
    await broker.close()
  }
})

test('[MQTT-3.3.1-3] the embedded broker hands on a message its publisher sent with DUP 1 with DUP 0, to a QoS 1 and a QoS 0 subscription', async () => {
  const broker = await startEmbeddedBroker('127.0.0.1', 0)
  try {
    const sub = await connectRaw(broker.port, 'dup-subscriber')
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q1', qos: 1 }, { topic: 'q0', qos: 0 }] })
    await sub.until(() => sub.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    const pub = await connectRaw(broker.port, 'dup-publisher')
    pub.send({ cmd: 'publish', topic: 'q1', payload: Buffer.from('a'), qos: 1, dup: true, retain: false, messageId: 5 })
    pub.send({ cmd: 'publish', topic: 'q0', payload: Buffer.from('b'), qos: 1, dup: true, retain: false, messageId: 6 })
    await sub.until(() => sub.publishes().length === 2, '2 PUBLISHes')
    assert.equal(sub.publishes().map((p) => `${p.topic} dup=${String(p.dup)}`), ['q1 dup=false', 'q0 dup=false'])
    sub.close()
    pub.close()
  } finally {
    await broker.close()
  }
})

test('[MQTT-3.3.1-1] the cloud broker resends an unacknowledged QoS 1 message to a device with DUP 1 and its packet id', async () => {
  const f = await startCloud()
  try {
    const id = 'dup-device-01'
    const secret = await f.addDevice(id)
    const port = f.cloud.broker.port as number
    const auth = { username: id, password: Buffer.from(secret) }
    let c = await connectRaw(port, id, auth)
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `lambkin/v1/${id}/down/#`, qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await f.cloud.broker.publish(`lambkin/v1/${id}/down/test`, Buffer.from('down'), { qos: 1, retain: false })
    await c.until(() => c.publishes().length === 1, '1 PUBLISHes')
    const first = c.publishes()[0]
    assert.is(first.dup, false)
    c.close()
    c = await connectRaw(port, id, auth)
    await c.until(() => c.publishes().length === 1, '1 PUBLISHes')
    assert.equal([text(c.publishes()[0]), c.publishes()[0].messageId, c.publishes()[0].dup], ['down', first.messageId, true])
    c.close()
  } finally {
    await f.cleanup()
  }
})

test('[MQTT-4.6.0-6] resends come before a message routed while the session resumes, and that message goes once', async () => {
  const b = await startResendBroker()
  const { broker, port } = b
  const publish = async (payload: string): Promise<void> => { await b.publish('t', payload) }
  try {
    let c = await connectRaw(port, 'resume-order')
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await publish('a')
    await publish('b')
    await c.until(() => c.publishes().length === 2, '2 PUBLISHes')
    await c.leave()
    await publish('queued')
    // Routed after aedes restored the subscription and before it resent the queue.
    broker.once('client', () => { void publish('live') })
    const ready = new Promise<void>((resolve) => broker.once('clientReady', () => resolve()))
    c = await connectRaw(port, 'resume-order')
    await ready
    await publish('marker')
    await c.until(() => c.publishes().some((p) => text(p) === 'marker'), 'marker')
    assert.equal(c.publishes().map((p) => `${text(p)} dup=${String(p.dup)}`), ['a dup=true', 'b dup=true', 'queued dup=false', 'live dup=false', 'marker dup=false'])
    c.close()
  } finally {
    await b.close()
  }
})

test('a message held for a resuming connection that closes before it is ready goes to the next connection of the session', async () => {
  const b = await startResendBroker()
  const { broker, port } = b
  const publish = async (payload: string): Promise<void> => { await b.publish('t', payload) }
  try {
    let c = await connectRaw(port, 'resume-closed')
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    c.close()
    // The resuming connection is cut once 'held' is routed to it, before aedes says it is ready.
    broker.once('client', (client) => {
      void publish('held').then(() => { (client as unknown as { conn: net.Socket }).conn.destroy() })
    })
    await (await connectRaw(port, 'resume-closed', { noWait: true })).closed
    c = await connectRaw(port, 'resume-closed')
    await publish('marker')
    await c.until(() => c.publishes().some((p) => text(p) === 'marker'), 'marker')
    assert.equal(c.publishes().map(text), ['held', 'marker'])
    c.close()
  } finally {
    await b.close()
  }
})

test.run()
