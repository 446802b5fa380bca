// Processed once across a link cut with aedes as the trigger broker, made to resend as lambkin's
// own brokers do (src/mqtt/session-resend.ts; docs/durability.md, "A link blip"): a message whose
// PUBACK the agent wrote and the cut lost, and a new message routed while the link comes back.
// aedes as it comes can send the new message among the copies, all without DUP (and the new one
// twice), so the agent cannot tell the later copies from new messages and runs them again;
// resent first and with DUP, they are skipped.
// A real agent (MqttLink, LevelDB, QuickJS), aedes, a TCP relay that drops and cuts, MQTT.js.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { startResendBroker, trackAcks } from '../helpers/raw-mqtt.js'
import { fixture } from '../helpers/agent.js'
import { PUBACK, PUBLISH, startRelay } from '../helpers/tcp-relay.js'

test('[processed once] copies whose PUBACKs the cut lost, and a message routed during the reconnect: resent first and with DUP, they do not run again', async () => {
  const resend = await startResendBroker()
  const { broker, port } = resend
  const relay = await startRelay({ port })
  const f = fixture({ echo: { manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }] }, code: 'export default (e) => e.topic' } })
  let publisher: mqtt.MqttClient | undefined
  try {
    const agent = await f.start({ mqtt: { url: relay.url, reconnectMs: 100 } })
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'publisher', reconnectPeriod: 0 })
    const pub = publisher
    const { ackedAll } = trackAcks(broker)
    // in/1 to in/5 run and are committed; their PUBACKs leave the agent and are lost.
    const first = ['in/1', 'in/2', 'in/3', 'in/4', 'in/5']
    let dropped = 0
    let droppedOne = (): void => {}
    relay.filter = (p) => {
      if (p.dir === 'up' && p.type === PUBACK) { dropped++; droppedOne(); return false }
    }
    for (const t of first) await pub.publishAsync(t, 'x', { qos: 1 })
    while (dropped < first.length) await new Promise<void>((resolve) => { droppedOne = resolve })
    // The link is cut; when the agent's session resumes, in/live is routed to it before aedes
    // resends what is unacknowledged.
    const down: string[] = []
    relay.filter = (p) => {
      if (p.conn > 1 && p.dir === 'down' && p.type === PUBLISH) down.push(`${p.topic ?? ''}${p.dup ? ' dup' : ''}`)
    }
    broker.once('client', () => {
      broker.publish({ cmd: 'publish', topic: 'in/live', payload: Buffer.from('x'), qos: 1, retain: false, dup: false } as never, () => {})
    })
    relay.cut()
    await ackedAll([...first, 'in/live'])
    await agent.close()
    assert.equal((await f.records('result')).map((r) => (r.data as { result: unknown }).result), [...first, 'in/live'], 'each message ran once')
    assert.equal(down, [...first.map((t) => `${t} dup`), 'in/live'], 'the resends first, with DUP, and the new message once')
  } finally {
    await publisher?.endAsync(true)
    await relay.close()
    await resend.close()
    f.cleanup()
  }
})

test.run()
