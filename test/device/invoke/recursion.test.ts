// Wire rule W9 end to end: a function publishing to a topic its own trigger matches stops at
// invocation.maxHops, through each kind of trigger link (the embedded aedes in process, a
// Mosquitto speaking MQTT 5 with user properties, and an aedes that only speaks 3.1.1, where
// the agent recognises its own publishes). Real brokers, LevelDB and QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import net from 'node:net'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import type { Agent, InvocationRecord } from '../../../device/index.js'
import { fixture, invocations } from '../../helpers/agent.js'
import type { Fixture } from '../../helpers/agent.js'
import { startMosquitto } from '../../helpers/brokers.js'

const LOOP = {
  manifest: { triggers: [{ mqtt: 'loop/#', qos: 1 }], permissions: { publish: ['loop/#'] } },
  code: "export default (e, ctx) => { ctx.publish('loop/again', { n: (e.payload?.n ?? 0) + 1 }, { qos: 1 }); return { traceId: ctx.traceId, n: e.payload?.n ?? 0 } }"
}

const isStop = (r: InvocationRecord): boolean => r.code === 'LAMBKIN_RECURSION_LIMIT'

async function aedes311 (): Promise<{ url: string, close: () => Promise<void> }> {
  const broker = await Aedes.createBroker()
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** Starts the loop with one outside message, waits for the stop, and checks what W9 promises. */
async function expectStopAt (f: Fixture, agent: Agent, url: string, maxHops: number, logs: string[]): Promise<void> {
  const all: InvocationRecord[] = []
  agent.on('invocation', (r: InvocationRecord) => all.push(r))
  const stopped = invocations(agent, 1, isStop)
  const c = await mqtt.connectAsync(url)
  await c.publishAsync('loop/start', JSON.stringify({ n: 0 }), { qos: 1 })
  await c.endAsync()
  await stopped
  // The chain is over: nothing more runs (a loop would run ~45 times a second).
  await new Promise((resolve) => setTimeout(resolve, 500))
  const ran = all.filter((r) => r.ok)
  assert.is(ran.length, maxHops, `the chain ran ${ran.length} times, invocation.maxHops is ${maxHops}`)
  assert.is(all.filter(isStop).length, 1)
  // ctx.traceId follows the chain from its first message.
  const traces = new Set(ran.map((r) => (r.result as { traceId: string }).traceId))
  assert.is(traces.size, 1, `traces ${[...traces].join(', ')}`)
  const metrics = agent.metrics.toPrometheus()
  assert.match(metrics, /lambkin_recursive_invocations_dropped_total\{function="loop"\} 1\n/)
  assert.is(logs.filter((l) => l.includes('LAMBKIN_RECURSION_LIMIT')).length, 1, logs.join('\n'))
  await agent.close()
  const dead = (await f.records('dead-letter')).map((r) => r.data as { traceId: string, hop: number, error: { code: string } })
  assert.is(dead.length, 1)
  assert.is(dead[0]?.error.code, 'LAMBKIN_RECURSION_LIMIT')
  assert.is(dead[0]?.hop, maxHops)
  assert.is(dead[0]?.traceId, [...traces][0])
  assert.is((await f.records('result')).length, maxHops)
}

test('[W9] embedded broker: a function triggering itself stops at the default depth (16), counted, logged once', async () => {
  const f = fixture({ loop: LOOP })
  const logs: string[] = []
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ brokerPort: 0 }, { log: (l) => logs.push(l) })
    await expectStopAt(f, agent, agent.brokerUrl as string, 16, logs)
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await started?.close()
    f.cleanup()
  }
})

test('[W9] Mosquitto over MQTT 5: the hop travels as user properties and the chain stops at invocation.maxHops', async () => {
  const broker = await startMosquitto()
  const f = fixture({ loop: LOOP })
  const logs: string[] = []
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ mqtt: { url: broker.url }, invocation: { maxHops: 6 } }, { log: (l) => logs.push(l) })
    await expectStopAt(f, agent, broker.url, 6, logs)
    assert.not.ok(logs.some((l) => l.includes('MQTT 3.1.1')), 'Mosquitto speaks MQTT 5: no fallback')
    assert.match(broker.output(), /as lambkin-test-device \(p5,/, broker.output())
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await started?.close()
    f.cleanup()
    await broker.stop()
  }
})

test('[W9] a broker without MQTT 5: the link falls back to 3.1.1 and still stops a loop by its remembered publishes', async () => {
  const broker = await aedes311()
  const f = fixture({ loop: LOOP })
  const logs: string[] = []
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ mqtt: { url: broker.url }, invocation: { maxHops: 4 } }, { log: (l) => logs.push(l) })
    assert.ok(logs.some((l) => l.includes('MQTT 3.1.1')), logs.join('\n'))
    await expectStopAt(f, agent, broker.url, 4, logs)
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await started?.close()
    f.cleanup()
    await broker.close()
  }
})

