// Processed once with two functions whose triggers overlap (`in/#` and `in/+`, QoS 1) on aedes
// made to resend as lambkin's own brokers do (src/mqtt/session-resend.ts; docs/durability.md,
// "A link blip"): a message matching both runs each function once, whether it came while the
// link was up, was queued while the broker was out of reach, was routed while the session
// resumed, or was in flight when the link was cut. aedes queues a message once per matching
// subscription and resent every copy as a first delivery (DUP 0, a packet id of its own), so
// the agent ran both functions once per copy.
// A real agent (MqttLink, LevelDB, QuickJS), aedes, a TCP relay that refuses and cuts, MQTT.js.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { startResendBroker, trackAcks } from '../helpers/raw-mqtt.js'
import { fixture } from '../helpers/agent.js'
import { PUBACK, startRelay } from '../helpers/tcp-relay.js'

test('[processed once] overlapping triggers across a resume and a cut: each function runs each message once, and the session\'s queue ends empty', async () => {
  const resend = await startResendBroker()
  const { broker, port } = resend
  const relay = await startRelay({ port })
  const f = fixture({
    all: { manifest: { triggers: [{ mqtt: 'in/#', qos: 1 }] }, code: 'export default (e) => "all " + e.topic' },
    one: { manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }] }, code: 'export default (e) => "one " + e.topic' }
  })
  let publisher: mqtt.MqttClient | undefined
  try {
    let agentId = ''
    broker.on('client', (client) => { if (client.id !== 'publisher') agentId = client.id })
    const agent = await f.start({ mqtt: { url: relay.url, reconnectMs: 100 } })
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'publisher', reconnectPeriod: 0 })
    const pub = publisher
    const { acked, ackedAll } = trackAcks(broker)
    const topics: string[] = []
    const send = async (t: string): Promise<void> => { topics.push(t); await pub.publishAsync(t, 'x', { qos: 1 }) }

    // While the link is up.
    await send('in/1')
    await ackedAll(['in/1'])
    // The broker is out of reach: in/2 and in/3 are queued for the session.
    const gone = new Promise<void>((resolve) => broker.once('clientDisconnect', () => resolve()))
    relay.refuse = true
    relay.cut()
    await gone
    await send('in/2')
    await send('in/3')
    // in/4 is routed as the session resumes, before aedes resends the queue.
    broker.once('client', () => { void send('in/4') })
    relay.refuse = false
    await ackedAll(['in/2', 'in/3', 'in/4'])
    // A stream cut once the agent acknowledged in/7: the rest is in flight or queued.
    let cutDone = false
    relay.filter = (p) => {
      if (!cutDone && p.dir === 'up' && p.type === PUBACK && acked.has('in/7')) { cutDone = true; setImmediate(() => relay.cut()) }
    }
    const stream = Array.from({ length: 10 }, (_, i) => `in/${5 + i}`)
    for (const t of stream) await send(t)
    await ackedAll(stream)
    // A last message, sent once everything before it was acknowledged, closes the run.
    await send('in/end')
    await ackedAll(['in/end'])
    await agent.close()
    const results = (await f.records('result')).map((r) => (r.data as { result: string }).result)
    assert.equal([...results].sort(), topics.flatMap((t) => [`all ${t}`, `one ${t}`]).sort(), 'each function ran each message once')
    assert.is(await resend.queued(agentId), 0, 'every message the agent took left the session\'s queue')
  } finally {
    await publisher?.endAsync(true)
    await relay.close()
    await resend.close()
    f.cleanup()
  }
})

test.run()
