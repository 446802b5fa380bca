// Overload with a tiny queue (docs/durability.md, "Overload is held back, never taken and
// dropped"): invocation.maxConcurrent 1 and queueDepth 1, a stateful function that fails its
// first attempt at each message (so retries hold the one slot), fed at once by a QoS 1 sensor
// and a QoS 0 sensor. QoS 0 messages past the queue are refused with LAMBKIN_THROTTLED and
// counted; every QoS 1 message is acknowledged and has exactly one stored outcome (a result, or a
// LAMBKIN_THROTTLED dead letter from its function's full queue); the counts the results saw are
// 1..R each once (no throttled or refused call touched ctx.state). Real agent process, embedded
// aedes, MQTT.js, LevelDB, QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import { until } from './fixtures/cloud-process.js'

const N1 = 300
const N0 = 600

const CODE = `const tried = new Set()
export default (e, ctx) => {
  const key = e.topic
  if (!tried.has(key)) { tried.add(key); throw new Error('first attempt fails') }
  ctx.state.n = (ctx.state.n ?? 0) + 1
  return { topic: e.topic, n: ctx.state.n }
}`

test('[overload + retry + state] queueDepth 1 under a QoS 1 and a QoS 0 burst: QoS 0 throttled and counted, every QoS 1 message one outcome, ctx.state counted once per result', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-overload-'))
  const data = path.join(root, 'data')
  const functions = writeFunctions(path.join(root, 'functions'), {
    count: {
      manifest: { triggers: [{ mqtt: 'q1/+', qos: 1 }, { mqtt: 'q0/+', qos: 0 }], retry: { attempts: 1, backoffMs: 1 } },
      code: CODE
    }
  })
  const config = path.join(root, 'device.json')
  writeFileSync(config, JSON.stringify({ id: 'e2e-overload', dataDir: data, functionsDir: functions, brokerPort: 0, metricsPort: 0, invocation: { maxConcurrent: 1, queueDepth: 1 } }))
  const agent = startLambkin(['device', '--config', config, '--quiet'])
  const clients: mqtt.MqttClient[] = []
  try {
    const ready = await agent.waitFor('stdout', /broker mqtt:\/\/127\.0\.0\.1:(\d+); metrics (http:\/\/\S+\/metrics)/)
    const url = `mqtt://127.0.0.1:${ready[1]}`
    const s1 = await mqtt.connectAsync(url, { clientId: 'overload-q1', clean: false, reconnectPeriod: 200 })
    const s0 = await mqtt.connectAsync(url, { clientId: 'overload-q0', reconnectPeriod: 200 })
    clients.push(s1, s0)
    const acked = new Set<number>()
    for (let i = 0; i < N1; i++) {
      void s1.publishAsync(`q1/${i}`, 'x', { qos: 1 }).then(() => acked.add(i), () => {})
      if (i < N0 / 2) for (const j of [2 * i, 2 * i + 1]) s0.publish(`q0/${j}`, 'x', { qos: 0 })
    }
    await until(() => `all ${N1} QoS 1 messages acknowledged (have ${acked.size})`, () => acked.size === N1, 90_000)
    const metrics = await (await fetch(ready[2] as string)).text()
    const throttled = Number(/lambkin_throttles_total\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0)
    assert.ok(throttled > 0, `QoS 0 messages past the queue are throttled and counted:\n${metrics.split('\n').filter((l) => /thrott/.test(l)).join('\n')}`)
    for (const c of clients.splice(0)) await c.endAsync(true)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr().slice(-3000))
    const { records } = await readOutbox(data)
    const outcomes = new Map<string, number>()
    const counts: number[] = []
    for (const r of records) {
      if (r.kind === 'result') {
        const res = r.data.result as { topic: string, n: number }
        outcomes.set(res.topic, (outcomes.get(res.topic) ?? 0) + 1)
        counts.push(res.n)
      } else if (r.kind === 'dead-letter') {
        const topic = (r.data.event as { topic?: string } | undefined)?.topic ?? '?'
        assert.is((r.data.error as { code: string }).code, 'LAMBKIN_THROTTLED', `dead letter for ${topic}`)
        outcomes.set(topic, (outcomes.get(topic) ?? 0) + 1)
      }
    }
    const q1 = Array.from({ length: N1 }, (_, i) => `q1/${i}`)
    assert.equal(q1.filter((t) => outcomes.get(t) === undefined).slice(0, 10), [], 'QoS 1 messages without a stored outcome')
    assert.equal([...outcomes].filter(([, c]) => c > 1).map(([t]) => t).slice(0, 10), [], 'messages with more than one stored outcome')
    counts.sort((a, b) => a - b)
    assert.equal(counts.filter((n, i) => n !== i + 1).slice(0, 10), [], 'the counts the results saw are 1..R, once each')
    console.log(`overload: ${throttled} throttled, ${counts.length} results, ${records.filter((r) => r.kind === 'dead-letter').length} dead letters`)
  } finally {
    for (const c of clients) c.end(true)
    if (agent.child.exitCode === null) await agent.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
