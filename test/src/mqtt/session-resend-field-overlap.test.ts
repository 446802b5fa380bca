// Field test of lambkin's resend rules (src/mqtt/session-resend.ts) with a persistent session
// whose subscriptions overlap (`#` and `t/+`, as an agent with triggers on `in/#` and `in/+`
// has): a message matching both goes once while the client is connected (aedes dedupes live
// deliveries), so it must go once after a resume too, at the highest QoS of the subscriptions
// that match [MQTT-3.3.5-1], and leave nothing queued once acknowledged. Real aedes, the raw
// client of test/helpers/raw-mqtt.ts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkSession, connectRaw, startResendBroker, text } from '../../helpers/raw-mqtt.js'

const seqOf = (body: string): number => Number(body.split('-').at(-1))

test('overlapping subscriptions while connected: a message matching both goes once', async () => {
  const b = await startResendBroker()
  try {
    const c = await connectRaw(b.port, 'overlap-live', { ack: () => true })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 1 }, { topic: 't/+', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('t/a', 'm-1')
    await b.publish('t/a', 'm-2')
    await b.publish('u', 'marker-3')
    await c.until(() => c.publishes().some((p) => text(p) === 'marker-3'), 'marker')
    assert.equal(c.publishes().map(text), ['m-1', 'm-2', 'marker-3'])
    c.close()
  } finally {
    await b.close()
  }
})

// aedes 1.2.0 queues a message for a persistent session once per matching subscription
// (enqueueOffline hands every matching subscription to outgoingEnqueueCombi), and a resume
// resends every queue entry: without session-resend.ts' oncePerClient the resumed connection got
// `m-1+dup m-2 m-2 m-3 m-3 m-4 m-4`, each message queued while away (m-2), routed during the
// resume (m-3) or right after the CONNACK (m-4) twice, DUP 0, under two packet ids, and one entry
// of each stayed queued after both PUBACKs (the resume's outgoingUpdate gives the first entry
// both ids in turn), to be sent again on the next connection.
test('overlapping subscriptions across a resume: each message once, a repeat only with DUP, nothing left queued', async () => {
  const b = await startResendBroker()
  try {
    const id = 'overlap-resume'
    const c1 = await connectRaw(b.port, id)
    c1.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 1 }, { topic: 't/+', qos: 1 }] })
    await c1.until(() => c1.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('t/a', 'm-1')
    await c1.until(() => c1.publishes().length === 1, 'm-1')
    const gone = new Promise<void>((resolve) => b.broker.once('clientDisconnect', () => resolve()))
    c1.close()
    await gone
    await b.publish('t/a', 'm-2')
    b.broker.once('client', () => { void b.publish('t/a', 'm-3') })
    const c2 = await connectRaw(b.port, id, { ack: () => true })
    await b.publish('t/a', 'm-4')
    await b.publish('u', 'marker-5')
    await c2.until(() => c2.publishes().some((p) => text(p) === 'marker-5'), 'marker')
    assert.equal(checkSession([{ publishes: c1.publishes() }, { publishes: c2.publishes() }], seqOf).problems, [])
    assert.equal(c2.publishes().filter((p) => p.topic === 't/a').map(text), ['m-1', 'm-2', 'm-3', 'm-4'])
    // Every PUBLISH was acknowledged; aedes handles a PUBACK before the next packet it reads.
    await c2.leave()
    assert.is(await b.queued(id), 0, 'every acknowledged message left the queue')
    const c3 = await connectRaw(b.port, id, { ack: () => true })
    await b.publish('u', 'marker-6')
    await c3.until(() => c3.publishes().some((p) => text(p) === 'marker-6'), 'marker')
    assert.equal(c3.publishes().map(text), ['marker-6'], 'nothing is sent again')
    c3.close()
  } finally {
    await b.close()
  }
})

// aedes delivers a message matching a QoS 0 and a QoS 1 subscription through whichever it
// routes first: with `#` at QoS 0 and `t/+` at QoS 1 it sent m-1 at QoS 0 while connected,
// against [MQTT-3.3.5-1] (so did the rules here without higherMatch). During a resume the QoS 0
// copy is not held back, so it would also come beside the queued QoS 1 one.
test('a QoS 0 and a QoS 1 subscription overlapping: each message once, at QoS 1, connected and resumed', async () => {
  const b = await startResendBroker()
  try {
    const id = 'overlap-qos'
    const c1 = await connectRaw(b.port, id, { ack: () => true })
    c1.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }, { topic: 't/+', qos: 1 }] })
    await c1.until(() => c1.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('t/a', 'm-1')
    await b.publish('u', 'marker-2', 0)
    await c1.until(() => c1.publishes().some((p) => text(p) === 'marker-2'), 'marker')
    assert.equal(c1.publishes().map((p) => `${text(p)} qos=${p.qos}`), ['m-1 qos=1', 'marker-2 qos=0'])
    await c1.leave()
    await b.publish('t/a', 'm-2')
    b.broker.once('client', () => { void b.publish('t/a', 'm-3') })
    const c2 = await connectRaw(b.port, id, { ack: () => true })
    await b.publish('t/a', 'm-4')
    // QoS 0 is not held back during the resume: the last message is a QoS 1 one, sent after it.
    await c2.until(() => c2.publishes().some((p) => text(p) === 'm-4'), 'm-4')
    await b.publish('t/a', 'm-5')
    await c2.until(() => c2.publishes().some((p) => text(p) === 'm-5'), 'm-5')
    assert.equal(c2.publishes().map((p) => `${text(p)} qos=${p.qos}`), ['m-2 qos=1', 'm-3 qos=1', 'm-4 qos=1', 'm-5 qos=1'])
    await c2.leave()
    assert.is(await b.queued(id), 0, 'every acknowledged message left the queue')
  } finally {
    await b.close()
  }
})

// aedes 1.2.0 lowers a delivery to the QoS of a subscription to the message's exact topic,
// whatever a wildcard one beside it asks (lib/client.js deliverQoS; moscajs/aedes#1074, open):
// `t/a` at QoS 0 and `#` at QoS 1 get m-1 at QoS 0. It also filed the packet id in the queue,
// where nothing acknowledged it: the next connection got m-1 again, DUP 1, at QoS 1.
test('an exact-topic QoS 0 subscription beside a QoS 1 wildcard: aedes sends QoS 0, once, and nothing stays queued', async () => {
  const b = await startResendBroker()
  try {
    const id = 'overlap-exact'
    const c1 = await connectRaw(b.port, id, { ack: () => true })
    c1.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/a', qos: 0 }, { topic: '#', qos: 1 }] })
    await c1.until(() => c1.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('t/a', 'm-1')
    await b.publish('u', 'marker-2')
    await c1.until(() => c1.publishes().some((p) => text(p) === 'marker-2'), 'marker')
    assert.equal(c1.publishes().map((p) => `${text(p)} qos=${p.qos}`), ['m-1 qos=0', 'marker-2 qos=1'])
    await c1.leave()
    assert.is(await b.queued(id), 0, 'nothing waits for an acknowledgement')
    const c2 = await connectRaw(b.port, id, { ack: () => true })
    await b.publish('u', 'marker-3')
    await c2.until(() => c2.publishes().some((p) => text(p) === 'marker-3'), 'marker')
    assert.equal(c2.publishes().map(text), ['marker-3'], 'nothing is sent again')
    c2.close()
  } finally {
    await b.close()
  }
})

test.run()
