// What only the PostgreSQL registry has, against a real server (docs/postgres.md): migrations
// applied once by instances starting together and refused from a newer lambkin, records kept as
// the bytes the device sent and read back safely, whole-day retention on the injectable clock,
// and device ages on the database's clock so instances with different clocks agree.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { DAY_MS, PgRegistry, migrateDatabase, migrations, partitionName } from '../../../cloud-sync/registry/pg/index.js'
import { MAINTAIN_EVERY_MS } from '../../../cloud-sync/registry/pg/partitions.js'
import { deviceState } from '../../../cloud-sync/api/views.js'
import { LastSeen } from '../../../cloud-sync/last-seen.js'
import { AWKWARD_IDS } from './abstract-suite-pages.js'
import { FakeClock } from '../../helpers/fake-clock.js'
import { pgCases, postgresBin, startPostgres } from '../../helpers/postgres.js'
import type { PgServer } from '../../helpers/postgres.js'

const test = suite('PgRegistry')
const found = postgresBin()
let server: PgServer

const sql = async <T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try { return (await c.query<T>(text, params)).rows } finally { await c.end() }
}
const rec = (seq: number, data: unknown = { n: seq }): { seq: number, kind: 'result', fn: string, time: number, data: unknown } => ({ seq, kind: 'result', fn: 'f', time: 1_700_000_000_000 + seq, data })

test.before(async () => {
  if ('skip' in found) return
  const s = await startPostgres()
  if ('skip' in s) throw new Error(s.skip)
  server = s
})
test.after(async () => { await server?.close() })

const pgTest = pgCases(test, 'PgRegistry', found)

pgTest('the migrations the build copied are the ones in the repository', async () => {
  const src = fileURLToPath(new URL('../../../../cloud-sync/registry/pg/migrations/', import.meta.url))
  const files = readdirSync(src).filter((f) => f.endsWith('.sql')).sort()
  assert.equal(migrations().map((m) => `${m.name}.sql`), files)
  for (const m of migrations()) assert.is(m.sql, readFileSync(`${src}/${m.name}.sql`, 'utf8'))
})

pgTest('instances starting together apply each migration once; migrate again changes nothing; a newer schema is refused', async () => {
  const url = await server.createDatabase()
  const regs = await Promise.all([0, 1, 2].map(async () => await PgRegistry.open({ url, retentionDays: 0 })))
  await Promise.all(regs.map(async (r) => { await r.close() }))
  const applied = await sql<{ name: string }>(url, 'SELECT name FROM lambkin.migrations ORDER BY version')
  assert.equal(applied.map((r) => r.name), migrations().map((m) => m.name))
  const lines: string[] = []
  assert.equal(await migrateDatabase(url, { progress: (l) => lines.push(l) }), { applied: [], version: migrations().length })
  assert.match(lines.join('\n'), /up to date/)
  await sql(url, "INSERT INTO lambkin.migrations (version, name, sha256) VALUES (9999, '9999_future', 'x')")
  try {
    await PgRegistry.open({ url, retentionDays: 0 })
    assert.unreachable()
  } catch (err) {
    assert.is((err as { code: string }).code, 'LAMBKIN_STORE_ERROR')
    assert.match((err as Error).message, /newer lambkin.*9999_future/)
  }
})

pgTest('[W2] a record\'s data is kept as the bytes the device sent, and bytes that no longer decode read back as a placeholder', async () => {
  const url = await server.createDatabase()
  const reg = await PgRegistry.open({ url, retentionDays: 0 })
  try {
    await reg.addDevice({ id: 'd1', secretHash: 'h', createdAt: 1 })
    // A frame as a device sent it, with 7 written the long way (0x18 0x07): encoding the
    // decoded value again would store 0x07.
    const head = Buffer.from([0xa1, 0x67, ...Buffer.from('records'), 0x81, 0xa5])
    const field = (k: string): Buffer => Buffer.concat([Buffer.from([0x60 + k.length]), Buffer.from(k)])
    const time = Buffer.from([0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x01])
    const frame = Buffer.concat([head, field('seq'), Buffer.from([0x01]), field('kind'), field('result'), field('fn'), field('f'), field('time'), time, field('data'), Buffer.from([0x18, 0x07])])
    const r = await reg.ingest('d1', { records: [{ seq: 1, kind: 'result', fn: 'f', time: 1_700_000_000_001, data: 7 }], gaps: [], raw: frame }, 5)
    assert.is(r.stored, 1)
    const [row] = await sql<{ data: Buffer }>(url, 'SELECT data FROM lambkin.records WHERE device = $1 AND seq = 1', ['d1'])
    assert.equal([...row.data], [0x18, 0x07])
    assert.is((await reg.records('d1'))[0].data, 7)
    // Sent again without the frame: the same value, so a duplicate, not a conflict.
    assert.equal(await reg.ingest('d1', { records: [{ seq: 1, kind: 'result', fn: 'f', time: 1_700_000_000_001, data: 7 }], gaps: [] }, 6), { stored: 0, duplicates: 1, gaps: 0, highWater: 1, stream: 'legacy', newStream: false })
    await sql(url, "UPDATE lambkin.records SET data = '\\x1f'::bytea WHERE device = 'd1'")
    const back = await reg.records('d1')
    assert.match(String((back[0].data as { unreadable?: string }).unreadable), /cannot be decoded/)
  } finally {
    await reg.close()
  }
})

