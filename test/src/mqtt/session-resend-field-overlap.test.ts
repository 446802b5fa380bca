// Field test of lambkin's resend rules (src/mqtt/session-resend.ts) with a persistent session
// whose subscriptions overlap (`#` and `t/+`, as an agent with triggers on `in/#` and `in/+`
// has): a message matching both goes once while the client is connected (aedes dedupes live
// deliveries), so it must go once after a resume too. Real aedes, the raw client of
// test/helpers/raw-mqtt.ts.
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

// KNOWN BUG (aedes 1.2.0, not covered by session-resend.ts): aedes queues a message for a
// persistent session once per matching subscription (enqueueOffline hands every matching
// subscription to outgoingEnqueueCombi), and a resume resends every queue entry. With `#` and
// `t/+` the resumed connection got `m-1+dup m-2 m-2 m-3 m-3 m-4 m-4`: each message queued while
// away (m-2), routed during the resume (m-3) or right after the CONNACK (m-4) twice, DUP 0, under
// two packet ids, 4 of 4 runs. A receiver cannot tell the second from a new message (the agent's
// processed once runs it again). Plain aedes does worse (m-4 three times under one packet id).
test.skip('overlapping subscriptions across a resume: each message once, a repeat only with DUP', async () => {
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
    c2.close()
  } finally {
    await b.close()
  }
})

test.run()
