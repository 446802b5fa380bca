// The devices list in pages (docs/cloud.md, "Pages") against `lambkin cloud` as a child
// process, on a real PostgreSQL and on LevelDB, with 5,000 devices: following `next` shows
// every device once in id order while devices are added, revoked and (PostgreSQL) deleted
// between pages, including the cursor's own device; a bad limit or cursor is a 400 with its
// code; `lambkin devices` and `lambkin status` read every page (saying so on stderr) or one.
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { LevelRegistry } from '../../cloud-sync/registry/index.js'
import type { Registry } from '../../cloud-sync/registry/index.js'
import { PgRegistry } from '../../cloud-sync/registry/pg/index.js'
import { freePort } from '../helpers/brokers.js'
import { pgSuite } from '../helpers/pg-suite.js'
import { runLambkin, startLambkin } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const db = pgSuite('devices in pages')
const { test, realTest: pgTest } = db

const N = 5000
const ids = [...Array.from({ length: N }, (_, i) => `dev-${String(i).padStart(5, '0')}`), 'constructor', 'a-b', 'a_a', 'a0']

/** Writes the fleet as that many boards would have left it: every 3rd reported a deployment, every 5th sent a status. */
async function writeFleet (reg: Registry): Promise<void> {
  const now = Date.now()
  for (let k = 0; k < ids.length; k += 50) {
    await Promise.all(ids.slice(k, k + 50).map(async (id, j) => {
      const i = k + j
      await reg.addDevice({ id, group: `g${i % 7}`, secretHash: 'unused', createdAt: now })
      if (i % 5 === 0) await reg.touch(id, { lastSeen: now, status: { state: 'online', agent: '0.1.0', functions: [{ name: 'thermo', version: 'v1' }], heartbeatMs: 30_000 } })
      if (i % 3 === 0) await reg.putReported(id, { deploymentId: i + 1, applying: false, functions: [{ name: 'fan', version: 'v2' }], failures: [], rollbacks: [], time: now, receivedAt: now + 1 })
    }))
  }
}

interface Cloud { api: string, token: string, proc: LambkinProcess, dir: string }

async function startCloud (dir: string, env: Record<string, string> = {}): Promise<Cloud> {
  const proc = startLambkin(['cloud', '--data', dir, '--port', String(await freePort()), '--api-port', String(await freePort())], { env })
  const ready = await proc.waitFor('stdout', /lambkin cloud ready: broker (\S+); api (\S+); operator token in (\S+)/, 60_000)
  return { api: ready[2], token: readFileSync(ready[3], 'utf8').trim(), proc, dir }
}

