// The agent end to end in one process: real aedes (embedded, or the test's own when it must
// outlive the agent), real LevelDB, real QuickJS. Time is faked only for schedule catch-up.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { FakeClock } from '../helpers/fake-clock.js'
import { fixture, invocations } from '../helpers/agent.js'

async function externalBroker (port = 0): Promise<{ port: number, close: () => Promise<void> }> {
  const broker = await Aedes.createBroker()
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

const ECHO = 'export default (e, ctx) => ({ topic: e.topic, payload: e.payload, qos: e.qos })'

test('[MQTT] QoS 1 and QoS 0 messages trigger functions whose filters match; results are committed', async () => {
  const f = fixture({
    echo: { manifest: { triggers: [{ mqtt: 'sensors/+/temperature', qos: 1 }] }, code: ECHO },
    other: { manifest: { triggers: [{ mqtt: 'other/#', qos: 0 }] }, code: ECHO }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const done = invocations(agent, 3)
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.brokerPort}`)
    await c.publishAsync('sensors/gh1/temperature', '{"value":21.5}', { qos: 1 })
    await c.publishAsync('sensors/gh1/humidity', '40', { qos: 1 })
    await c.publishAsync('other/a/b', 'plain text', { qos: 0 })
    await c.publishAsync('sensors/gh2/temperature', 'not json', { qos: 1 })
    const seen = await done
    await c.endAsync()
    await agent.close()
    assert.equal(seen.map((r) => r.fn).sort(), ['echo', 'echo', 'other'])
    const results = (await f.records('result')).map((r) => JSON.stringify((r.data as { result: unknown }).result)).sort()
    assert.equal(results, [
      { topic: 'other/a/b', payload: 'plain text', qos: 0 },
      { topic: 'sensors/gh1/temperature', payload: { value: 21.5 }, qos: 1 },
      { topic: 'sensors/gh2/temperature', payload: 'not json', qos: 1 }
    ].map((r) => JSON.stringify(r)).sort())
  } finally {
    f.cleanup()
  }
})

test('[durability] with the embedded broker, a sensor\'s QoS 1 publish is acknowledged only after its result is committed', async () => {
  const f = fixture({
    slow: { manifest: { triggers: [{ mqtt: 'probe/+', qos: 1 }], limits: { instructions: 1e10 } }, code: 'export default (e) => { let s = 0; for (let i = 0; i < 2e6; i++) s += i; return e.topic }' }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const order: string[] = []
    agent.on('invocation', (r) => order.push(`committed ${String(r.result)}`))
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    await Promise.all(['probe/a', 'probe/b'].map(async (t) => { await c.publishAsync(t, '1', { qos: 1 }); order.push(`puback ${t}`) }))
    await c.endAsync()
    await agent.close()
    for (const t of ['probe/a', 'probe/b']) {
      assert.ok(order.indexOf(`committed ${t}`) >= 0 && order.indexOf(`committed ${t}`) < order.indexOf(`puback ${t}`), order.join(', '))
    }
  } finally {
    f.cleanup()
  }
})

test('[MQTT] batched trigger hands the handler records by size and by window', async () => {
  const f = fixture({
    avg: {
      manifest: { triggers: [{ mqtt: 'h/+', qos: 1, batch: { size: 4, windowMs: 100 } }] },
      code: 'export default (e) => e.records.map((r) => r.payload)'
    }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const done = invocations(agent, 2)
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.brokerPort}`)
    for (let i = 1; i <= 6; i++) await c.publishAsync(`h/${i}`, String(i), { qos: 1 })
    const seen = await done
    await c.endAsync()
    await agent.close()
    assert.equal(seen.map((r) => r.result), [[1, 2, 3, 4], [5, 6]])
  } finally {
    f.cleanup()
  }
})

