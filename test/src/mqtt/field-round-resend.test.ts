// Field tests of this round's once-per-session rules (src/mqtt/session-resend.ts) where
// subscriptions change under overlapping filters: a QoS 0 filter beside a QoS 1 one that also
// matches skips its QoS 0 copy (higherMatch), so whatever makes the QoS 1 filter stop
// delivering must not leave a message with neither copy. Real aedes, the raw client of
// test/helpers/raw-mqtt.ts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { IPublishPacket } from 'mqtt-packet'
import { checkSession, connectRaw, startResendBroker, text } from '../../helpers/raw-mqtt.js'

test('`#` at QoS 0 beside `t/+` at QoS 1, `t/+` unsubscribed while QoS 1 messages flow: every message still arrives', async () => {
  const b = await startResendBroker()
  try {
    for (let round = 0; round < 5; round++) {
      const id = `unsub-${round}`
      const c = await connectRaw(b.port, id, { clean: false, ack: () => true })
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }, { topic: 't/+', qos: 1 }] })
      await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
      const sent: Array<Promise<void>> = []
      for (let i = 0; i < 200; i++) {
        if (i === 100) c.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['t/+'] })
        sent.push(b.publish('t/a', `${round}-${i}`))
        if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      await Promise.all(sent)
      await b.publish('u', `marker-${round}`)
      await c.until(() => c.publishes().some((p) => text(p) === `marker-${round}`), 'marker')
      const got = new Set(c.publishes().filter((p) => p.topic === 't/a').map(text))
      const missing = Array.from({ length: 200 }, (_, i) => `${round}-${i}`).filter((m) => !got.has(m))
      assert.equal(missing, [], `round ${round}: lost`)
      await c.leave()
      assert.is(await b.queued(id), 0, `round ${round}: left queued`)
    }
  } finally {
    await b.close()
  }
})

test('[MQTT-3.3.1-6] a retained QoS 1 message goes to a new QoS 0 subscription on its topic though a QoS 1 `a/#` of the session matches it too', async () => {
  const b = await startResendBroker()
  try {
    await b.publish('a/b', 'kept', 1, true)
    const c = await connectRaw(b.port, 'retained-new-sub', { clean: false, ack: () => true })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 1 }] })
    await c.until(() => c.publishes().length === 1, 'retained on a/#')
    c.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'a/b', qos: 0 }] })
    await c.until(() => c.got.filter((p) => p.cmd === 'suback').length === 2, 'second SUBACK')
    c.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'u', qos: 0 }] })
    await c.until(() => c.got.filter((p) => p.cmd === 'suback').length === 3, 'third SUBACK')
    await b.publish('u', 'marker2', 0)
    await c.until(() => c.publishes().some((p) => text(p) === 'marker2'), 'marker', 5000)
    assert.equal(c.publishes().filter((p) => p.topic === 'a/b').map(text), ['kept', 'kept'])
    await c.leave()
  } finally {
    await b.close()
  }
})

test('`#` QoS 2, `t/+` QoS 1 and `t/#` QoS 2 on one session, 100 cuts and resumes with QoS 2 and QoS 1 messages queued while away: each once, only repeats with DUP, queue empty', async () => {
  const b = await startResendBroker()
  try {
    const id = 'mixed-resumes'
    const conns: Array<{ publishes: IPublishPacket[] }> = []
    let c = await connectRaw(b.port, id, { ack: () => true })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 2 }, { topic: 't/+', qos: 1 }, { topic: 't/#', qos: 2 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    let seq = 0
    for (let round = 0; round < 100; round++) {
      // Every other connection acknowledges nothing, so its messages go again (with DUP) after the cut.
      await b.publish('t/a', `m-${++seq}`, round % 3 === 0 ? 1 : 2)
      await c.until(() => c.publishes().some((p) => text(p) === `m-${seq}`), `m-${seq}`)
      const gone = new Promise<void>((resolve) => b.broker.once('clientDisconnect', () => resolve()))
      c.close()
      await gone
      conns.push({ publishes: c.publishes() })
      await b.publish('t/a', `m-${++seq}`, 2)
      await b.publish('t/b', `m-${++seq}`, 1)
      const acks = round % 2 === 0
      c = await connectRaw(b.port, id, { ack: () => acks })
      await c.until(() => c.publishes().some((p) => text(p) === `m-${seq}`), `m-${seq} after resume ${round}`)
    }
    const last = c
    const ackAll = await (async () => { last.close(); return await connectRaw(b.port, id, { ack: () => true }) })()
    await b.publish('t/z', 'marker-0', 1)
    await ackAll.until(() => ackAll.publishes().some((p) => text(p) === 'marker-0'), 'marker')
    conns.push({ publishes: last.publishes() }, { publishes: ackAll.publishes() })
    const { problems, seen } = checkSession(conns, (body) => body === 'marker-0' ? 0 : Number(body.split('-')[1]))
    assert.equal(problems, [])
    assert.is(seen.size, seq + 1, 'every message arrived')
    await ackAll.leave()
    assert.is(await b.queued(id), 0, 'something stayed queued')
  } finally {
    await b.close()
  }
})

test.run()
