// The cloud side end to end, as an operator runs it: `lambkin cloud`, `lambkin devices add`,
// an agent with `--cloud`, all child processes. An outbox filled while offline reaches the
// cloud exactly once and in order, through a SIGKILL of the cloud and of the agent mid-upload.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LevelOutboxStore } from '../../device/store/index.js'
import { freePort } from '../helpers/brokers.js'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const N = 12_000

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('[W4] an offline outbox arrives once and in order, through a SIGKILL of the cloud and then of the agent mid-upload', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-cloud-'))
  const procs: LambkinProcess[] = []
  try {
    const dataDir = path.join(root, 'data')
    const functionsDir = writeFunctions(path.join(root, 'fns'), {
      tick: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: 'export default (e, ctx) => { ctx.log("tick"); return { at: e.scheduledTime } }' }
    })
    // What an agent that was offline for a while has buffered.
    const store = await LevelOutboxStore.open({ dir: dataDir, quotaBytes: 256 * 1024 * 1024 })
    for (let i = 0; i < N; i += 1000) await store.commit({ records: Array.from({ length: 1000 }, (_, k) => ({ kind: 'result' as const, fn: 'old', time: 1_700_000_000_000 + i + k, data: { n: i + k + 1 } })) })
    await store.close()

    const [port, apiPort] = [await freePort(), await freePort()]
    const cloudArgs = ['cloud', '--data', path.join(root, 'cloud'), '--port', String(port), '--api-port', String(apiPort)]
    let cloud = startLambkin(cloudArgs)
    procs.push(cloud)
    const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/)
    const env = { LAMBKIN_API: ready[2], LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim() }
    const added = await runLambkin(['devices', 'add', 'gh-01', '--group', 'greenhouse', '--json'], { env })
    assert.is(added.code, 0, added.stderr)
    const { secret } = JSON.parse(added.stdout) as { secret: string }
    const api = async <T>(route: string): Promise<T> => await (await fetch(`${ready[2]}${route}`, { headers: { authorization: `Bearer ${env.LAMBKIN_TOKEN}` } })).json() as T
    const device = async (): Promise<{ state: string, highWater: number, agent: string | null, counts: { stored: number, gaps: number } }> => await api('/v1/devices/gh-01')

    // A bandwidth limit stretches the upload over seconds, so the kills land in the middle of it.
    const config = path.join(root, 'device.json')
    writeFileSync(config, JSON.stringify({ id: 'gh-01', dataDir, functionsDir, cloud: { url: ready[1], uploadBytesPerSec: 60_000, batchRecords: 200, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 400 } }))
    const agentEnv = { LAMBKIN_CLOUD_PASSWORD: secret }
    let agent = startLambkin(['device', '--config', config], { env: agentEnv })
    procs.push(agent)
    await agent.waitFor('stdout', /lambkin device gh-01 ready: .*cloud mqtt:\/\/127\.0\.0\.1/)
    await until('the upload to start', async () => (await device()).highWater > 0)

    await cloud.stop('SIGKILL')
    cloud = startLambkin(cloudArgs)
    procs.push(cloud)
    await cloud.waitFor('stdout', /lambkin cloud ready/)
    const before = (await device()).highWater
    assert.ok(before < N, `the cloud was killed mid-upload (high-water ${before} of ${N})`)
    await until('the upload to go on', async () => (await device()).highWater > before)

    await agent.stop('SIGKILL')
    const mid = (await device()).highWater
    assert.ok(mid < N, `the agent was killed mid-upload (high-water ${mid} of ${N})`)
    agent = startLambkin(['device', '--config', config], { env: agentEnv })
    procs.push(agent)
    await agent.waitFor('stdout', /ready/)
    await until('everything buffered to arrive', async () => (await device()).highWater >= N, 120_000)

    // Exactly once and in order: seqs 1..N each once, with what was written under them.
    const page1 = (await api<{ records: Array<{ seq: number, fn: string, data: { n?: number } }> }>('/v1/devices/gh-01/records?after=0&limit=10000')).records
    const page2 = (await api<{ records: Array<{ seq: number, fn: string, data: { n?: number } }> }>(`/v1/devices/gh-01/records?after=${page1[page1.length - 1].seq}&limit=10000`)).records
    const old = [...page1, ...page2].filter((r) => r.fn === 'old')
    assert.is(old.length, N)
    assert.ok(old.every((r, i) => r.seq === i + 1 && r.data.n === i + 1), 'seq order, nothing missing or twice')
    const d = await device()
    assert.is(d.counts.gaps, 0)
    assert.is(d.state, 'online')
    assert.match(String(d.agent), /^\d+\.\d+\.\d+/)

    // The agent's own results reach the operator views too.
    await until('a tick result', async () => {
      const r = await runLambkin(['results', 'gh-01', 'tick', '--json'], { env })
      return (JSON.parse(r.stdout) as { records: unknown[] }).records.length > 0
    })
    const status = await runLambkin(['status'], { env })
    assert.match(status.stdout, /gh-01\s+online/)

    // A clean stop says offline at once [W3].
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null })
    await until('offline', async () => (await device()).state === 'offline', 10_000)
    // ...after uploading what it wrote last, its final metric snapshot among it.
    const after = await LevelOutboxStore.open({ dir: dataDir })
    try {
      const left = await after.stats()
      assert.is(left.count, 0, 'nothing left in the outbox after a clean stop')
      assert.is((await device()).highWater, left.lastSeq)
    } finally {
      await after.close()
    }
  } finally {
    for (const p of procs) await p.stop('SIGKILL').catch(() => {})
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
