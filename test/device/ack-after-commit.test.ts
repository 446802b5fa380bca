// "Ack after commit" on every path (docs/durability.md, DESIGN section 6): a QoS 1 trigger is acknowledged only once its
// outcome is durable. A commit the store refuses leaves the message with the publisher (the
// embedded broker) or the broker (MqttLink), and it runs once the store takes it; overload
// holds messages back instead of taking and dropping them. Real aedes, Mosquitto, MQTT.js
// clients (MQTT 3.1.1 and 5), LevelDB and QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { LevelOutboxStore } from '../../device/store/index.js'
import { fixture, invocations } from '../helpers/agent.js'
import { aedesBroker, freePort, startMosquitto } from '../helpers/brokers.js'
import type { TestBroker } from '../helpers/brokers.js'

const MiB = 1024 * 1024

/**
 * Each call commits ten 120 KB QoS 1 publishes: more than a 1 MiB outbox can ever hold, so the
 * store refuses the commit (LAMBKIN_STORE_FULL); with a larger quota it commits.
 */
const HEAVY = {
  manifest: { triggers: [{ mqtt: 'jobs/+', qos: 1 }], permissions: { publish: ['out/#'] } },
  code: "export default (e, ctx) => { for (let i = 0; i < 10; i++) ctx.publish('out/' + i, 'x'.repeat(120000), { qos: 1 }); return e.payload }"
}

async function results (dataDir: string): Promise<unknown[]> {
  const store = await LevelOutboxStore.open({ dir: dataDir })
  try {
    return (await store.read({ kinds: ['result'] })).map((r) => (r.data as { result: unknown }).result)
  } finally {
    await store.close()
  }
}

test('[ack after commit] embedded broker, MQTT 3.1.1 sensor: a commit the store refuses gets no PUBACK; the sensor re-sends and it runs once the store takes it', async () => {
  const f = fixture({ heavy: HEAVY })
  const port = await freePort()
  const sensor = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, clientId: 'sensor-1', clean: false, reconnectPeriod: 100 })
  try {
    const first = await f.start({ brokerPort: port, outbox: { quotaBytes: MiB } })
    const refused = invocations(first, 1, (r) => r.code === 'LAMBKIN_STORE_FULL')
    let acked = false
    const sent = sensor.publishAsync('jobs/1', 'run me', { qos: 1 }).then(() => { acked = true })
    await refused
    await first.close()
    assert.not.ok(acked, 'the sensor got a PUBACK for a message whose results were never written')
    assert.match(first.metrics.toPrometheus(), /lambkin_commit_failures_total\{code="LAMBKIN_STORE_FULL"\} [1-9]/)
    // The store takes it now (a larger quota); the sensor still holds the message and re-sends it.
    const second = await f.start({ brokerPort: port, outbox: { quotaBytes: 64 * MiB } })
    await sent
    await second.close()
    assert.equal(await results(f.dataDir), ['run me'])
  } finally {
    sensor.end(true)
    f.cleanup()
  }
})

// Guards an assumption: if aedes ever lets MQTT 5 clients in, check that a refused
// authorizePublish still sends no PUBACK (an MQTT 5 reason code would let the sensor forget).
test('[ack after commit] embedded broker: an MQTT 5 sensor is refused at CONNECT (aedes speaks 3.1.1), so it never gets a PUBACK for what was not stored', async () => {
  const f = fixture({ heavy: HEAVY })
  try {
    const agent = await f.start({ brokerPort: 0, outbox: { quotaBytes: MiB } })
    const err = await mqtt.connectAsync(agent.brokerUrl as string, { protocolVersion: 5, reconnectPeriod: 0 }).then(
      (c) => {
        c.end(true)
        return undefined
      },
      (e: Error) => e
    )
    await agent.close()
    assert.ok(err !== undefined, 'an MQTT 5 client was let in')
  } finally {
    f.cleanup()
  }
})

async function brokerKeepsRefusedMessage (broker: TestBroker, protocolVersion: 4 | 5): Promise<void> {
  const f = fixture({ heavy: HEAVY })
  const publisher = await mqtt.connectAsync(broker.url, { protocolVersion, clientId: `pub-${protocolVersion}` })
  try {
    const first = await f.start({ mqtt: { url: broker.url }, outbox: { quotaBytes: MiB } })
    const refused = invocations(first, 1, (r) => r.code === 'LAMBKIN_STORE_FULL')
    await publisher.publishAsync('jobs/1', `from MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}`, { qos: 1 })
    await refused
    await first.close()
    // The agent's persistent session at the broker still holds the unacknowledged message.
    const second = await f.start({ mqtt: { url: broker.url }, outbox: { quotaBytes: 64 * MiB } })
    await invocations(second, 1, (r) => r.ok)
    await second.close()
    assert.equal(await results(f.dataDir), [`from MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}`])
  } finally {
    await publisher.endAsync()
    f.cleanup()
  }
}

test('[ack after commit] MqttLink over aedes, MQTT 3.1.1 publisher: a refused commit is not acknowledged; the broker delivers it again and it runs once', async () => {
  const broker = await aedesBroker()
  try {
    await brokerKeepsRefusedMessage(broker, 4)
  } finally {
    await broker.close()
  }
})