test('ctx.state survives an agent restart; results carry increasing sequence numbers', async () => {
  const f = fixture({
    counter: { manifest: { triggers: [{ mqtt: 'tick', qos: 1 }] }, code: 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return ctx.state.n }' }
  })
  try {
    for (let round = 0; round < 2; round++) {
      const agent = await f.start({ brokerPort: 0 })
      const done = invocations(agent, 3)
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.brokerPort}`)
      for (let i = 0; i < 3; i++) await c.publishAsync('tick', '1', { qos: 1 })
      await done
      await c.endAsync()
      await agent.close()
    }
    const results = await f.records('result')
    assert.equal(results.map((r) => (r.data as { result: number }).result), [1, 2, 3, 4, 5, 6])
    const seqs = results.map((r) => r.seq)
    assert.equal(seqs, [...seqs].sort((a, b) => a - b))
  } finally {
    f.cleanup()
  }
})

test('a burst of QoS 1 messages to a stateful function: state advances once per message, in order', async () => {
  const f = fixture({
    counter: { manifest: { triggers: [{ mqtt: 'burst', qos: 1 }] }, code: 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return ctx.state.n }' }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const done = invocations(agent, 300)
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.brokerPort}`)
    await Promise.all(Array.from({ length: 300 }, () => c.publishAsync('burst', '1', { qos: 1 })))
    await done
    await c.endAsync()
    await agent.close()
    const results = (await f.records('result')).map((r) => (r.data as { result: number }).result)
    assert.equal(results, Array.from({ length: 300 }, (_, i) => i + 1))
  } finally {
    f.cleanup()
  }
})

test('retries with backoff, then a dead letter with the error and the event', async () => {
  const f = fixture({
    flaky: { manifest: { triggers: [{ mqtt: 'job', qos: 1 }], retry: { attempts: 2, backoffMs: 5 } }, code: 'export default (e) => { throw new Error("broken " + e.payload) }' }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const done = invocations(agent, 1)
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.brokerPort}`)
    await c.publishAsync('job', '7', { qos: 1 })
    const [rec] = await done
    await c.endAsync()
    await agent.close()
    assert.is(rec.attempts, 3)
    assert.is(rec.code, 'LAMBKIN_FUNCTION_ERROR')
    const dead = await f.records('dead-letter')
    assert.is(dead.length, 1)
    const d = dead[0].data as { error: { code: string, message: string }, event: { payload: number }, attempts: number }
    assert.is(d.error.message, 'Error: broken 7')
    assert.is(d.event.payload, 7)
    assert.is(d.attempts, 3)
  } finally {
    f.cleanup()
  }
})

test('a hostile function next to a healthy one: the healthy one keeps working', async () => {
  const f = fixture({
    spin: { manifest: { triggers: [{ mqtt: 'bad', qos: 1 }], limits: { timeoutMs: 100 } }, code: "export default () => /(a+)+b/.test('a'.repeat(40))" },
    fine: { manifest: { triggers: [{ mqtt: 'good', qos: 0 }] }, code: 'export default (e) => e.payload * 2' }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const good = invocations(agent, 20, (r) => r.fn === 'fine')
    const bad = invocations(agent, 1, (r) => r.fn === 'spin')
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.brokerPort}`)
    await c.publishAsync('bad', '1', { qos: 1 })
    for (let i = 0; i < 20; i++) await c.publishAsync('good', String(i), { qos: 0 })
    const [b] = await bad
    const g = await good
    await c.endAsync()
    await agent.close()
    assert.is(b.code, 'LAMBKIN_TIMEOUT')
    assert.ok(g.every((r) => r.ok))
    assert.equal(g.map((r) => r.result).sort((x, y) => (x as number) - (y as number)), Array.from({ length: 20 }, (_, i) => i * 2))
  } finally {
    f.cleanup()
  }
})

test('[durability] a QoS 1 publish raised while the broker is away is sent when the agent next runs', async () => {
  const f = fixture({
    alarm: {
      manifest: { triggers: [{ sensor: 'probe', path: 'sim:random-walk', everyMs: 20 }], permissions: { publish: ['alarms/#'] } },
      code: "export default (e, ctx) => { ctx.publish('alarms/probe', { v: e.value }, { qos: 1 }) }"
    }
  })
  try {
    const broker = await externalBroker()
    const port = broker.port
    const agent = await f.start({ mqtt: { url: `mqtt://127.0.0.1:${port}`, reconnectMs: 60_000 } })
    await broker.close()
    await invocations(agent, 3)
    await agent.close()
    const pending = await f.pendingPublishes()
    assert.ok(pending >= 3, `only ${pending} publishes kept while the broker was away`)
    // The broker is back; a subscriber waits for the alarms.
    const back = await externalBroker(port)
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`)
    await sub.subscribeAsync('alarms/#', { qos: 1 })
    let received = 0
    sub.on('message', () => { received++ })
    const again = await f.start({ mqtt: { url: `mqtt://127.0.0.1:${port}` } })
    const deadline = Date.now() + 10_000
    while (received < pending && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    await again.close()
    await sub.endAsync()
    await back.close()
    assert.ok(received >= pending, `received ${received} of ${pending}`)
  } finally {
    f.cleanup()
  }
})

test('[schedule] runs missed while the agent was down fire on start, at most catchUp, marked late', async () => {
  const f = fixture({
    beat: { manifest: { triggers: [{ schedule: '*/10 * * * * *', catchUp: 2 }] }, code: 'export default (e) => ({ late: e.late, at: e.scheduledTime })' }
  })
  try {
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 5)
    const first = await f.start({}, { clock: new FakeClock(t0) })
    await first.close()
    // Down for a minute: six runs missed; two are made up.
    const second = await f.start({}, { clock: new FakeClock(t0 + 60_000) })
    await second.close()
    const results = (await f.records('result')).map((r) => (r.data as { result: { late: boolean, at: number } }).result)
    assert.equal(results, [{ late: true, at: t0 + 45_000 }, { late: true, at: t0 + 55_000 }])
  } finally {
    f.cleanup()
  }
})

