// kill -9 of `lambkin device`, or PUBACKs lost and the trigger link cut (a TCP relay), in the middle of a QoS 1 burst to a function that fails its first
// attempt at each message (retried per its manifest, with backoff), counts messages in ctx.state
// and publishes on at QoS 1, on trigger topics named like Object.prototype's members. After a
// restart on the same data (or the link back): every trigger acknowledged, each with exactly one result in the
// cloud (seqs 1, 2, 3... [W4]), each result after one retry, the counts the results saw are
// 1..N each once (no message counted twice or lost from the state, in version order), and every
// message's output publish reached the broker. Real `lambkin cloud` and `lambkin device`, aedes
// as the trigger broker (docs/durability.md, "kill -9 loses nothing acknowledged", "A link blip").
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { PUBACK, startRelay } from '../helpers/tcp-relay.js'
import { startBroker, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'
import { startCloudProcess, until } from './fixtures/cloud-process.js'
import type { StoredRec } from './fixtures/cloud-process.js'

const DEVICE = 'retry-state-kill-01'
const N = 1500
const KILL_AFTER_ACKS = 500
const TOPICS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'plain']

const CODE = `const tried = new Set()
export default (e, ctx) => {
  const id = e.payload.id
  if (!tried.has(id)) { tried.add(id); throw new Error('first attempt fails') }
  ctx.state.n = (ctx.state.n ?? 0) + 1
  ctx.publish('out/' + e.topic.split('/')[1], { id, n: ctx.state.n }, { qos: 1 })
  return { id, n: ctx.state.n, topic: e.topic }
}`

const idOf = (payload: unknown): number | undefined => {
  try { return (JSON.parse(String(payload)) as { id?: number }).id } catch { return undefined }
}

/**
 * The burst with `fault` once KILL_AFTER_ACKS are acked: a SIGKILL and restart, or PUBACKs
 * dropped then the trigger link cut four times. `asLambkin`: the trigger broker is aedes with the
 * resend rules of lambkin's own brokers (DUP on resends, resends first: src/mqtt/session-resend.ts).
 */
