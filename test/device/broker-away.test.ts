// While the trigger broker is away (docs/durability.md on bounded memory;
// a trigger broker down at start degrades the agent, it does not stop it): the agent starts anyway, runs its sensors, keeps QoS 1
// publishes in the store rather than in MQTT.js's memory, reports the link state, and takes
// MQTT triggers once the broker comes. And a dead letter keeps a bounded part of its event.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import net from 'node:net'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import type { MqttLink } from '../../device/links/mqtt-link.js'
import { LevelOutboxStore } from '../../device/store/index.js'
import { fixture, invocations } from '../helpers/agent.js'
import { aedesBroker, freePort } from '../helpers/brokers.js'

const MiB = 1024 * 1024

async function until (what: string, check: () => boolean | Promise<boolean>, boundMs = 20_000): Promise<void> {
  const end = Date.now() + boundMs
  while (!(await check())) {
    if (Date.now() > end) assert.unreachable(`${what}: not reached`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Publishes MQTT.js holds in memory: its offline queue and its QoS 1 messages awaiting PUBACK. */
function heldByMqttJs (link: unknown): number {
  const client = (link as MqttLink).client as unknown as { queue: unknown[], outgoing: Record<string, unknown> }
  return client.queue.length + Object.keys(client.outgoing).length
}

const ALARM = {
  manifest: { triggers: [{ sensor: 'probe', path: 'sim:random-walk', everyMs: 10 }], permissions: { publish: ['alarms/#'] } },
  code: "export default (e, ctx) => { ctx.publish('alarms/probe', { v: e.value, pad: 'x'.repeat(2000) }, { qos: 1 }); return e.value }"
}

test('[degraded start] --mqtt to a broker that is not up: the agent starts, runs sensors, buffers QoS 1 publishes in the store, reports the link, and takes triggers once the broker comes', async () => {
  const f = fixture({
    alarm: ALARM,
    echo: { manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }] }, code: 'export default (e) => e.payload' }
  })
  const port = await freePort()
  const lines: string[] = []
  let sub: mqtt.MqttClient | undefined
  let broker: Awaited<ReturnType<typeof aedesBroker>> | undefined
  try {
    const agent = await f.start({ mqtt: { url: `mqtt://127.0.0.1:${port}`, reconnectMs: 300 }, metricsPort: 0 }, { log: (l) => lines.push(l) })
    const scrape = async (): Promise<string> => await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text()
    await invocations(agent, 200, (r) => r.fn === 'alarm' && r.ok)
    let text = await scrape()
    assert.match(text, /^lambkin_trigger_link_up 0$/m)
    assert.match(text, /^lambkin_publishes_inflight 0$/m)
    assert.ok(lines.some((l) => l.includes('is not reachable')), lines.join('\n'))
    // Nothing of the 200 publishes sits in MQTT.js's memory: they wait in the store.
    assert.is(heldByMqttJs(agent.triggerLink), 0, 'publishes held in MQTT.js memory')

    // The broker comes; a subscriber waits for the alarms made while it was away.
    broker = await aedesBroker(port)
    sub = await mqtt.connectAsync(broker.url)
    await sub.subscribeAsync('alarms/#', { qos: 1 })
    let alarms = 0
    sub.on('message', () => { alarms++ })
    await until('link up', async () => /^lambkin_trigger_link_up 1$/m.test(await scrape()))
    assert.ok(lines.some((l) => l.startsWith('trigger broker: connected')), lines.join('\n'))
    await until('200 buffered alarms delivered', () => alarms >= 200)
    const echoed = invocations(agent, 1, (r) => r.fn === 'echo')
    await sub.publishAsync('in/1', 'hello', { qos: 1 })
    assert.is((await echoed)[0].result, 'hello')
    text = await scrape()
    const inflight = Number(/^lambkin_publishes_inflight (\d+)$/m.exec(text)?.[1])
    assert.ok(inflight <= 64, `at most the window is in flight, got ${inflight}`)
    await agent.close()
  } finally {
    await sub?.endAsync()
    await broker?.close()
    f.cleanup()
  }
})