type View = { id: string, state: string, functions: Array<{ name: string }> }
async function get<T> (c: Cloud, route: string): Promise<{ status: number, body: T }> {
  const res = await fetch(`${c.api}${route}`, { headers: { authorization: `Bearer ${c.token}` } })
  return { status: res.status, body: await res.json() as T }
}
async function post (c: Cloud, route: string, body: unknown = {}): Promise<number> {
  const res = await fetch(`${c.api}${route}`, { method: 'POST', headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  await res.arrayBuffer()
  return res.status
}

/**
 * Walks `route` in pages of `limit`, calling `between` after the first page with its `next`;
 * checks each page is in id order after its cursor, and returns the ids seen in order.
 */
async function walk (c: Cloud, route: string, limit: number, between: (next: string) => Promise<void>): Promise<{ seen: string[], pages: number }> {
  const seen: string[] = []
  let after: string | undefined
  let pages = 0
  for (;;) {
    const r = await get<{ devices: View[], next: string | null, cloud?: unknown }>(c, `${route}?limit=${limit}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`)
    assert.is(r.status, 200, JSON.stringify(r.body))
    if (route === '/v1/status') assert.type(r.body.cloud, 'object')
    pages++
    assert.ok(r.body.devices.length <= limit)
    for (const d of r.body.devices) {
      if (after !== undefined) assert.ok(d.id > after, `${d.id} came after the cursor ${after}`)
      after = d.id
      seen.push(d.id)
    }
    if (r.body.next === null) return { seen, pages }
    assert.is(r.body.next, after, 'next is the last id of the page')
    if (pages === 1) await between(r.body.next)
  }
}

/** Every id once, in code-unit order. */
function assertOnceInOrder (seen: string[], expected: string[]): void {
  assert.is(new Set(seen).size, seen.length, 'no device twice')
  assert.equal(seen, [...expected].sort())
}

/** Returns the ids the cloud holds after. */
async function pagesUnderChange (c: Cloud, deleteRow?: (id: string) => Promise<void>): Promise<string[]> {
  // Between the first and second page: one added before the cursor (not shown: the walk is past
  // it), one after (shown), one ahead revoked (shown, as revoked); on PostgreSQL the cursor's own
  // device and one ahead deleted (the cursor still holds; the deleted one is not shown).
  const gone: string[] = []
  const { seen, pages } = await walk(c, '/v1/devices', 700, async (next) => {
    assert.is(next, [...ids].sort()[699])
    assert.is(await post(c, '/v1/devices', { id: '0-late-first' }), 201)
    assert.is(await post(c, '/v1/devices', { id: 'zz-late-last' }), 201)
    assert.is(await post(c, '/v1/devices/dev-04000/revoke'), 200)
    if (deleteRow !== undefined) {
      for (const id of [next, 'dev-03000']) { await deleteRow(id); gone.push(id) }
    }
  })
  assert.ok(pages >= 8, `pages: ${pages}`)
  const firstPage = [...ids].sort().slice(0, 700)
  const expected = [...ids.filter((id) => !gone.includes(id) || firstPage.includes(id)), 'zz-late-last']
  assertOnceInOrder(seen, expected)
  const revoked = await get<{ devices: View[] }>(c, '/v1/devices?limit=1&after=dev-03999')
  assert.equal(revoked.body.devices.map((d) => [d.id, d.state]), [['dev-04000', 'revoked']])

  // Status in the largest pages: the same devices, each page with the cloud's figures.
  const status = await walk(c, '/v1/status', 2000, async () => {})
  const held = [...ids.filter((id) => !gone.includes(id)), 'zz-late-last', '0-late-first']
  assertOnceInOrder(status.seen, held)
  assert.is(status.pages, 3)
  return held
}

async function refusals (c: Cloud): Promise<void> {
  const limits = ['0', '2001', '-1', 'abc', '1.5', '1e3', '%201', '5&limit=6', '99999999999999999999']
  for (const q of limits) {
    const r = await get<{ error: { code: string, message: string } }>(c, `/v1/devices?limit=${q}`)
    assert.equal([q, r.status, r.body.error?.code], [q, 400, 'LAMBKIN_PAGE_LIMIT_INVALID'])
    assert.match(r.body.error.message, /limit must be a whole number of devices from 1 to 2000/)
  }
  const cursors = ['__proto__', '%25', '%C3%A9', 'Dev-00001', 'a%00b', 'a&after=b', 'x'.repeat(64), '..', '%2F']
  for (const q of cursors) {
    const r = await get<{ error: { code: string, message: string } }>(c, `/v1/status?after=${q}`)
    assert.equal([q, r.status, r.body.error?.code], [q, 400, 'LAMBKIN_CURSOR_INVALID'])
    assert.match(r.body.error.message, /after must be a device id/)
  }
  // A malformed escape reaches the route as it was sent, and is not an id either.
  const bad = await get<{ error: { code: string } }>(c, '/v1/devices?after=%E0%A4%A')
  assert.equal([bad.status, bad.body.error.code], [400, 'LAMBKIN_CURSOR_INVALID'])
  // JavaScript's own names are ids like any other.
  const r = await get<{ devices: View[], next: string }>(c, '/v1/devices?after=constructor&limit=2')
  assert.equal(r.body.devices.map((d) => d.id), ['dev-00000', 'dev-00001'])
  assert.is(r.body.next, 'dev-00001')
  // The defaults: 500 devices and a next; an empty cursor is the first page.
  const first = await get<{ devices: View[], next: string }>(c, '/v1/devices?after=&limit=')
  assert.is(first.body.devices.length, 500)
  assert.is(first.body.next, first.body.devices[499].id)
  assert.equal(first.body.devices.slice(0, 6).map((d) => d.id), ['0-late-first', 'a-b', 'a0', 'a_a', 'constructor', 'dev-00000'])
  // A page's views carry what the device reported (read for the page at once).
  const reported = await get<{ devices: View[] }>(c, '/v1/devices?after=dev-00002&limit=1')
  assert.equal(reported.body.devices[0].functions.map((f) => f.name), ['fan'])
}

pgTest('PostgreSQL: 5,000 devices in pages, each once while devices come and go between pages; bad limits and cursors are 400s', async () => {
  const url = await db.server.createDatabase()
  const reg = await PgRegistry.open({ url, retentionDays: 0 })
  try { await writeFleet(reg) } finally { await reg.close() }
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-pages-pg-'))
  const c = await startCloud(dir, { LAMBKIN_DB_URL: url })
  try {
    let held: string[] = []
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    try {
      held = await pagesUnderChange(c, async (id) => { await db.query('DELETE FROM lambkin.devices WHERE id = $1', [id]) })
    } finally { await db.end() }
    await refusals(c)

    // The CLI reads every page, saying so on stderr, or the one asked for.
    const env = { LAMBKIN_API: c.api, LAMBKIN_TOKEN: c.token }
    const all = await runLambkin(['devices', '--json'], { env })
    assert.is(all.code, 0, all.stderr)
    const listed = (JSON.parse(all.stdout) as { devices: View[] }).devices.map((d) => d.id)
    assert.equal(listed, [...held].sort())
    assert.match(all.stderr, /^lambkin devices: 2,000 devices read, reading on after \S+\nlambkin devices: 4,000 devices read, reading on after \S+\n$/)
    const table = await runLambkin(['devices'], { env })
    assert.is(table.code, 0, table.stderr)
    assert.is(table.stdout.trimEnd().split('\n').length, held.length + 1)
    const one = await runLambkin(['devices', '--after', 'constructor', '--limit', '3'], { env })
    assert.is(one.code, 0, one.stderr)
    assert.equal(one.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), ['dev-00000', 'dev-00001', 'dev-00002'])
    assert.match(one.stderr, /^more devices: lambkin devices --after dev-00002 --limit 3$/m)
    const status = await runLambkin(['status'], { env })
    assert.is(status.code, 0, status.stderr)
    assert.match(status.stdout, new RegExp(`\\n${held.length} devices: `))
    assert.match(status.stderr, /lambkin status: 2,000 devices read/)
    const statusPage = await runLambkin(['status', '--limit', '2', '--json'], { env })
    const page = JSON.parse(statusPage.stdout) as { devices: View[], next: string, cloud: unknown }
    assert.equal([page.devices.map((d) => d.id), page.next, typeof page.cloud], [['0-late-first', 'a-b'], 'a-b', 'object'])
    const zero = await runLambkin(['devices', '--limit', '0'], { env })
    assert.is(zero.code, 2)
    assert.match(zero.stderr, /--limit must be an integer from 1 to 2000/)
  } finally {
    await c.proc.stop('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
})

test('LevelDB: 5,000 devices in pages, each once while devices come and go between pages; bad limits and cursors are 400s', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-pages-level-'))
  const reg = await LevelRegistry.open(dir)
  try { await writeFleet(reg) } finally { await reg.close() }
  const c = await startCloud(dir)
  try {
    await pagesUnderChange(c)
    await refusals(c)
  } finally {
    await c.proc.stop('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
