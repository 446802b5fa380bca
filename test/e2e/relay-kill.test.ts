// kill -9 of the agent while it relays QoS 1 triggers at full speed, with this round's trigger
// link: the socket corked per event-loop turn and each packet written as one Buffer
// (src/mqtt/cork-per-turn.ts, whole-packets.ts), group commits in LevelDB's chained batch. A
// PUBACK may leave only after its trigger's outcome is committed: every trigger aedes saw
// PUBACKed before the kill has its output publish and its result, and after a restart on the
// same data every trigger's result is in the cloud exactly once, seqs 1, 2, 3... [W4]. Real
// `lambkin cloud` and `lambkin device`, aedes as the trigger broker, a TCP relay to the cloud.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { freePort } from '../helpers/brokers.js'
import { startRelay } from '../helpers/tcp-relay.js'
import { startBroker, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const DEVICE = 'relay-kill-01'
const N = 6000
const KILL_AFTER_ACKS = 2000

interface Rec { seq: number, kind: string, fn?: string, data: Record<string, unknown> }

async function until (what: () => string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const idOf = (payload: unknown): number | undefined => {
  try { return (JSON.parse(String(payload)) as { id?: number }).id } catch { return undefined }
}

test('SIGKILL of the agent relaying QoS 1 at full speed: each trigger PUBACKed before the kill has its publish and result; every result in the cloud once', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-relay-kill-'))
  const functions = writeFunctions(path.join(root, 'functions'), {
    relay: {
      manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }], permissions: { publish: ['out/#'] } },
      code: "export default (e, ctx) => { ctx.publish('out/' + (e.payload.id % 5), { id: e.payload.id }, { qos: 1 }); return { id: e.payload.id } }"
    }
  })
  const broker = await startBroker()
  const ports = { cloud: await freePort(), api: await freePort() }
  const cloudData = path.join(root, 'cloud')
  let cloud: LambkinProcess | undefined
  let agent: LambkinProcess | undefined
  let env = { api: '', token: '', broker: '' }
  const startCloud = async (): Promise<void> => {
    cloud = startLambkin(['cloud', '--data', cloudData, '--port', String(ports.cloud), '--api-port', String(ports.api)])
    const m = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/, 60_000)
    env = { broker: m[1], api: m[2], token: readFileSync(m[3], 'utf8').trim() }
  }
  const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${env.api}${route}`, {
      method,
      headers: { authorization: `Bearer ${env.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000)
    })
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`)
    return await res.json() as T
  }
  const device = async (): Promise<{ highWater: number, stream: string | null, streams: number }> => await api('GET', `/v1/devices/${DEVICE}`)
  await startCloud()
  const { secret } = await api<{ secret: string }>('POST', '/v1/devices', { id: DEVICE })
  const relay = await startRelay({ port: ports.cloud })
  const config = path.join(root, 'device.json')
  writeFileSync(config, JSON.stringify({
    id: DEVICE,
    dataDir: path.join(root, 'agent'),
    functionsDir: functions,
    mqtt: { url: broker.url, reconnectMs: 200 },
    cloud: { url: relay.url, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 300, ackTimeoutMs: 5000 }
  }))
  const startAgent = async (): Promise<void> => {
    agent = startLambkin(['device', '--config', config, '--quiet'], { env: { LAMBKIN_CLOUD_PASSWORD: secret } })
    await agent.waitFor('stdout', new RegExp(`lambkin device ${DEVICE} ready`), 60_000)
  }
  const acked = new Set<number>()
  const out = new Map<number, number>()
  broker.broker.on('ack', (packet, client) => {
    if (client?.id !== `lambkin-${DEVICE}` || packet === null || packet === undefined) return
    const id = idOf((packet as { payload?: Buffer }).payload)
    if (id !== undefined) acked.add(id)
  })
  broker.broker.on('publish', (packet, client) => {
    if (client?.id !== `lambkin-${DEVICE}` || !packet.topic.startsWith('out/')) return
    const id = idOf(packet.payload)
    if (id !== undefined) out.set(id, (out.get(id) ?? 0) + 1)
  })
  let publisher: mqtt.MqttClient | undefined
  try {
    await startAgent()
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'relay-publisher', reconnectPeriod: 0, clean: false })
    const pub = publisher
    // Full speed: every publish handed to MQTT.js at once.
    const sending = Promise.all(Array.from({ length: N }, async (_, i) => await pub.publishAsync(`in/${i % 7}`, JSON.stringify({ id: i }), { qos: 1 })))
    await until(() => `${KILL_AFTER_ACKS} triggers acked (have ${acked.size})`, () => acked.size >= KILL_AFTER_ACKS)
    assert.is((await agent?.stop('SIGKILL'))?.signal, 'SIGKILL')
    const ackedBeforeKill = new Set(acked)
    const outBeforeKill = new Set(out.keys())
    await sending
    await startAgent()
    await until(() => `all ${N} triggers acked (have ${acked.size})`, () => acked.size === N, 120_000)
    const resultsIn = async (): Promise<Rec[]> => {
      const d = await device()
      const records: Rec[] = []
      for (;;) {
        const after = records.length === 0 ? 0 : records[records.length - 1].seq
        const page = await api<{ records: Rec[] }>('GET', `/v1/devices/${DEVICE}/records?stream=${d.stream ?? ''}&after=${after}&limit=10000`)
        records.push(...page.records)
        if (page.records.length < 10_000) return records
      }
    }
    let records: Rec[] = []
    await until(() => `${N} results in the cloud (have ${records.filter((r) => r.kind === 'result').length})`, async () => {
      records = await resultsIn()
      return records.filter((r) => r.kind === 'result').length >= N
    }, 120_000)
    await until(() => `an output publish for every trigger (have ${out.size})`, () => out.size === N, 60_000)
    const results = new Map<number, number>()
    for (const r of records) {
      if (r.kind !== 'result') continue
      const id = (r.data.result as { id: number }).id
      results.set(id, (results.get(id) ?? 0) + 1)
    }
    console.log(`relay kill: ${ackedBeforeKill.size} triggers acked and ${outBeforeKill.size} published before the kill; after: ${acked.size} acked, ${out.size} published (${[...out.values()].filter((c) => c > 1).length} twice), ${results.size} results in the cloud of ${records.length} records`)
    assert.ok(ackedBeforeKill.size < N, 'the kill lands mid-stream')
    const twice = [...results].filter(([, c]) => c > 1).map(([id]) => id)
    assert.equal(twice.slice(0, 20), [], `${twice.length} results in the cloud more than once`)
    const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !results.has(i))
    assert.equal(missing.slice(0, 20), [], `${missing.length} triggers without a result in the cloud`)
    const holes = records.filter((r, i) => r.seq !== i + 1)
    assert.equal(holes.slice(0, 1).map((r) => r.seq), [], 'seqs run 1, 2, 3...')
    assert.is((await device()).streams, 1)
    assert.equal(await agent?.stop('SIGTERM'), { code: 0, signal: null }, agent?.stderr().slice(-3000))
  } finally {
    await publisher?.endAsync(true)
    await agent?.stop('SIGKILL')
    await cloud?.stop('SIGKILL')
    await relay.close()
    await broker.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
