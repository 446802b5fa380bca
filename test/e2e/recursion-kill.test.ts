// A function that publishes to the topic that triggers it [W9], with kill -9 of the agent in the
// middle of the chain and a restart on the same data: the chain still stops with a
// LAMBKIN_RECURSION_LIMIT dead letter after the restart, every hop's trigger has at most one
// result (processed once), and the chain does not run on past invocation.maxHops by more than
// what was in flight at the kill. Real agent process, embedded aedes, MQTT.js, LevelDB, QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'
import { freePort } from '../helpers/brokers.js'

const MAX_HOPS = 200
const KILL_AT = 60

async function until (what: string, check: () => boolean, boundMs = 60_000): Promise<void> {
  const end = Date.now() + boundMs
  while (!check()) {
    if (Date.now() > end) assert.unreachable(`${what}: not reached`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

// KNOWN GAP, skipped until fixed (as device/links/durable-publishes.ts says: "Publishes re-sent
// after a restart have neither hop nor fn"): the chain's pending QoS 1 publish is stored without
// its hop, so after the restart it starts a new trace at hop 0 and the chain runs maxHops more
// (seen: killed at hop 66, 266 results, the dead letter at hop 200 of the new trace). An agent
// that a loop keeps crashing never stops it. Each hop still ran once. A fix stores the hop with
// the durable publish (device/store NewPublish) and sends it again after a restart.
test.skip('[W9 + kill] a self-triggering chain killed mid-way stops after the restart, each hop once', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-recursion-kill-'))
  const data = path.join(root, 'data')
  const functions = writeFunctions(path.join(root, 'functions'), {
    loop: {
      manifest: { triggers: [{ mqtt: 'loop/#', qos: 1 }], permissions: { publish: ['loop/#'] } },
      code: "export default (e, ctx) => { const n = (e.payload?.n ?? 0); ctx.publish('loop/again', { n: n + 1 }, { qos: 1 }); return { n, traceId: ctx.traceId } }"
    }
  })
  const port = await freePort()
  const config = path.join(root, 'device.json')
  writeFileSync(config, JSON.stringify({ id: 'e2e-recursion-kill', dataDir: data, functionsDir: functions, brokerPort: port, invocation: { maxHops: MAX_HOPS } }))
  let agent: LambkinProcess = startLambkin(['device', '--config', config, '--quiet'])
  let watcher: mqtt.MqttClient | undefined
  try {
    await agent.waitFor('stdout', /ready/)
    let highest = -1
    watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'loop-watcher', reconnectPeriod: 100 })
    watcher.on('message', (_t, payload) => {
      try { highest = Math.max(highest, (JSON.parse(String(payload)) as { n: number }).n) } catch {}
    })
    await watcher.subscribeAsync('loop/#', { qos: 0 })
    await watcher.publishAsync('loop/start', JSON.stringify({ n: 0 }), { qos: 1 })
    await until(`the chain at hop ${KILL_AT} (at ${highest})`, () => highest >= KILL_AT)
    await agent.stop('SIGKILL')
    const atKill = highest
    agent = startLambkin(['device', '--config', config, '--quiet'])
    await agent.waitFor('stdout', /ready/)
    await agent.waitFor('stderr', /LAMBKIN_RECURSION_LIMIT/, 60_000)
    await watcher.endAsync(true)
    watcher = undefined
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr().slice(-3000))
    const { records } = await readOutbox(data)
    const ns = records.filter((r) => r.kind === 'result').map((r) => (r.data.result as { n: number }).n)
    const perN = new Map<number, number>()
    for (const n of ns) perN.set(n, (perN.get(n) ?? 0) + 1)
    const dead = records.filter((r) => r.kind === 'dead-letter')
    console.log(`recursion + kill: killed at hop ${atKill}; ${ns.length} results, highest n ${Math.max(...ns)}, ${dead.length} dead letters (hop ${dead.map((d) => String(d.data.hop)).join(', ')})`)
    assert.equal([...perN].filter(([, c]) => c > 1).map(([n]) => n).slice(0, 10), [], 'hops that ran more than once')
    assert.ok(dead.length >= 1 && dead.every((d) => (d.data.error as { code: string }).code === 'LAMBKIN_RECURSION_LIMIT'))
    assert.ok(Math.max(...ns) < MAX_HOPS, `the chain ran to n = ${Math.max(...ns)}, past invocation.maxHops ${MAX_HOPS}: the restart started it over at hop 0`)
  } finally {
    watcher?.end(true)
    if (agent.child.exitCode === null) await agent.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
