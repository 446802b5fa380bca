// The coordination between cloud instances on one PostgreSQL (coord/pg-coordinator.ts) on a real
// server: one holder of the rollouts' lock at a time, the next takes it when the holder's session
// ends, notes reach every instance including the sender, and a payload NOTIFY cannot carry is
// refused; a parcel (a body too large for a note) is claimed once, by whoever the note sends to
// it, and one nobody claims is swept. The embedded cloud's LocalBus keeps the note contract in one process.
import { pgSuite } from '../../helpers/pg-suite.js'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { LocalBus, BUS_MAX_PAYLOAD } from '../../../cloud-sync/coord/bus.js'
import { PgCoordinator } from '../../../cloud-sync/coord/pg-coordinator.js'
import { migrateDatabase } from '../../../cloud-sync/registry/pg/migrate.js'
import { until } from '../../e2e/fixtures/deploy-world.js'

const db = pgSuite('cloud coordination on PostgreSQL')
const { test, realTest } = db

realTest('one instance holds the rollouts lock; when it closes, another takes it within its retry', async () => {
  const url = await db.server.createDatabase()
  const a = await PgCoordinator.start({ url, retryMs: 50 })
  const b = await PgCoordinator.start({ url, retryMs: 50 })
  try {
    assert.ok(a.leading, 'the first to try holds it')
    assert.not.ok(b.leading, 'the second waits')
    const changes: boolean[] = []
    b.onLeadership((l) => changes.push(l))
    await a.close()
    await until('b leads', () => b.leading, 10_000)
    assert.equal(changes, [true])
  } finally {
    await a.close()
    await b.close()
  }
})

realTest('a holder whose session is killed by the server loses the lock, and another instance takes it', async () => {
  const url = await db.server.createDatabase()
  const a = await PgCoordinator.start({ url, retryMs: 50 })
  const b = await PgCoordinator.start({ url, retryMs: 50 })
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    assert.ok(a.leading)
    const lost: boolean[] = []
    a.onLeadership((l) => lost.push(l))
    // As when the holder's process dies: the server ends its coordination session.
    const pid = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'lambkin-cloud-coordination' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)")
    assert.is(pid.rows.length, 1, 'one session holds the lock')
    await admin.query('SELECT pg_terminate_backend($1)', [pid.rows[0].pid])
    await until('a lets go', () => !a.leading, 10_000)
    await until('someone leads again', () => a.leading || b.leading, 10_000)
    assert.equal(lost.slice(0, 1), [false])
    assert.ok(a.leading !== b.leading, 'one holder at a time')
  } finally {
    await admin.end()
    await a.close()
    await b.close()
  }
})

realTest('notes reach every instance, the sender too; a payload over the limit is refused', async () => {
  const url = await db.server.createDatabase()
  const a = await PgCoordinator.start({ url })
  const b = await PgCoordinator.start({ url })
  try {
    const got: string[] = []
    a.subscribe('rollout', (p) => got.push(`a:${p}`))
    b.subscribe('rollout', (p) => got.push(`b:${p}`))
    b.subscribe('cancel', (p) => got.push(`b-cancel:${p}`))
    assert.ok(a.publish('rollout', 'r-1'))
    assert.ok(b.publish('cancel', 'constructor'))
    await until('delivered', () => got.length === 3, 10_000)
    assert.equal(got.sort(), ['a:r-1', 'b-cancel:constructor', 'b:r-1'])
    assert.is(a.publish('invoke', 'x'.repeat(BUS_MAX_PAYLOAD + 1)), false)
  } finally {
    await a.close()
    await b.close()
  }
})

