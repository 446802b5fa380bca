// `lambkin cloud --db postgres://…` end to end (docs/postgres.md), child processes and a real
// PostgreSQL: an agent registered, a function deployed to it and applied, its results queried
// through the CLI from rows in PostgreSQL (no LevelDB registry made), kept through a kill -9 of
// the cloud; `lambkin cloud migrate`. Then PostgreSQL restarted under an agent's upload: health
// answers 503 with LAMBKIN_DB_UNAVAILABLE, nothing is acknowledged meanwhile, and the upload
// resumes by itself with every record stored once.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { LevelOutboxStore } from '../../device/store/index.js'
import { migrations } from '../../cloud-sync/registry/pg/migrate.js'
import { freePort } from '../helpers/brokers.js'
import { pgCases, postgresBin, startPostgres } from '../helpers/postgres.js'
import type { PgServer } from '../helpers/postgres.js'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import { runLambkin, startLambkin } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const test = suite('cloud on PostgreSQL')
const found = postgresBin()
let server: PgServer

test.before(async () => {
  if ('skip' in found) return
  const s = await startPostgres()
  if ('skip' in s) throw new Error(s.skip)
  server = s
})
test.after(async () => { await server?.close() })

const pgTest = pgCases(test, 'cloud on PostgreSQL', found)

const count = async (url: string, text: string): Promise<number> => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try { return Number((await c.query<{ n: string }>(text)).rows[0].n) } finally { await c.end() }
}

pgTest('lambkin cloud --db: a device, a deploy applied, results through the CLI, all in PostgreSQL and kept through a kill -9', async () => {
  const url = await server.createDatabase()
  const migrated = await runLambkin(['cloud', 'migrate', '--db', url])
  assert.is(migrated.code, 0, migrated.stderr)
  assert.match(migrated.stdout, /^migration 0001_init: applying\nmigration 0001_init: applied in \d+ ms\n(migration \d{4}_\w+: applying\nmigration \d{4}_\w+: applied in \d+ ms\n)*the database is at schema version \d+/)
  const again = await runLambkin(['cloud', 'migrate', '--json'], { env: { LAMBKIN_DB_URL: url } })
  assert.equal(JSON.parse(again.stdout), { applied: [], version: migrations().length })
  const help = await runLambkin(['cloud', 'migrate', '--help'])
  assert.match(help.stdout, /--db <url>/)

  const w = await deployWorld({ cloudArgs: ['--db', url, '--retention-days', '7'] })
  try {
    const a = w.agent('pg-01', await w.addDevice('pg-01', 'lab'))
    await a.start()
    const dir = w.fn('tick', 'export default (e) => ({ at: e.scheduledTime, v: 1 })', { triggers: [{ schedule: '* * * * * *' }] })
    const r = await w.lambkin(['deploy', dir, '--to', 'group:lab', '--json'])
    assert.is(r.code, 0, r.stderr + r.stdout)
    const end = jsonLines(r.stdout).pop()
    assert.equal([end?.event, end?.ok, end?.state], ['end', true, 'done'])
    const results = async (): Promise<Array<{ fn: string, data: { result?: { v?: number } } }>> => {
      const q = await w.lambkin(['results', 'pg-01', 'tick', '--json'])
      return (JSON.parse(q.stdout) as { records: Array<{ fn: string, data: { result?: { v?: number } } }> }).records
    }
    await until('a result of the deployed function', async () => (await results()).length >= 2)
    const got = await results()
    assert.ok(got.every((x) => x.fn === 'tick' && x.data.result?.v === 1), JSON.stringify(got.slice(0, 3)))
    const status = await w.lambkin(['status'])
    assert.match(status.stdout, /pg-01\s+online/)
    assert.ok(await count(url, "SELECT count(*) AS n FROM lambkin.records WHERE device = 'pg-01' AND fn = 'tick'") >= 2, 'the rows are in PostgreSQL')
    assert.is(await count(url, "SELECT count(*) AS n FROM lambkin.rollouts WHERE state = 'done'"), 1)
    assert.not.ok(existsSync(path.join(w.root, 'cloud', 'registry')), 'no LevelDB registry was made')

    await a.stop()
    const before = (await results()).length
    await w.stopCloud('SIGKILL')
    await w.startCloud()
    assert.ok((await results()).length >= before, 'what the cloud stored survives a kill -9')
    const rollouts = await w.lambkin(['rollouts', '--json'])
    assert.is((JSON.parse(rollouts.stdout) as { rollouts: Array<{ state: string }> }).rollouts[0].state, 'done')
  } finally {
    await w.cleanup()
  }
})

