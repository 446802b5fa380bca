// docs/performance.md, "Memory": what the agent holds does not grow with load: under a flood larger than the agent can
// take, what it holds in flight stays bounded and the excess waits at the broker, which is
// where MQTT keeps it. Counted, not measured in RSS: QoS 1 messages taken and not yet
// acknowledged (MAX_HELD, announced as the MQTT 5 Receive Maximum), QoS 1 publishes awaiting
// their PUBACK (PUBLISH_WINDOW) and committed publishes queued behind them (MAX_QUEUED).
// Real Mosquitto (its default max_inflight_messages of 20), LevelDB and QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import type { Agent } from '../../device/index.js'
import type { MqttLink } from '../../device/links/mqtt-link.js'
import { MAX_HELD } from '../../device/links/mqtt-ack-hold.js'
import { MAX_QUEUED, PUBLISH_WINDOW } from '../../device/links/durable-publishes.js'
import { fixture, invocations } from '../helpers/agent.js'
import { startMosquitto } from '../helpers/brokers.js'

const N = 3000

test('a flood waits at the broker: messages held, publishes in flight and queued stay within their bounds', async () => {
  // A deep queue, so Mosquitto keeps the whole flood for the agent rather than dropping past 1000.
  const broker = await startMosquitto(['max_queued_messages 100000'])
  const f = fixture({
    relay: {
      manifest: { triggers: [{ mqtt: 'flood/+', qos: 1 }], permissions: { publish: ['out/#'] } },
      // Some work per message, so the flood outruns the agent.
      code: "export default (e, ctx) => { let h = 0; for (let i = 0; i < 5000; i++) h = (h * 31 + i) | 0; ctx.publish('out/' + (e.payload.i % 4), { i: e.payload.i, h }, { qos: 1 }) }"
    }
  })
  let agent: Agent | undefined
  let pub: mqtt.MqttClient | undefined
  let sub: mqtt.MqttClient | undefined
  try {
    sub = await mqtt.connectAsync(broker.url, { clientId: 'flood-out' })
    await sub.subscribeAsync('out/#', { qos: 1 })
    const arrived = new Set<number>()
    let allArrived: () => void = () => {}
    const published = new Promise<void>((resolve) => { allArrived = resolve })
    sub.on('message', (_t, payload) => { arrived.add((JSON.parse(payload.toString()) as { i: number }).i); if (arrived.size === N) allArrived() })
    agent = await f.start({ mqtt: { url: broker.url } })
    const link = agent.triggerLink as MqttLink
    let done = 0
    agent.on('invocation', () => { done++ })
    const all = invocations(agent, N, () => true, 120_000)
    pub = await mqtt.connectAsync(broker.url, { clientId: 'flood' })
    let accepted = 0
    const peak = { held: 0, publishing: 0, queued: 0, atBroker: 0 }
    const sample = setInterval(() => {
      const now = link.inFlight
      peak.held = Math.max(peak.held, now.held)
      peak.publishing = Math.max(peak.publishing, now.publishing)
      peak.queued = Math.max(peak.queued, now.queued)
      // Taken by the broker, neither done nor held by the agent: waiting at the broker.
      peak.atBroker = Math.max(peak.atBroker, accepted - done - now.held)
    }, 1)
    const flood = pub
    await Promise.all(Array.from({ length: N }, async (_, i) => { await flood.publishAsync(`flood/${i % 8}`, JSON.stringify({ i }), { qos: 1 }); accepted++ }))
    await all
    await published
    clearInterval(sample)
    assert.ok(peak.held <= MAX_HELD + 1, `held ${peak.held} messages, bound ${MAX_HELD} (+1 whose callback waits)`)
    assert.ok(peak.held > 20, `the pipeline is deeper than Mosquitto's max_inflight_messages of 20: held at most ${peak.held}`)
    assert.ok(peak.publishing <= PUBLISH_WINDOW, `${peak.publishing} publishes awaiting PUBACK, bound ${PUBLISH_WINDOW}`)
    assert.ok(peak.queued <= MAX_QUEUED, `${peak.queued} publishes queued, bound ${MAX_QUEUED}`)
    assert.ok(peak.atBroker > MAX_HELD, `the excess waited at the broker (at most ${peak.atBroker} there at once)`)
    await agent.close()
    agent = undefined
    assert.is(await f.pendingPublishes(), 0, 'every publish was acknowledged and left the store')
  } finally {
    await pub?.endAsync(true)
    await sub?.endAsync(true)
    await agent?.close()
    f.cleanup()
    await broker.stop()
  }
})

test.run()
