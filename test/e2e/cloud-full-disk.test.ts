// The cloud's registry on a full disk (docs/architecture.md, "Durability"): `lambkin cloud`
// with its data on a small tmpfs that fills up while an agent uploads. The registry faults at
// the first failed write, acknowledges no upload (the device keeps its records), says so in its
// log, in `GET /v1/health` (503 with the code) and in `lambkin status`; once there is room it
// reopens and verifies itself with no restart, every record arrives once, and what it
// acknowledged is still there after a kill -9. Real cloud and agent processes, LevelDB, tmpfs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LevelOutboxStore } from '../../device/store/index.js'
import { freePort } from '../helpers/brokers.js'
import { mountTmpfs } from '../helpers/tmpfs.js'
import { runLambkin, startLambkin } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const N = 3000

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('cloud registry on a full disk: no upload is acknowledged while faulted, /v1/health and status say so, it recovers by itself and every record arrives once', async () => {
  const disk = mountTmpfs(16 * 1024 * 1024)
  if ('skip' in disk) { console.log(`skipped: ${disk.skip}`); return }
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-cloudfull-'))
  const procs: LambkinProcess[] = []
  try {
    const dataDir = path.join(root, 'data')
    const store = await LevelOutboxStore.open({ dir: dataDir })
    for (let i = 0; i < N; i += 500) await store.commit({ records: Array.from({ length: 500 }, (_, k) => ({ kind: 'result' as const, fn: 'old', time: 1_700_000_000_000 + i + k, data: { n: i + k + 1, pad: 'q'.repeat(200) } })) })
    await store.close()

    const [port, apiPort] = [await freePort(), await freePort()]
    const cloudArgs = ['cloud', '--data', path.join(disk.dir, 'cloud'), '--port', String(port), '--api-port', String(apiPort)]
    let cloud = startLambkin(cloudArgs)
    procs.push(cloud)
    const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/)
    const env = { LAMBKIN_API: ready[2], LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim() }
    const added = await runLambkin(['devices', 'add', 'full-01', '--json'], { env })
    assert.is(added.code, 0, added.stderr)
    const { secret } = JSON.parse(added.stdout) as { secret: string }
    const api = async <T>(route: string): Promise<{ status: number, body: T }> => {
      const res = await fetch(`${ready[2]}${route}`, { headers: { authorization: `Bearer ${env.LAMBKIN_TOKEN}` } })
      return { status: res.status, body: await res.json() as T }
    }
    const device = async (): Promise<{ highWater: number, counts: { stored: number, duplicates: number, gaps: number } }> => (await api<{ highWater: number, counts: { stored: number, duplicates: number, gaps: number } }>('/v1/devices/full-01')).body

    disk.fill()
    const config = path.join(root, 'device.json')
    writeFileSync(config, JSON.stringify({ id: 'full-01', dataDir, functionsDir: path.join(root, 'none'), cloud: { url: ready[1], batchRecords: 200, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 400 } }))
    const agent = startLambkin(['device', '--config', config], { env: { LAMBKIN_CLOUD_PASSWORD: secret } })
    procs.push(agent)
    await cloud.waitFor('stderr', /LAMBKIN_STORE_FAULT: the cloud registry failed a write/, 60_000)

    const health = await api<{ ok: boolean, error?: { code: string } }>('/v1/health')
    assert.is(health.status, 503)
    assert.is(health.body.error?.code, 'LAMBKIN_STORE_FAULT')
    const status = await runLambkin(['status'], { env })
    assert.is(status.code, 0, status.stderr)
    assert.match(status.stdout, /cloud registry: LAMBKIN_STORE_FAULT since \S+: .*no space left/i, status.stdout)
    const during = (await device()).highWater
    assert.ok(during < N, `nothing more is acknowledged while faulted (high-water ${during})`)

    disk.free()
    await cloud.waitFor('stderr', /the cloud registry is reopened and checked/, 90_000)
    assert.not.match(cloud.stderr(), /WARNING: after reopening/)
    await until('every record stored', async () => (await device()).highWater === N, 90_000)
    assert.is((await api('/v1/health')).status, 200)
    const d = await device()
    assert.equal([d.counts.stored, d.counts.gaps], [N, 0], 'each record once, none declared lost')

    await cloud.stop('SIGKILL')
    cloud = startLambkin(cloudArgs)
    procs.push(cloud)
    await cloud.waitFor('stdout', /lambkin cloud ready/)
    const again = await device()
    assert.equal([again.highWater, again.counts.stored], [N, N], 'what the cloud acknowledged survives a kill -9')
  } finally {
    for (const p of procs) if (p.child.exitCode === null) await p.stop('SIGKILL')
    disk.unmount()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