test('[W9] mqtt.protocolVersion 4: the link speaks MQTT 3.1.1 to Mosquitto from the start and stops a loop by its remembered publishes', async () => {
  const broker = await startMosquitto()
  const f = fixture({ loop: LOOP })
  const logs: string[] = []
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ mqtt: { url: broker.url, protocolVersion: 4 }, invocation: { maxHops: 5 } }, { log: (l) => logs.push(l) })
    await expectStopAt(f, agent, broker.url, 5, logs)
    assert.not.ok(logs.some((l) => l.includes('does not speak MQTT 5')), 'no MQTT 5 attempt')
    // Mosquitto logs a client's protocol as p2 (3.1.1) or p5 (5).
    assert.match(broker.output(), /as lambkin-test-device \(p2,/, broker.output())
  } finally {
    await started?.close()
    f.cleanup()
    await broker.stop()
  }
})

test('[W9] a chain that fans out is stopped on every branch, each branch a counted dead letter, logged once per trace', async () => {
  const f = fixture({
    fan: {
      manifest: { triggers: [{ mqtt: 'fan/#', qos: 1 }], permissions: { publish: ['fan/#'] } },
      code: "export default (e, ctx) => { ctx.publish('fan/a', 'x', { qos: 1 }); ctx.publish('fan/b', 'x', { qos: 1 }) }"
    }
  })
  const logs: string[] = []
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ brokerPort: 0, invocation: { maxHops: 3 } }, { log: (l) => logs.push(l) })
    // Hops 0, 1 and 2 run 1 + 2 + 4 times; the 8 messages at hop 3 are stopped.
    const stopped = invocations(agent, 8, isStop)
    const ran = invocations(agent, 7, (r) => r.ok)
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    await c.publishAsync('fan/start', 'go', { qos: 1 })
    await c.endAsync()
    await Promise.all([stopped, ran])
    assert.match(agent.metrics.toPrometheus(), /lambkin_recursive_invocations_dropped_total\{function="fan"\} 8\n/)
    assert.is(logs.filter((l) => l.includes('LAMBKIN_RECURSION_LIMIT')).length, 1, logs.join('\n'))
    await agent.close()
    const dead = await f.records('dead-letter')
    assert.is(dead.length, 8)
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await started?.close()
    f.cleanup()
  }
})

test('[W9] a batched trigger runs at the deepest hop among its messages, so a batch loop stops too', async () => {
  const f = fixture({
    batched: {
      manifest: { triggers: [{ mqtt: 'b/#', qos: 1, batch: { size: 1, windowMs: 10 } }], permissions: { publish: ['b/#'] } },
      code: "export default (e, ctx) => { ctx.publish('b/again', 'x', { qos: 1 }); return ctx.traceId }"
    }
  })
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ brokerPort: 0, invocation: { maxHops: 3 } })
    const stopped = invocations(agent, 1, isStop)
    const ran = invocations(agent, 3, (r) => r.ok)
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    await c.publishAsync('b/start', 'go', { qos: 1 })
    await c.endAsync()
    const [recs] = await Promise.all([ran, stopped])
    assert.is(new Set(recs.map((r) => r.result)).size, 1, 'one trace along the chain')
    assert.match(agent.metrics.toPrometheus(), /lambkin_recursive_invocations_dropped_total\{function="batched"\} 1\n/)
  } finally {
    await started?.close()
    f.cleanup()
  }
})

test('[W9] a message from outside with a malformed hop starts a new trace instead of being stopped', async () => {
  const broker = await startMosquitto()
  const f = fixture({ loop: { ...LOOP, code: 'export default (e, ctx) => ctx.traceId' } })
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ mqtt: { url: broker.url } })
    const done = invocations(agent, 2)
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5 })
    await c.publishAsync('loop/a', 'x', { qos: 1, properties: { userProperties: { 'lambkin-trace': 'abc', 'lambkin-hop': '99999999999' } } })
    await c.publishAsync('loop/b', 'x', { qos: 1, properties: { userProperties: { 'lambkin-trace': 'outside-trace', 'lambkin-hop': '3' } } })
    await c.endAsync()
    const recs = await done
    assert.ok(recs.every((r) => r.ok), JSON.stringify(recs))
    const traces = recs.map((r) => r.result as string)
    assert.ok(!traces.includes('abc'), 'a malformed hop does not continue its trace')
    assert.ok(traces.includes('outside-trace'), 'a well-formed hop continues its trace')
    await agent.close()
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await started?.close()
    f.cleanup()
    await broker.stop()
  }
})

test.run()