test('a trigger broker that refuses the agent\'s user name and password: the line says LAMBKIN_UNAUTHORIZED and which settings to check, not "not reachable", and the agent runs on', async () => {
  const f = fixture({ echo: { manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }] }, code: 'export default (e) => e.payload' } })
  // A real aedes whose authenticate hook refuses every CONNECT: CONNACK return code 4 (MQTT 3.1.1 section 3.2.2.3).
  const broker = await Aedes.createBroker({ authenticate: (_c, _u, _p, done) => { done(Object.assign(new Error('bad credentials'), { returnCode: 4 }), false) } })
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const lines: string[] = []
  try {
    const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`
    const agent = await f.start({ mqtt: { url, username: 'gh-01', password: 'typo', reconnectMs: 60_000 } }, { log: (l) => lines.push(l) })
    await until('the refusal logged', () => lines.some((l) => l.startsWith('trigger broker:')))
    const line = lines.find((l) => l.startsWith('trigger broker:')) as string
    assert.match(line, /is not usable \(LAMBKIN_UNAUTHORIZED: refused: .*mqtt\.username and mqtt\.password/)
    assert.not.match(line, /not reachable/)
    await agent.close()
  } finally {
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
    f.cleanup()
  }
})

test('[bounded memory] a broker that goes away: publishes wait in the store and count against the quota, oldest dropped and counted', async () => {
  const f = fixture({ alarm: ALARM })
  const broker = await aedesBroker()
  try {
    const agent = await f.start({ mqtt: { url: broker.url, reconnectMs: 60_000 }, outbox: { quotaBytes: MiB } })
    await broker.close()
    // ~2.1 KB per publish: 1,000 of them are twice the quota.
    await invocations(agent, 1000, (r) => r.fn === 'alarm', 120_000)
    assert.ok(heldByMqttJs(agent.triggerLink) <= 64, 'publishes held in MQTT.js memory: at most the window')
    await agent.close()
    const store = await LevelOutboxStore.open({ dir: f.dataDir })
    const s = await store.stats()
    await store.close()
    assert.ok(s.bytes + s.publishBytes <= MiB, `records ${s.bytes} + publishes ${s.publishBytes} within the quota`)
    assert.ok(s.droppedPublishes > 0, 'the oldest publishes were dropped, and counted')
    assert.ok(s.pendingPublishes > 100, `${s.pendingPublishes} publishes kept`)
    assert.is(s.dropped.result, 0, 'results outrank waiting publishes')
  } finally {
    f.cleanup()
  }
})

test('[dead letter] a large failed event keeps a bounded head, its size and sha256; one over the event cap keeps a preview; acknowledged results are not evicted', async () => {
  const f = fixture({ echo: { manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }] }, code: "export default (e) => { if (e.topic === 'in/big') throw new Error('refused'); return e.payload }" } })
  try {
    // The broker must let the 1 MiB messages in (its own packet cap is 320 KiB by default).
    const agent = await f.start({ brokerPort: 0, broker: { maxPacketBytes: 2 * MiB }, outbox: { quotaBytes: 2 * MiB } })
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    for (let i = 0; i < 100; i++) await c.publishAsync('in/small', String(i), { qos: 1 })
    // Under the 256 KiB event cap, so it runs, fails, and its dead letter keeps a 16 KiB head.
    for (let i = 0; i < 5; i++) await c.publishAsync('in/big', 'y'.repeat(100 * 1024), { qos: 1 })
    // Over the event cap (and under the embedded broker's 320 KiB packet limit): never runs; its
    // dead letter (LAMBKIN_INPUT_LIMIT) keeps the size and a 1 KiB preview.
    for (let i = 0; i < 5; i++) await c.publishAsync('in/huge', 'z'.repeat(300 * 1024), { qos: 1 })
    await c.endAsync()
    await agent.close()
    const store = await LevelOutboxStore.open({ dir: f.dataDir })
    const stats = await store.stats()
    const dead = await store.read({ kinds: ['dead-letter'] })
    const kept = await store.read({ kinds: ['result'] })
    await store.close()
    assert.is(stats.dropped.result, 0, 'no acknowledged result was evicted')
    assert.is(kept.length, 100)
    assert.is(dead.length, 10)
    const failed = dead.filter((d) => (d.data as { event: { topic: string } }).event.topic === 'in/big')
    const refused = dead.filter((d) => (d.data as { event: { topic: string } }).event.topic === 'in/huge')
    assert.is(failed.length, 5)
    assert.is(refused.length, 5)
    for (const d of failed) {
      const data = d.data as { error: { code: string }, event: { truncated: boolean, bytes: number, sha256: string, head: string, topic: string } }
      assert.is(data.error.code, 'LAMBKIN_FUNCTION_ERROR')
      assert.is(data.event.truncated, true)
      assert.ok(data.event.bytes > 100 * 1024)
      assert.match(data.event.sha256, /^[0-9a-f]{64}$/)
      assert.ok(d.bytes < 20 * 1024, `dead letter of ${d.bytes} bytes`)
    }
    for (const d of refused) {
      const data = d.data as { error: { code: string }, event: { payloadBytes: number, payloadPreviewBase64: string } }
      assert.is(data.error.code, 'LAMBKIN_INPUT_LIMIT')
      assert.is(data.event.payloadBytes, 300 * 1024)
      assert.is(Buffer.from(data.event.payloadPreviewBase64, 'base64').length, 1024)
      assert.ok(d.bytes < 20 * 1024, `dead letter of ${d.bytes} bytes`)
    }
  } finally {
    f.cleanup()
  }
})

test.run()