test('[sensor] a thermal-zone file drives a function; metrics are served and snapshotted into the outbox', async () => {
  const f = fixture({
    temp: {
      manifest: { triggers: [{ sensor: 'cpu', path: '/PLACEHOLDER', everyMs: 20, scale: 0.001, deadband: 0.5 }] },
      code: 'export default (e) => ({ sensor: e.sensor, value: e.value })'
    }
  })
  try {
    const zone = path.join(f.root, 'thermal_zone0_temp')
    writeFileSync(zone, '41000\n')
    const manifest = path.join(f.functionsDir, 'temp', 'function.json')
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('/PLACEHOLDER', zone))
    const agent = await f.start({ metricsPort: 0 })
    await invocations(agent, 1)
    writeFileSync(zone, '41200\n') // inside the deadband: no call
    await new Promise((resolve) => setTimeout(resolve, 100))
    const next = invocations(agent, 1)
    writeFileSync(zone, '43000\n')
    await next
    const text = await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text()
    await agent.close()
    assert.match(text, 'lambkin_invocations_total{function="temp"} 2')
    const results = (await f.records('result')).map((r) => (r.data as { result: unknown }).result)
    assert.equal(results, [{ sensor: 'cpu', value: 41 }, { sensor: 'cpu', value: 43 }])
    const metric = await f.records('metric')
    assert.ok(metric.length >= 1)
    assert.is((metric[metric.length - 1].data as { functions: Record<string, { invocations: number }> }).functions.temp.invocations, 2)
  } finally {
    f.cleanup()
  }
})

test('a full agent queue answers LAMBKIN_THROTTLED and counts it', async () => {
  const f = fixture({
    slow: { manifest: { triggers: [{ mqtt: 'flood', qos: 0 }], limits: { instructions: 1e9 } }, code: 'export default () => { let s = 0; for (let i = 0; i < 3e5; i++) s += i; return s }' }
  })
  try {
    const agent = await f.start({ brokerPort: 0, invocation: { maxConcurrent: 1, queueDepth: 2 } })
    const throttled = invocations(agent, 1, (r) => r.code === 'LAMBKIN_THROTTLED')
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.brokerPort}`)
    for (let i = 0; i < 30; i++) c.publish('flood', '1', { qos: 0 })
    await throttled
    await c.endAsync()
    await agent.close()
    const text = agent.metrics.toPrometheus()
    assert.match(text, /lambkin_throttles_total\{function="slow"\} [1-9]/)
  } finally {
    f.cleanup()
  }
})

test('a broken function folder is reported and skipped; the rest run', async () => {
  const f = fixture({
    good: { manifest: { triggers: [{ mqtt: 'x', qos: 1 }] }, code: 'export default () => 1' },
    bad: { manifest: { limits: { memoryKiB: 1 } }, code: 'export default () => 1' },
    nocode: { code: 'export default ( {' }
  })
  try {
    const lines: string[] = []
    const agent = await f.start({ brokerPort: 0 }, { log: (l) => lines.push(l) })
    assert.equal(agent.functionNames, ['good'])
    assert.ok(lines.some((l) => l.includes('LAMBKIN_MANIFEST_INVALID')), lines.join('\n'))
    assert.ok(lines.some((l) => l.includes('LAMBKIN_COMPILE_ERROR')), lines.join('\n'))
    await agent.close()
  } finally {
    f.cleanup()
  }
})

test.run()