async function burst (fault: 'kill' | 'cuts', asLambkin = false): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-retry-state-kill-'))
  const functions = writeFunctions(path.join(root, 'functions'), {
    counter: {
      manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }], permissions: { publish: ['out/#'] }, retry: { attempts: 2, backoffMs: 1 } },
      code: CODE
    }
  })
  const broker = await startBroker({ asLambkin })
  const link = await startRelay({ port: broker.port })
  const cloud = await startCloudProcess(path.join(root, 'cloud'))
  let agent: LambkinProcess | undefined
  const { secret } = await cloud.api<{ secret: string }>('POST', '/v1/devices', { id: DEVICE })
  const config = path.join(root, 'device.json')
  writeFileSync(config, JSON.stringify({
    id: DEVICE,
    dataDir: path.join(root, 'agent'),
    functionsDir: functions,
    mqtt: { url: link.url, reconnectMs: 200 },
    cloud: { url: `mqtt://127.0.0.1:${cloud.port}`, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 300, ackTimeoutMs: 5000 }
  }))
  const startAgent = async (): Promise<void> => {
    agent = startLambkin(['device', '--config', config, '--quiet'], { env: { LAMBKIN_CLOUD_PASSWORD: secret } })
    await agent.waitFor('stdout', new RegExp(`lambkin device ${DEVICE} ready`), 60_000)
  }
  const acked = new Set<number>()
  const out = new Map<number, string>()
  broker.broker.on('ack', (packet, client) => {
    if (client?.id !== `lambkin-${DEVICE}` || packet === null || packet === undefined) return
    const id = idOf((packet as { payload?: Buffer }).payload)
    if (id !== undefined) acked.add(id)
  })
  broker.broker.on('publish', (packet, client) => {
    if (client?.id !== `lambkin-${DEVICE}` || !packet.topic.startsWith('out/')) return
    const id = idOf(packet.payload)
    if (id !== undefined) out.set(id, packet.topic)
  })
  let publisher: mqtt.MqttClient | undefined
  try {
    await startAgent()
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'retry-state-publisher', reconnectPeriod: 0, clean: false })
    const pub = publisher
    const sending = Promise.all(Array.from({ length: N }, async (_, i) => await pub.publishAsync(`in/${TOPICS[i % TOPICS.length]}`, JSON.stringify({ id: i }), { qos: 1 })))
    await until(() => `${KILL_AFTER_ACKS} triggers acked (have ${acked.size})`, () => acked.size >= KILL_AFTER_ACKS)
    const ackedBeforeKill = acked.size
    if (fault === 'kill') {
      assert.is((await agent?.stop('SIGKILL'))?.signal, 'SIGKILL')
      await sending
      await startAgent()
    } else {
      // PUBACKs of committed triggers lost: they come again and must not run (processed once).
      let dropped = 0
      link.filter = (p) => { if (p.dir === 'up' && p.type === PUBACK) { dropped++; return false } }
      await until(() => `PUBACKs dropped (${dropped})`, () => dropped >= 100)
      link.filter = undefined
      link.cut()
      for (const more of [200, 400, 600]) {
        const at = acked.size + more
        await until(() => `${at} triggers acked (have ${acked.size})`, () => acked.size >= Math.min(at, N - 1))
        link.cut()
      }
      await sending
    }
    await until(() => `all ${N} triggers acked (have ${acked.size})`, () => acked.size === N, 120_000)
    let records: StoredRec[] = []
    await until(() => `${N} results in the cloud (have ${records.filter((r) => r.kind === 'result').length})`, async () => {
      records = await cloud.records(DEVICE)
      return records.filter((r) => r.kind === 'result').length >= N
    }, 120_000)
    await until(() => `an output publish for every trigger (have ${out.size})`, () => out.size === N, 30_000)
    assert.ok(ackedBeforeKill < N, 'the kill lands mid-stream')
    const results = records.filter((r) => r.kind === 'result')
    const ids = new Map<number, number>()
    for (const r of results) {
      const id = (r.data.result as { id: number }).id
      ids.set(id, (ids.get(id) ?? 0) + 1)
    }
    const twice = [...ids].filter(([, c]) => c > 1).map(([id]) => id)
    assert.equal(twice.slice(0, 20), [], `${twice.length} results in the cloud more than once`)
    const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !ids.has(i))
    assert.equal(missing.slice(0, 20), [], `${missing.length} triggers without a result in the cloud`)
    const counts = results.map((r) => (r.data.result as { n: number }).n).sort((a, b) => a - b)
    const wrong = counts.filter((n, i) => n !== i + 1)
    assert.equal(wrong.slice(0, 10), [], 'the counts the results saw are 1..N, each message counted once in ctx.state')
    const notRetried = results.filter((r) => r.data.attempts !== 2)
    assert.equal(notRetried.slice(0, 5).map((r) => r.data.attempts), [], 'every result after its one retry')
    const badTopic = results.filter((r) => {
      const res = r.data.result as { id: number, topic: string }
      return res.topic !== `in/${TOPICS[res.id % TOPICS.length]}` || out.get(res.id) !== `out/${TOPICS[res.id % TOPICS.length]}`
    })
    assert.equal(badTopic.slice(0, 5).map((r) => r.data.result), [], 'topics named like Object.prototype members kept as they are')
    const holes = records.filter((r, i) => r.seq !== i + 1)
    assert.equal(holes.slice(0, 1).map((r) => r.seq), [], 'seqs run 1, 2, 3...')
    console.log(`retry+state+${fault}${asLambkin ? ' (lambkin aedes)' : ''}: ${ackedBeforeKill} acked before the fault, ${link.connections} trigger link connections, ${results.length} results, ${records.length} records in the cloud`)
    assert.equal(await agent?.stop('SIGTERM'), { code: 0, signal: null }, agent?.stderr().slice(-3000))
  } finally {
    await publisher?.endAsync(true)
    await agent?.stop('SIGKILL')
    await cloud.proc?.stop('SIGKILL')
    await link.close()
    await broker.close()
    rmSync(root, { recursive: true, force: true })
  }
}

test('[retry + state + kill] SIGKILL mid-burst, restart: every trigger once in the cloud, once in ctx.state, retried, published', async () => {
  await burst('kill')
})

// Skipped: against aedes as it comes it failed in about one run of three to six (138 to 572
// results stored twice): aedes resends without DUP and after a message routed during the
// reconnect, so copies whose PUBACK the agent wrote and the link lost (the PUBACKs this test
// drops) run again (docs/durability.md, "A link blip"; processed-once-aedes-resend.test.ts in
// test/device makes it happen in every run without those rules). The case below has them.
test.skip('[retry + state + link cuts] PUBACKs lost, then the trigger link cut four times mid-burst: every trigger once in the cloud, once in ctx.state, published', async () => {
  await burst('cuts')
})

// The same cuts with the trigger broker resending as lambkin's own brokers do (DUP 1 on every
// resend, resends before new messages): every copy is known by its DUP flag wherever it comes.
test('[retry + state + link cuts, lambkin aedes] PUBACKs lost, then the trigger link cut four times mid-burst, the broker resending with DUP: every trigger once in the cloud, once in ctx.state, published', async () => {
  await burst('cuts', true)
})

test.run()