pgTest('retention drops whole days past it, at start and on the hourly timer; their seqs stay acknowledged, never stored again', async () => {
  const url = await server.createDatabase()
  const day = Date.UTC(2025, 0, 10)
  const clock = new FakeClock(day + 3_600_000)
  const logs: string[] = []
  let reg = await PgRegistry.open({ url, retentionDays: 0, clock })
  await reg.addDevice({ id: 'd1', secretHash: 'h', createdAt: 1 })
  for (let i = 0; i < 6; i++) await reg.ingest('d1', { records: [rec(i + 1)], gaps: [] }, day - (5 - i) * DAY_MS + 1000)
  assert.is((await reg.records('d1')).length, 6)
  await reg.close()
  // Kept 3 days: the records of Jan 5 and 6 are older than that in every moment of their day.
  reg = await PgRegistry.open({ url, retentionDays: 3, clock, log: (l) => logs.push(l) })
  try {
    assert.equal((await reg.records('d1', { afterSeq: 0 })).map((r) => r.seq), [3, 4, 5, 6])
    const parts = await sql<{ name: string }>(url, "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'lambkin.records'::regclass ORDER BY 1")
    assert.equal(parts.map((p) => p.name), ['records_2025_01_07', 'records_2025_01_08', 'records_2025_01_09', 'records_2025_01_10', 'records_2025_01_11'])
    assert.match(logs.join('\n'), /retention \(3 days\): dropped the records of 2 days \(records_2025_01_05 to records_2025_01_06\)/)
    assert.equal(await reg.ingest('d1', { records: [rec(1)], gaps: [] }, clock.now()), { stored: 0, duplicates: 1, gaps: 0, highWater: 6, stream: 'legacy', newStream: false })
    // A day later the hourly round drops Jan 7 and makes Jan 12 ahead.
    await clock.advance(DAY_MS - 3_600_000 + MAINTAIN_EVERY_MS)
    await until(async () => (await reg.records('d1', { afterSeq: 0 })).length === 3)
    assert.ok((await reg.partitions.list()).includes(Date.UTC(2025, 0, 12) / DAY_MS), partitionName(Date.UTC(2025, 0, 12) / DAY_MS))
  } finally {
    await reg.close()
  }
})

async function until (check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 25))
  assert.ok(await check(), 'in time')
}

pgTest('device ages come from the database\'s clock: instances whose clocks differ by an hour agree a device is online, then stale', async () => {
  const url = await server.createDatabase()
  const a = await PgRegistry.open({ url, retentionDays: 0, clock: new FakeClock(Date.UTC(2025, 0, 1, 12)) })
  const skewed = new FakeClock(Date.UTC(2025, 0, 1, 13))
  const b = await PgRegistry.open({ url, retentionDays: 0, clock: skewed })
  try {
    await a.addDevice({ id: 'd1', secretHash: 'h', createdAt: 1 })
    const at = Date.UTC(2025, 0, 1, 12)
    await a.touch('d1', { lastSeen: at, status: { state: 'online', heartbeatMs: 30_000 } })
    const state = async (r: PgRegistry): Promise<string> => {
      const d = await r.getDevice('d1')
      if (d === undefined) throw new Error('no d1')
      return deviceState(d, r.seen.nowFor('d1', d.lastSeen))
    }
    assert.equal([await state(a), await state(b)], ['online', 'online'])
    // The instance's own clock would have called it stale: an hour past its lastSeen.
    const own = new LastSeen(skewed)
    const d = await b.getDevice('d1')
    assert.is(deviceState(d as NonNullable<typeof d>, own.nowFor('d1', d?.lastSeen)), 'stale')
    // Heard ten minutes ago by the database's clock: stale on both, whatever their clocks.
    await sql(url, "UPDATE lambkin.devices SET heard_at = clock_timestamp() - interval '10 minutes'")
    assert.equal([await state(a), await state(b)], ['stale', 'stale'])
  } finally {
    await a.close()
    await b.close()
  }
})

pgTest('pages follow byte order in a database whose collation does not (ICU root skips - and _), as on LevelDB', async () => {
  const name = `icu_${process.pid}`
  await sql(server.url(), `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C'`)
  const url = server.url(name)
  const reg = await PgRegistry.open({ url, retentionDays: 0 })
  try {
    for (const id of AWKWARD_IDS) await reg.addDevice({ id, secretHash: 'h', createdAt: 1 })
    // The database's own order differs: a plain ORDER BY id would page differently here.
    const own = (await sql<{ id: string }>(url, 'SELECT id FROM lambkin.devices ORDER BY id')).map((r) => r.id)
    assert.not.equal(own, [...AWKWARD_IDS].sort())
    assert.equal((await reg.listDevices()).map((d) => d.id), [...AWKWARD_IDS].sort())
    assert.equal((await reg.listDevices({ after: 'a-b', limit: 3 })).map((d) => d.id), ['a0', 'a_a', 'ab'])
    // The page query uses the index in byte order, not a sort of the whole table.
    await sql(url, 'ANALYZE lambkin.devices')
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    let plan: string
    try {
      await c.query('SET enable_seqscan = off')
      plan = (await c.query<{ 'QUERY PLAN': string }>('EXPLAIN SELECT id FROM lambkin.devices WHERE id COLLATE "C" > \'a-b\' ORDER BY id COLLATE "C" LIMIT 3')).rows.map((r) => r['QUERY PLAN']).join('\n')
    } finally { await c.end() }
    assert.match(plan, /devices_id_bytes/)
  } finally {
    await reg.close()
  }
})

test.run()
