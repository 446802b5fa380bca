// A large outbox drained to the cloud through faults ([W4]; docs/durability.md): about 50,000
// records buffered while the cloud was out of reach, then drained while the agent is SIGKILLed,
// the cloud is SIGKILLed and the link is cut (test/helpers/tcp-relay.ts), each mid-drain. The
// drain reads in 1 MiB steps, acks from what its last read saw (device/store/read-run.ts) and
// the cloud reads the frames with its own reader (src/wire/batch-decode.ts): every emitted
// record must be in the cloud exactly once, on one stream whose seqs run 1, 2, 3... Real
// `lambkin cloud` and `lambkin device` processes, aedes as the trigger broker.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { startRelay } from '../helpers/tcp-relay.js'
import type { TcpRelay } from '../helpers/tcp-relay.js'
import { mountTmpfs } from '../helpers/tmpfs.js'
import { startBroker, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'
import { startCloudProcess, until } from './fixtures/cloud-process.js'

const DEVICE = 'drain-01'
/** Records each trigger makes besides its result. */
const EMITS = 100

interface Faults {
  /** Kills the agent (SIGKILL) and starts it again on the same data. */
  killAgent: () => Promise<void>
  /** Starts the agent again after it ended by itself. */
  startAgent: () => Promise<void>
  /** Kills the cloud (SIGKILL) and starts it again on the same data. */
  killCloud: () => Promise<void>
  relay: TcpRelay
  /** Resolves once the cloud's high-water reaches n, with the high-water then. */
  passes: (n: number) => Promise<number>
  high: () => Promise<number>
}

/**
 * Buffers `buffered` triggers' records while the cloud is out of reach, opens the link, sends
 * the rest of `messages` during the drain while `faults` runs, and checks what the cloud holds.
 */
async function drainThrough (agentDir: string | undefined, buffered: number, messages: number, faults: (f: Faults) => Promise<string[]>): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-drain-'))
  const functions = writeFunctions(path.join(root, 'functions'), {
    fill: {
      manifest: { triggers: [{ mqtt: 'fill/+', qos: 1 }] },
      code: `export default (e, ctx) => { for (let k = 0; k < ${EMITS}; k++) ctx.emit({ n: e.payload.id * ${EMITS} + k }); return { id: e.payload.id } }`
    }
  })
  const broker = await startBroker()
  const cloud = await startCloudProcess(path.join(root, 'cloud'))
  let agent: LambkinProcess | undefined
  const { api } = cloud
  const { secret } = await api<{ secret: string }>('POST', '/v1/devices', { id: DEVICE })
  const relay = await startRelay({ port: cloud.port })
  relay.refuse = true
  const config = path.join(root, 'device.json')
  writeFileSync(config, JSON.stringify({
    id: DEVICE,
    dataDir: agentDir ?? path.join(root, 'agent'),
    functionsDir: functions,
    mqtt: { url: broker.url, reconnectMs: 200 },
    cloud: { url: relay.url, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 300, ackTimeoutMs: 5000 }
  }))
  const startAgent = async (): Promise<void> => {
    agent = startLambkin(['device', '--config', config, '--quiet'], { env: { LAMBKIN_CLOUD_PASSWORD: secret } })
    await agent.waitFor('stdout', new RegExp(`lambkin device ${DEVICE} ready`), 60_000)
  }
  let publisher: mqtt.MqttClient | undefined
  try {
    await startAgent()
    // The agent PUBACKs a trigger once its outcome (result and emits) is committed.
    let acks = 0
    broker.broker.on('ack', (_p, client) => { if (client?.id === `lambkin-${DEVICE}`) acks++ })
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'drain-publisher', reconnectPeriod: 0 })
    for (let i = 0; i < buffered; i++) await publisher.publishAsync(`fill/${i % 5}`, JSON.stringify({ id: i }), { qos: 1 })
    await until(() => `${buffered} triggers acked (have ${acks})`, () => acks >= buffered, 120_000)

    const total = messages * (EMITS + 1)
    const high = async (): Promise<number> => (await cloud.device(DEVICE)).highWater
    const passes = async (n: number): Promise<void> => { await until(() => `the cloud past ${n} records`, async () => (await high()) >= n, 120_000) }
    relay.refuse = false
    const seen: string[] = []
    // New triggers all through the drain: records are written while the drain reads and acks.
    const pub = publisher
    const live = (async () => {
      for (let i = buffered; i < messages; i++) {
        await pub.publishAsync(`fill/${i % 5}`, JSON.stringify({ id: i }), { qos: 1 })
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    seen.push(...await faults({
      killAgent: async () => { assert.is((await agent?.stop('SIGKILL'))?.signal, 'SIGKILL'); await startAgent() },
      startAgent,
      killCloud: cloud.kill,
      relay,
      passes: async (n) => { await passes(n); return await high() },
      high
    }))
    await live
    await passes(total)
    const d = await cloud.device(DEVICE)
    const records = await cloud.records(DEVICE)
    const emitted = new Map<number, number>()
    const results = new Map<number, number>()
    for (const r of records) {
      if (r.kind === 'emit') {
        const n = (r.data.n ?? (r.data.record as { n?: number } | undefined)?.n) as number
        emitted.set(n, (emitted.get(n) ?? 0) + 1)
      } else if (r.kind === 'result') {
        const id = (r.data.result as { id: number }).id
        results.set(id, (results.get(id) ?? 0) + 1)
      }
    }
    console.log(`drain faults: ${seen.join(', ')}; cloud holds ${records.length} records (${emitted.size} emits, ${results.size} results), high-water ${d.highWater}, ${relay.connections} link connections`)
    const missing = Array.from({ length: messages * EMITS }, (_, i) => i).filter((i) => !emitted.has(i))
    const twice = [...emitted].filter(([, c]) => c > 1).map(([n]) => n)
    assert.equal(missing.slice(0, 20), [], `${missing.length} emitted records missing from the cloud`)
    assert.equal(twice.slice(0, 20), [], `${twice.length} emitted records in the cloud more than once`)
    assert.is(results.size, messages)
    assert.ok([...results.values()].every((c) => c === 1), 'each result once')
    const holes = records.filter((r, i) => r.seq !== i + 1)
    assert.equal(holes.slice(0, 1).map((r) => r.seq), [], 'seqs run 1, 2, 3...')
    assert.is(d.streams, 1, 'kills and cuts start no new stream')
    // The agent's books (its heartbeat's backlog) come back to nothing once all is acked.
    let backlog: unknown
    await until(() => `a backlog of 0 reported (last ${JSON.stringify(backlog)})`, async () => {
      backlog = (await api<{ backlog: { records: number } | null }>('GET', `/v1/devices/${DEVICE}`)).backlog
      return (backlog as { records: number } | null)?.records === 0
    }, 15_000)
    assert.equal(await agent?.stop('SIGTERM'), { code: 0, signal: null }, agent?.stderr().slice(-3000))
  } finally {
    await publisher?.endAsync(true)
    await agent?.stop('SIGKILL')
    await cloud.proc?.stop('SIGKILL')
    await relay.close()
    await broker.close()
    rmSync(root, { recursive: true, force: true })
  }
}

test('a drain of ~45,000 records, with new records written all along, survives SIGKILL of the agent twice, SIGKILL of the cloud and link cuts, mid-drain: each record in the cloud exactly once, seqs 1, 2, 3...', async () => {
  await drainThrough(undefined, 450, 650, async (f) => {
    const seen: string[] = []
    // The agent killed mid-drain twice, then started again on the same data.
    for (const at of [5_000, 12_000]) {
      seen.push(`agent kill at ${await f.passes(at)}`)
      await f.killAgent()
    }
    // The cloud killed mid-drain, then started again on the same data.
    seen.push(`cloud kill at ${await f.passes(20_000)}`)
    await f.killCloud()
    // The link cut three times mid-drain.
    for (const at of [28_000, 34_000, 40_000]) {
      seen.push(`cut at ${await f.passes(at)}`)
      f.relay.cut()
    }
    return seen
  })
})

test('a full disk mid-drain: the store faults, recovers once there is room, a kill -9 while full loses nothing; each record in the cloud exactly once', async () => {
  const disk = mountTmpfs(96 * 1024 * 1024)
  if ('skip' in disk) { console.log(`skipped: ${disk.skip}`); return }
  try {
    await drainThrough(path.join(disk.dir, 'agent'), 300, 400, async (f) => {
      const seen: string[] = []
      // Until the high-water holds still for a second.
      const stalled = async (): Promise<number> => {
        let last = -1
        for (let h = await f.high(); h !== last; h = await f.high()) { last = h; await new Promise((resolve) => setTimeout(resolve, 1000)) }
        return last
      }
      await f.passes(5_000)
      disk.fill()
      seen.push(`disk full at ${await f.high()}, stalled at ${await stalled()}`)
      disk.free()
      seen.push(`room again, on past ${await f.passes((await f.high()) + 5_000)}`)
      disk.fill()
      seen.push(`disk full again at ${await f.high()}, stalled at ${await stalled()}`)
      let started = true
      await f.killAgent().catch((err: Error) => { started = false; seen.push(`the agent did not start on a full disk (${err.message.slice(0, 120)})`) })
      disk.free()
      if (started) await f.killAgent()
      else await f.startAgent()
      seen.push(`agent killed while full, started with room at ${await f.high()}`)
      return seen
    })
  } finally {
    disk.unmount()
  }
})

test.run()
