// A function that publishes to the topic that triggers it [W9], with kill -9 of the agent in the
// middle of the chain and a restart on the same data: the publishes pending at the kill are
// stored with their hop, the chain stops with a LAMBKIN_RECURSION_LIMIT dead letter after the
// restart without running past invocation.maxHops, and no hop runs more often than the pending
// publishes allow (QoS 1 is at least once: a publish its broker acknowledged just before the kill,
// whose removal was not yet written, is sent again, docs/durability.md "Publishes").
// Real agent process, embedded aedes, MQTT.js, LevelDB, QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'
import { freePort } from '../helpers/brokers.js'
import { LevelOutboxStore } from '../../device/store/index.js'

const MAX_HOPS = 200
const KILL_AT = 60

async function until (what: string, check: () => boolean, boundMs = 60_000): Promise<void> {
  const end = Date.now() + boundMs
  while (!check()) {
    if (Date.now() > end) assert.unreachable(`${what}: not reached`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

// The chain's pending QoS 1 publish is stored with its hop (device/store/publish-value.ts), so
// the restart re-sends it at that hop, not at hop 0 of a new trace.
test('[W9 + kill] a self-triggering chain killed mid-way stops after the restart, each hop once', async () => {
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
    // What the restart will send again: each pending publish at the hop its n says, in one trace.
    const store = await LevelOutboxStore.open({ dir: data })
    const pending = await store.pendingPublishes()
    await store.close()
    const starts = pending.map((p) => (JSON.parse(String(p.payload)) as { n: number }).n)
    assert.ok(pending.length >= 1, 'a publish of the chain was pending at the kill')
    assert.equal(pending.map((p) => p.hop?.hop), starts, 'each pending publish keeps its hop (= its n)')
    assert.is(new Set(pending.map((p) => p.hop?.traceId)).size, 1, 'all in the chain\'s trace')
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
    console.log(`recursion + kill: killed at hop ${atKill}, publishes pending at n ${starts.join(', ')}; ${ns.length} results, highest n ${Math.max(...ns)}, ${dead.length} dead letters (hop ${dead.map((d) => String(d.data.hop)).join(', ')})`)
    // A hop runs once before the kill and once more per pending publish at or below it, at most.
    const tooOften = [...perN].filter(([n, c]) => c > 1 + starts.filter((s) => s <= n).length).map(([n]) => n)
    assert.equal(tooOften.slice(0, 10), [], `hops that ran more often than the pending publishes ${JSON.stringify(starts)} allow`)
    assert.ok(dead.length >= 1 && dead.length <= pending.length, `${dead.length} dead letters for ${pending.length} pending publishes`)
    assert.ok(dead.every((d) => (d.data.error as { code: string }).code === 'LAMBKIN_RECURSION_LIMIT' && d.data.hop === MAX_HOPS))
    assert.ok(Math.max(...ns) < MAX_HOPS, `the chain ran to n = ${Math.max(...ns)}, past invocation.maxHops ${MAX_HOPS}: the restart started it over at hop 0`)
  } finally {
    watcher?.end(true)
    if (agent.child.exitCode === null) await agent.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