const N = 3000

pgTest('PostgreSQL restarted under an upload: health says LAMBKIN_DB_UNAVAILABLE, nothing is acknowledged meanwhile, and every record arrives once when it is back', async () => {
  const url = await server.createDatabase()
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-cloudpg-'))
  const procs: LambkinProcess[] = []
  try {
    const dataDir = path.join(root, 'data')
    const store = await LevelOutboxStore.open({ dir: dataDir })
    for (let i = 0; i < N; i += 500) await store.commit({ records: Array.from({ length: 500 }, (_, k) => ({ kind: 'result' as const, fn: 'old', time: 1_700_000_000_000 + i + k, data: { n: i + k + 1, pad: 'q'.repeat(100) } })) })
    await store.close()
    const [port, apiPort] = [await freePort(), await freePort()]
    const cloud = startLambkin(['cloud', '--data', path.join(root, 'cloud'), '--port', String(port), '--api-port', String(apiPort)], { env: { LAMBKIN_DB_URL: url } })
    procs.push(cloud)
    const ready = await cloud.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/)
    const env = { LAMBKIN_API: ready[2], LAMBKIN_TOKEN: readFileSync(ready[3], 'utf8').trim() }
    const added = await runLambkin(['devices', 'add', 'pg-02', '--json'], { env })
    assert.is(added.code, 0, added.stderr)
    const { secret } = JSON.parse(added.stdout) as { secret: string }
    const api = async <T>(route: string): Promise<{ status: number, body: T }> => {
      const res = await fetch(`${ready[2]}${route}`, { headers: { authorization: `Bearer ${env.LAMBKIN_TOKEN}` } })
      return { status: res.status, body: await res.json() as T }
    }
    const device = async (): Promise<{ highWater: number, counts: { stored: number, gaps: number } }> => (await api<{ highWater: number, counts: { stored: number, gaps: number } }>('/v1/devices/pg-02')).body

    // A bandwidth limit stretches the upload over seconds, so the restart lands in the middle of it.
    const config = path.join(root, 'device.json')
    writeFileSync(config, JSON.stringify({ id: 'pg-02', dataDir, functionsDir: path.join(root, 'none'), cloud: { url: ready[1], uploadBytesPerSec: 60_000, batchRecords: 100, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 400 } }))
    procs.push(startLambkin(['device', '--config', config], { env: { LAMBKIN_CLOUD_PASSWORD: secret } }))
    await until('the upload to start', async () => (await device()).highWater > 0, 60_000)

    await server.stop()
    try {
      await until('health to say so', async () => (await api('/v1/health')).status === 503, 30_000)
      const health = await api<{ ok: boolean, error?: { code: string, message: string } }>('/v1/health')
      assert.equal([health.body.ok, health.body.error?.code], [false, 'LAMBKIN_DB_UNAVAILABLE'])
      const list = await api<{ error?: { code: string } }>('/v1/devices')
      assert.equal([list.status, list.body.error?.code], [503, 'LAMBKIN_DB_UNAVAILABLE'])
      await cloud.waitFor('stderr', /LAMBKIN_DB_UNAVAILABLE: the cloud's PostgreSQL database cannot be reached/)
      // The device keeps trying meanwhile; give it time to.
      await new Promise((resolve) => setTimeout(resolve, 1500))
    } finally {
      await server.start()
    }
    await until('health to recover', async () => (await api('/v1/health')).status === 200, 30_000)
    const during = (await device()).highWater
    assert.ok(during < N, `the restart came mid-upload (high-water ${during} of ${N})`)
    await until('every record stored', async () => (await device()).highWater === N, 120_000)
    await cloud.waitFor('stderr', /PostgreSQL database answers again/)
    const d = await device()
    assert.equal([d.counts.stored, d.counts.gaps], [N, 0], 'each record once, none declared lost')
    const seqs: number[] = []
    for (let after = 0; seqs.length < N;) {
      const page = (await api<{ records: Array<{ seq: number, data: { n: number } }> }>(`/v1/devices/pg-02/records?after=${after}&limit=10000`)).body.records
      if (page.length === 0) break
      for (const r of page) { assert.is(r.data.n, r.seq); seqs.push(r.seq) }
      after = page[page.length - 1].seq
    }
    assert.equal(seqs, Array.from({ length: N }, (_, i) => i + 1), 'seqs 1..N in order, none missing or twice')
  } finally {
    for (const p of procs) if (p.child.exitCode === null) await p.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
