// One outbox row of bench/cost: `node outbox.js <records>` fills a real outbox (LevelDB in a temp
// folder) with that many ~100-byte results, commits of 10 records, COMMITS_IN_FLIGHT at once
// (write rate); closes it and times the reopen (open after a restart: the ledger is rebuilt
// from the store); then uploads it all to a real cloud (`Cloud.create` on a temp data dir, in a
// child process: `node outbox.js cloud`) through the agent's CloudLink with the agent's
// defaults (batches of 1,000, 2 in flight), timed from the link's connect until the cloud has
// acknowledged the last record (drain rate). COST_WRITE_BUFFER_KIB: the store's LevelDB write
// buffer (outbox.writeBufferKiB; 1024 with LAMBKIN_MEMORY=small), the store's default otherwise.
// Prints one JSON line.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { CloudLink } from '../../device/sync/index.js'
import { LevelOutboxStore } from '../../device/store/index.js'
import type { NewRecord } from '../../device/store/index.js'
import { systemClock } from '../../src/clock.js'
import { GENERATED_SECRET_PARAMS, hashPassword } from '../../src/secrets.js'

const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuv'
const DEVICE = 'cost-drain'
const PER_COMMIT = 10
const COMMITS_IN_FLIGHT = 64
const BUFFER = process.env.COST_WRITE_BUFFER_KIB === undefined ? {} : { writeBufferKiB: Number(process.env.COST_WRITE_BUFFER_KIB) }

async function cloudRole (): Promise<void> {
  const { Cloud } = await import('../../cloud-sync/index.js')
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-cost-cloud-'))
  const cloud = await Cloud.create({ dataDir: dir, port: 0, apiPort: 0 })
  await cloud.registry.addDevice({ id: DEVICE, secretHash: await hashPassword(SECRET, GENERATED_SECRET_PARAMS), createdAt: Date.now() })
  process.stdout.write(JSON.stringify({ port: cloud.broker.port }) + '\n')
  await new Promise((resolve) => { process.stdin.on('end', resolve); process.stdin.resume() })
  const dev = await cloud.registry.getDevice(DEVICE)
  await cloud.close()
  rmSync(dir, { recursive: true, force: true })
  process.stdout.write(JSON.stringify({ highWater: dev?.highWater }) + '\n')
}

const record = (i: number): NewRecord => ({ kind: 'result', fn: 'threshold', time: 1_800_000_000_000 + i, data: { invocationId: `i-${i}`, result: { value: 21.5, alarm: false }, durationMs: 0.4, attempts: 1 } })

async function write (dir: string, total: number): Promise<number> {
  const store = await LevelOutboxStore.open({ dir, quotaBytes: 2 ** 40, ...BUFFER })
  const units = Math.ceil(total / PER_COMMIT)
  let next = 0
  const t0 = performance.now()
  const lane = async (): Promise<void> => {
    while (next < units) {
      const u = next++
      await store.commit({ records: Array.from({ length: Math.min(PER_COMMIT, total - u * PER_COMMIT) }, (_, j) => record(u * PER_COMMIT + j)) })
    }
  }
  await Promise.all(Array.from({ length: COMMITS_IN_FLIGHT }, lane))
  await store.flush()
  const seconds = (performance.now() - t0) / 1000
  await store.close()
  return total / seconds
}

async function main (total: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-cost-outbox-'))
  const cloud = spawn(process.execPath, [fileURLToPath(import.meta.url), 'cloud'], { stdio: ['pipe', 'pipe', 'inherit'] })
  try {
    const writePerSecond = await write(dir, total)
    const diskMiB = Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) / 1024
    const t0 = performance.now()
    const store = await LevelOutboxStore.open({ dir, quotaBytes: 2 ** 40, ...BUFFER })
    const openSeconds = (performance.now() - t0) / 1000
    const count = (await store.stats()).count
    if (count !== total) throw new Error(`the outbox holds ${count} records after the restart, expected ${total}`)

    let out = ''
    cloud.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
    while (!out.includes('\n')) await new Promise((resolve) => setTimeout(resolve, 20))
    const { port } = JSON.parse(out.split('\n')[0]) as { port: number }
    const started = performance.now()
    const link = await CloudLink.start({
      url: `mqtt://127.0.0.1:${port}`,
      deviceId: DEVICE,
      secret: SECRET,
      store,
      clock: systemClock,
      log: () => {},
      status: () => ({ agent: 'bench', functions: [] }),
      heartbeatMs: 60_000,
      batchRecords: 1000,
      window: 2,
      ackTimeoutMs: 30_000,
      uploadBytesPerSec: 0,
      dailyUploadBytes: 0,
      uploadLogs: true,
      logExclude: [],
      reconnectMinMs: 100,
      reconnectMaxMs: 1000
    })
    let connectedAt = 0
    while ((await store.stats()).count > 0) {
      if (connectedAt === 0 && link.state === 'online') connectedAt = performance.now()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const drainSeconds = (performance.now() - (connectedAt || started)) / 1000
    await link.close()
    await store.close()
    cloud.stdin.end()
    await new Promise((resolve) => cloud.once('exit', resolve))
    const highWater = (JSON.parse(out.trim().split('\n').pop() as string) as { highWater: number }).highWater
    if (highWater !== total) throw new Error(`the cloud's high-water is ${highWater}, expected ${total}`)
    return { records: total, writePerSecond, diskMiB, openSeconds, drainPerSecond: total / drainSeconds, drainSeconds }
  } finally {
    cloud.kill()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'cloud') await cloudRole()
else console.log(JSON.stringify(await main(Number(process.argv[2]))))
process.exit(0)
