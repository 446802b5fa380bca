// A full card under a stateful function that retries (docs/durability.md, "A commit that fails is
// not acknowledged", "A full card"): the agent's data folder on a small tmpfs that fills while a
// sensor keeps sending QoS 1 messages to a function that fails its first attempt at each message
// (retried per its manifest) and counts messages in ctx.state. The commits that fail leave their
// messages unacknowledged and the state is read again from the store; once there is room the
// sensor's messages come again. In the end every message has exactly one stored result, and the
// counts the results saw are 1..N each once: no failed commit's count survives into the state.
// Real agent process, embedded aedes, MQTT.js, LevelDB, tmpfs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import { until } from './fixtures/cloud-process.js'
import { mountTmpfs } from '../helpers/tmpfs.js'

const N = 200

const CODE = `const tried = new Set()
export default (e, ctx) => {
  const id = Number(e.topic.split('/')[1])
  if (!tried.has(id)) { tried.add(id); throw new Error('first attempt fails') }
  ctx.state.n = (ctx.state.n ?? 0) + 1
  return { id, n: ctx.state.n, pad: 'p'.repeat(2000) }
}`

test('[full disk + retry + state] the card fills mid-burst and frees: every message one result, each counted once in ctx.state', async () => {
  const disk = mountTmpfs(8 * 1024 * 1024)
  if ('skip' in disk) { console.log(`skipped: ${disk.skip}`); return }
  const data = path.join(disk.dir, 'data')
  const functions = writeFunctions(path.join(disk.dir, 'functions'), {
    count: { manifest: { triggers: [{ mqtt: 'full/+', qos: 1 }], retry: { attempts: 2, backoffMs: 1 } }, code: CODE }
  })
  const agent = startLambkin(['device', '--id', 'e2e-full-state', '--data', data, '--functions', functions, '--broker-port', '0', '--quiet'])
  let sensor: mqtt.MqttClient | undefined
  try {
    const ready = await agent.waitFor('stdout', /broker mqtt:\/\/127\.0\.0\.1:(\d+)/)
    sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${ready[1]}`, { clientId: 'full-state-sensor', clean: false, reconnectPeriod: 200 })
    const acked = new Set<number>()
    const send = (from: number, n: number): void => {
      for (let i = from; i < from + n; i++) void sensor?.publishAsync(`full/${i}`, 'x', { qos: 1 }).then(() => acked.add(i), () => {})
    }
    send(0, 20)
    await until(() => 'the first 20 acknowledged', () => acked.size === 20)
    // The card fills with a little room left, so some commits of the burst are written and some fail.
    disk.fill(48 * 1024)
    send(20, N - 20)
    await agent.waitFor('stderr', /LAMBKIN_STORE_(FAULT|FULL|ERROR)/, 60_000)
    disk.free()
    await until(() => `all ${N} acknowledged (have ${acked.size})`, () => acked.size === N, 120_000)
    await sensor.endAsync(true)
    sensor = undefined
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr().slice(-3000))
    const { records } = await readOutbox(data)
    const results = records.filter((r) => r.kind === 'result').map((r) => { const x = r.data.result as { id: number, n: number }; return { id: x.id, n: x.n, attempts: r.data.attempts } })
    const perId = new Map<number, number>()
    for (const r of results) perId.set(r.id, (perId.get(r.id) ?? 0) + 1)
    assert.equal([...perId].filter(([, c]) => c > 1).map(([id]) => id), [], 'messages with more than one stored result')
    assert.equal(Array.from({ length: N }, (_, i) => i).filter((i) => !perId.has(i)), [], 'messages without a stored result')
    const counts = results.map((r) => r.n).sort((a, b) => a - b)
    assert.equal(counts.filter((n, i) => n !== i + 1).slice(0, 10), [], `the counts are 1..${N}, each message counted once in ctx.state`)
    // A message whose commit failed runs again in the same instance, which already saw it fail once.
    assert.equal(results.filter((r) => r.attempts !== 2 && r.attempts !== 1).map((r) => r.id).slice(0, 5), [], 'every result after its retry or a redelivery')
  } finally {
    sensor?.end(true)
    if (agent.child.exitCode === null) await agent.stop('SIGKILL')
    disk.unmount()
  }
})

test.run()