realTest('a rollout note made while the sender\'s coordination connection is down reaches the others once it is back (kept), an ordinary one is refused', async () => {
  // Field: a deploy through an instance not driving the rollouts, in the second its coordination
  // session was being made again (the server ended it: a restart, idle_session_timeout). The
  // rollout was stored, its note dropped, and the driver never adopted it: running, every device pending.
  const url = await db.server.createDatabase()
  const a = await PgCoordinator.start({ url, retryMs: 50 })
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  let b: PgCoordinator | undefined
  try {
    await until('a leads', () => a.leading, 10_000)
    b = await PgCoordinator.start({ url, retryMs: 1000 })
    const got: string[] = []
    a.subscribe('rollout', (p) => got.push(p))
    const pids = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'lambkin-cloud-coordination' AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)")
    assert.is(pids.rows.length, 1, 'b\'s session')
    await admin.query('SELECT pg_terminate_backend($1)', [pids.rows[0].pid])
    const bb = b
    await until('b sees its connection gone', () => !bb.up(), 10_000)
    assert.ok(b.publish('rollout', 'r-7', true), 'kept')
    assert.is(b.publish('stored', 'dev-1'), false, 'not kept: readers poll for these')
    await until('b connected again', () => bb.up(), 10_000)
    await until('the kept note delivered', () => got.includes('r-7'), 10_000)
    assert.equal(got, ['r-7'])
  } finally {
    await admin.end()
    await b?.close()
    await a.close()
  }
})

realTest('a parcel of 1 MiB crosses: the note names it, one instance claims it once, and one left unclaimed is swept', async () => {
  const url = await db.server.createDatabase()
  await migrateDatabase(url)
  const a = await PgCoordinator.start({ url })
  const b = await PgCoordinator.start({ url })
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    // Not ASCII only: sizes are bytes, and the body comes back as it went.
    const body = JSON.stringify({ text: 'é€'.repeat(220_000), nul: '\u0000' })
    assert.ok(Buffer.byteLength(body) > 1024 * 1024)
    const notes: string[] = []
    b.subscribe('invoke', (p) => notes.push(p))
    assert.ok(await a.sendParcel('invoke', body, (key) => JSON.stringify({ parcel: key })))
    await until('the note', () => notes.length === 1, 10_000)
    const { parcel } = JSON.parse(notes[0]) as { parcel: string }
    const [first, second] = await Promise.all([b.claimParcel(parcel), a.claimParcel(parcel)])
    assert.ok((first === body) !== (second === body), 'exactly one claim gets it')
    assert.ok(first === undefined || second === undefined)
    assert.is(await b.claimParcel(parcel), undefined, 'claimed means gone')
    assert.is(await b.claimParcel('constructor'), undefined, 'a key that is no parcel answers nothing')
    assert.is(await a.sendParcel('invoke', 'x', () => 'y'.repeat(BUS_MAX_PAYLOAD + 1)), false, 'a note over the limit is refused')
    // One nobody claimed (its instance died), aged past any request's wait: the next writer sweeps it.
    assert.ok(await a.sendParcel('invoke', 'orphan', (key) => key))
    await admin.query("UPDATE lambkin.bus_parcels SET created_at = created_at - interval '1 hour'")
    assert.ok(await a.sendParcel('invoke', 'fresh', (key) => key))
    assert.equal((await admin.query('SELECT body FROM lambkin.bus_parcels')).rows, [{ body: 'fresh' }])
  } finally {
    await admin.end()
    await a.close()
    await b.close()
  }
})

realTest('a parcel while the bus is down is refused, never thrown', async () => {
  const url = await db.server.createDatabase()
  const a = await PgCoordinator.start({ url })
  try {
    // No migration: the table is missing, so the database refuses the write.
    assert.is(await a.sendParcel('invoke', 'body', (key) => key), false)
    await a.close()
    assert.is(await a.sendParcel('invoke', 'body', (key) => key), false)
    assert.is(await a.claimParcel('00000000-0000-0000-0000-000000000000'), undefined)
  } finally {
    await a.close()
  }
})

test('the embedded bus: every subscriber of a topic, asynchronously; too large refused', async () => {
  const bus = new LocalBus()
  const got: string[] = []
  const off = bus.subscribe('reported', (p) => got.push(p))
  assert.ok(bus.publish('reported', '__proto__'))
  assert.equal(got, [], 'not delivered inside publish')
  await new Promise((resolve) => setTimeout(resolve, 0))
  assert.equal(got, ['__proto__'])
  off()
  bus.publish('reported', 'd-2')
  await new Promise((resolve) => setTimeout(resolve, 0))
  assert.equal(got, ['__proto__'])
  assert.is(bus.publish('reported', 'x'.repeat(BUS_MAX_PAYLOAD + 1)), false)
})

test.run()