test('[ack after commit] MqttLink over Mosquitto, MQTT 5 and MQTT 3.1.1 publishers: a refused commit is not acknowledged; it runs once the store takes it', async () => {
  const broker = await startMosquitto()
  try {
    await brokerKeepsRefusedMessage(broker, 5)
    await brokerKeepsRefusedMessage(broker, 4)
  } finally {
    await broker.close()
  }
})

test('[ack after commit] MqttLink: after a refused commit the link reconnects so the broker delivers the message again, without a restart', async () => {
  const broker = await aedesBroker()
  const f = fixture({ heavy: HEAVY })
  const publisher = await mqtt.connectAsync(broker.url)
  const lines: string[] = []
  try {
    const agent = await f.start({ mqtt: { url: broker.url, reconnectMs: 100 }, outbox: { quotaBytes: MiB } }, { log: (l) => lines.push(l) })
    const twice = invocations(agent, 2, (r) => r.code === 'LAMBKIN_STORE_FULL')
    await publisher.publishAsync('jobs/1', 'again', { qos: 1 })
    await twice
    await agent.close()
    assert.ok(lines.some((l) => l.includes('not acknowledged, the broker keeps it')), lines.join('\n'))
    assert.ok(lines.filter((l) => l.startsWith('trigger broker: connected')).length >= 2, 'the link reconnected to get the message again')
  } finally {
    await publisher.endAsync()
    await broker.close()
    f.cleanup()
  }
})

test('[ack after commit] MqttLink: a message whose commit keeps failing does not hold back the messages after it', async () => {
  const broker = await aedesBroker()
  const f = fixture({ heavy: HEAVY, light: { manifest: { triggers: [{ mqtt: 'light/+', qos: 1 }] }, code: 'export default (e) => e.payload' } })
  const publisher = await mqtt.connectAsync(broker.url)
  try {
    const agent = await f.start({ mqtt: { url: broker.url, reconnectMs: 100 }, outbox: { quotaBytes: MiB } })
    const refusedTwice = invocations(agent, 2, (r) => r.code === 'LAMBKIN_STORE_FULL')
    const light = invocations(agent, 30, (r) => r.fn === 'light' && r.ok, 60_000)
    await publisher.publishAsync('jobs/1', 'never fits', { qos: 1 })
    for (let i = 0; i < 30; i++) await publisher.publishAsync(`light/${i}`, String(i), { qos: 1 })
    await light
    await refusedTwice
    await agent.close()
    assert.equal((await results(f.dataDir)).map(Number).sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i))
  } finally {
    await publisher.endAsync()
    await broker.close()
    f.cleanup()
  }
})

const SLOW = {
  manifest: { triggers: [{ mqtt: 'work/+', qos: 1 }], limits: { instructions: 1e9 } },
  code: 'export default (e) => { let s = 0; for (let i = 0; i < 2e5; i++) s += i; return e.payload }'
}

test('[flow control] embedded broker, maxConcurrent 1 and queueDepth 1, 20 sensors: every PUBACK stands for a stored result, none is throttled', async () => {
  const f = fixture({ slow: SLOW })
  const sensors: mqtt.MqttClient[] = []
  try {
    const agent = await f.start({ brokerPort: 0, invocation: { maxConcurrent: 1, queueDepth: 1 } })
    for (let i = 0; i < 20; i++) sensors.push(await mqtt.connectAsync(agent.brokerUrl as string))
    await Promise.all(sensors.map(async (c, i) => await c.publishAsync(`work/${i}`, String(i), { qos: 1 })))
    await agent.close()
    assert.not.match(agent.metrics.toPrometheus(), /lambkin_throttles_total\{function="slow"\} [1-9]/)
    const got = (await results(f.dataDir)).map(Number).sort((a, b) => a - b)
    assert.equal(got, Array.from({ length: 20 }, (_, i) => i))
  } finally {
    await Promise.all(sensors.map(async (c) => await c.endAsync()))
    f.cleanup()
  }
})

test('[flow control] MqttLink, one publisher firing 300 QoS 1 messages without waiting at maxConcurrent 1, queueDepth 1: all 300 run, none is dropped', async () => {
  const broker = await aedesBroker()
  const f = fixture({ slow: { ...SLOW, code: 'export default (e) => e.payload' } })
  const publisher = await mqtt.connectAsync(broker.url)
  try {
    const agent = await f.start({ mqtt: { url: broker.url }, invocation: { maxConcurrent: 1, queueDepth: 1 } })
    const all = invocations(agent, 300, () => true, 60_000)
    await Promise.all(Array.from({ length: 300 }, async (_, i) => await publisher.publishAsync(`work/${i}`, String(i), { qos: 1 })))
    const seen = await all
    await agent.close()
    assert.ok(seen.every((r) => r.ok), seen.filter((r) => !r.ok).map((r) => r.code).join(', '))
    assert.is(new Set(await results(f.dataDir)).size, 300)
  } finally {
    await publisher.endAsync()
    await broker.close()
    f.cleanup()
  }
})

test.run()
