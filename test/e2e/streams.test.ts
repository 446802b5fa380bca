// Outbox streams end to end [W4], as an operator meets them: `lambkin cloud`, `lambkin devices
// add`, agents with `--cloud`, `lambkin status`, all child processes. A board whose data folder
// is moved aside starts a new stream, and everything it writes after reaches the cloud; two
// boards cloned from one card (same id, secret and data folder) are shown as a conflict and as
// taking each other's session, and nothing either board made is lost: each record is in the
// cloud as that board made it, or still in that board's outbox.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LevelOutboxStore } from '../../device/store/index.js'
import { freePort } from '../helpers/brokers.js'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

interface Rec { stream?: string, seq: number, kind: string, time: number, data: { result?: { board?: string, at?: number } } | { board?: string, at?: number } }
interface World {
  root: string
  env: Record<string, string>
  secret: string
  api: <T>(route: string) => Promise<T>
  /** Every record the cloud holds for gh-01, in (stream, seq) order. */
  stored: () => Promise<Rec[]>
  procs: LambkinProcess[]
}

/** A running `lambkin cloud` with device gh-01 added. */
async function cloudWorld (root: string): Promise<World> {
  const procs: LambkinProcess[] = []
  const [port, apiPort] = [await freePort(), await freePort()]
  const cloud = startLambkin(['cloud', '--data', path.join(root, 'cloud'), '--port', String(port), '--api-port', String(apiPort)])
  procs.push(cloud)
  const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/)
  const env = { LAMBKIN_API: ready[2], LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim(), BROKER: ready[1] }
  const added = await runLambkin(['devices', 'add', 'gh-01', '--json'], { env })
  assert.is(added.code, 0, added.stderr)
  const api = async <T>(route: string): Promise<T> => await (await fetch(`${env.LAMBKIN_API}${route}`, { headers: { authorization: `Bearer ${env.LAMBKIN_TOKEN}` } })).json() as T
  return {
    root,
    env,
    secret: (JSON.parse(added.stdout) as { secret: string }).secret,
    api,
    stored: async () => (await api<{ records: Rec[] }>('/v1/devices/gh-01/records?after=0&stream=legacy&limit=10000')).records,
    procs
  }
}

/** Starts an agent as gh-01 whose `tick` function returns its board's name every second. */
async function board (w: World, name: string, dataDir: string): Promise<LambkinProcess> {
  const functionsDir = writeFunctions(path.join(w.root, `fns-${name}`), {
    tick: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: `export default (e) => ({ board: '${name}', at: e.scheduledTime })` }
  })
  const config = path.join(w.root, `device-${name}.json`)
  writeFileSync(config, JSON.stringify({ id: 'gh-01', dataDir, functionsDir, metricsSnapshotMs: 3_600_000, cloud: { url: w.env.BROKER, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 400, ackTimeoutMs: 2000 } }))
  const p = startLambkin(['device', '--config', config], { env: { LAMBKIN_CLOUD_PASSWORD: w.secret } })
  w.procs.push(p)
  await p.waitFor('stdout', /lambkin device gh-01 ready/)
  return p
}

const boardOf = (r: Rec): string | undefined => ((r.data as { result?: { board?: string } }).result ?? (r.data as { board?: string })).board

test('[W4] a board whose data folder is moved aside and restarted keeps all its new data in the cloud', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-reflash-'))
  let w: World | undefined
  try {
    w = await cloudWorld(root)
    const world = w
    const dataDir = path.join(root, 'data')
    let agent = await board(w, 'first', dataDir)
    await until('eight results stored', async () => (await world.stored()).filter((r) => r.kind === 'result').length >= 8)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null })
    // The store's own advice for a damaged folder, or a re-flashed card: a new, empty data folder.
    renameSync(dataDir, path.join(root, 'data.aside'))
    const restartedAt = Date.now()
    agent = await board(w, 'second', dataDir)
    await until('three results of the new store stored', async () => (await world.stored()).filter((r) => boardOf(r) === 'second').length >= 3)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null })

    // Everything the new store wrote is in the cloud: its outbox is empty and each of its seqs is stored.
    const store = await LevelOutboxStore.open({ dir: dataDir })
    const left = await store.stats()
    const stream = store.streamId
    await store.close()
    assert.is(left.count, 0)
    const all = await w.stored()
    const second = all.filter((r) => r.stream === stream)
    assert.equal(second.map((r) => r.seq), Array.from({ length: left.lastSeq }, (_, i) => i + 1), 'seq 1 to the last, each once')
    assert.ok(second.filter((r) => r.kind === 'result').every((r) => boardOf(r) === 'second' && r.time >= restartedAt - 1000))
    assert.ok(all.filter((r) => boardOf(r) === 'first').length >= 8, 'the first store\'s records are kept beside')
    const dev = await w.api<{ streams: number, state: string }>('/v1/devices/gh-01')
    assert.is(dev.streams, 2)
    const status = await runLambkin(['status'], { env: w.env })
    assert.match(status.stdout, /gh-01\s+offline.*\s2\n/)
  } finally {
    for (const p of w?.procs ?? []) await p.stop('SIGKILL').catch(() => {})
    rmSync(root, { recursive: true, force: true })
  }
})

test('[W4] two boards cloned from one card: a conflict and takeovers in status, and nothing either made is acked away', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-clone-'))
  let w: World | undefined
  try {
    w = await cloudWorld(root)
    const world = w
    // The image: a board that ran and uploaded, then stopped; its card is copied.
    const dirA = path.join(root, 'card-a')
    const dirB = path.join(root, 'card-b')
    const image = await board(w, 'image', dirA)
    await until('the image uploaded a few', async () => (await world.stored()).length >= 3)
    assert.equal(await image.stop('SIGTERM'), { code: 0, signal: null })
    cpSync(dirA, dirB, { recursive: true })
    const imageStore = await LevelOutboxStore.open({ dir: dirA })
    const imageLast = (await imageStore.stats()).lastSeq
    await imageStore.close()

    const a = await board(w, 'a', dirA)
    const b = await board(w, 'b', dirB)
    await until('status to show the conflict', async () => /gh-01\s+conflict/.test((await runLambkin(['status'], { env: world.env })).stdout), 90_000)
    await until('takeovers counted', async () => (await world.api<{ takeovers: { count: number } }>('/v1/devices/gh-01')).takeovers.count > 0)
    const status = await runLambkin(['status'], { env: w.env })
    assert.match(status.stdout, /gh-01: LAMBKIN_STREAM_CONFLICT: .*two boards are using this id.*lambkin devices add <new-id>/)
    // Both boards heartbeat under gh-01: its backlog is one of theirs, and says so.
    const row = status.stdout.split('\n').find((l) => /^gh-01\s+conflict/.test(l)) ?? ''
    assert.ok(/\d+ \(\d/.test(row) === row.includes('one of the boards on this id'), row)
    const logs = (): string => a.stdout() + a.stderr() + b.stdout() + b.stderr()
    assert.match(logs(), /LAMBKIN_STREAM_CONFLICT: the cloud holds other records under this device id/)
    await until('a board to say its session keeps being taken over', async () => /closed this board's connection \d+ times .*another board is probably connecting as gh-01/.test(logs()))
    await a.stop('SIGKILL')
    await b.stop('SIGKILL')

    // Each seq a board made after the image is in the cloud as that board made it, or still in its outbox.
    const cloud = new Map((await w.stored()).map((r) => [r.seq, boardOf(r)]))
    for (const [name, dir] of [['a', dirA], ['b', dirB]] as const) {
      const store = await LevelOutboxStore.open({ dir })
      try {
        const last = (await store.stats()).lastSeq
        const held = new Set((await store.read({ limit: 100_000 })).map((r) => r.seq))
        assert.ok(last > imageLast, `board ${name} made records`)
        for (let seq = imageLast + 1; seq <= last; seq++) {
          assert.ok(held.has(seq) || cloud.get(seq) === name, `board ${name}'s seq ${seq} is neither in its outbox nor in the cloud as its own (the cloud holds ${String(cloud.get(seq))})`)
        }
      } finally {
        await store.close()
      }
    }
  } finally {
    for (const p of w?.procs ?? []) await p.stop('SIGKILL').catch(() => {})
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
