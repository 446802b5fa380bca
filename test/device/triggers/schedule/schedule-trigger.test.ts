// Schedule triggers on a FakeClock: firing, time zones, no overlap, catch-up after downtime
// (with the last run kept in a real LevelDB across a restart), clock jumps and stop().
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { ScheduleRunner } from '../../../../device/triggers/index.js'
import { FakeClock } from '../../../helpers/fake-clock.js'
import type { LastRunStore, ScheduleEvent, ScheduleSpec } from '../../../../device/triggers/index.js'
import { LambkinError } from '../../../../src/errors.js'

const T = (iso: string): number => Date.parse(iso)
const iso = (t: number): string => new Date(t).toISOString().replace('.000', '')

class MapStore implements LastRunStore {
  readonly runs = new Map<string, number>()
  async getLastRun (key: string): Promise<number | undefined> { return this.runs.get(key) }
  async setLastRun (key: string, time: number): Promise<void> { this.runs.set(key, time) }
}

function setup (
  spec: ScheduleSpec,
  start: string,
  extra: { store?: LastRunStore; onEvent?: (e: ScheduleEvent) => Promise<void> | void; clock?: FakeClock } = {}
): { clock: FakeClock; store: LastRunStore; events: ScheduleEvent[]; errors: LambkinError[]; trigger: ScheduleRunner } {
  const clock = extra.clock ?? new FakeClock(T(start))
  const store = extra.store ?? new MapStore()
  const events: ScheduleEvent[] = []
  const errors: LambkinError[] = []
  const trigger = new ScheduleRunner(spec, {
    clock,
    store,
    key: 'fn#0',
    onEvent: (e) => {
      events.push(e)
      return extra.onEvent?.(e)
    },
    onError: (err) => errors.push(err)
  })
  return { clock, store, events, errors, trigger }
}

test('an every-second schedule fires on each second, on time and not late', async () => {
  const { clock, store, events, trigger } = setup({ schedule: '* * * * * *' }, '2024-05-01T10:00:00.500Z')
  await trigger.start()
  await clock.advance(3000)
  assert.equal(events.map((e) => iso(e.scheduledTime)), ['2024-05-01T10:00:01Z', '2024-05-01T10:00:02Z', '2024-05-01T10:00:03Z'])
  assert.ok(events.every((e) => e.source === 'schedule' && e.late === false && e.time === e.scheduledTime))
  assert.equal(trigger.stats(), { fired: 3, skippedOverlap: 0, caughtUp: 0, missed: 0 })
  assert.is(await store.getLastRun('fn#0'), T('2024-05-01T10:00:03Z'))
  assert.is(trigger.nextRun(), T('2024-05-01T10:00:04Z'))
  await trigger.stop()
})

test('a 5-field expression fires on the minute (seconds default to 0)', async () => {
  const { clock, events, trigger } = setup({ schedule: '*/5 * * * *' }, '2024-05-01T10:00:30Z')
  await trigger.start()
  await clock.advance(11 * 60_000)
  assert.equal(events.map((e) => iso(e.scheduledTime)), ['2024-05-01T10:05:00Z', '2024-05-01T10:10:00Z'])
  await trigger.stop()
})

test('0 0 9 * * * fires at 09:00 Berlin time across the March DST change, and at 09:00 UTC in UTC', async () => {
  const clock = new FakeClock(T('2024-03-30T12:00:00Z'))
  const berlin = setup({ schedule: '0 0 9 * * *', timezone: 'Europe/Berlin' }, '', { clock })
  const utc = setup({ schedule: '0 0 9 * * *', timezone: 'UTC' }, '', { clock })
  await berlin.trigger.start()
  await utc.trigger.start()
  await clock.advance(2 * 86_400_000)
  assert.equal(berlin.events.map((e) => iso(e.scheduledTime)), ['2024-03-31T07:00:00Z', '2024-04-01T07:00:00Z'])
  assert.equal(utc.events.map((e) => iso(e.scheduledTime)), ['2024-03-31T09:00:00Z', '2024-04-01T09:00:00Z'])
  assert.ok(berlin.events.every((e) => e.time === e.scheduledTime && !e.late))
  await berlin.trigger.stop()
  await utc.trigger.stop()
})

test('a run still in flight at the next fire time makes that run skip, counted, and not recorded', async () => {
  let clock: FakeClock | undefined
  // Each run takes 2.5 s of (fake) time.
  const slow = async (): Promise<void> => await new Promise<void>((resolve) => clock?.setTimeout(resolve, 2500))
  const s = setup({ schedule: '* * * * * *' }, '2024-05-01T10:00:00Z', { onEvent: slow })
  clock = s.clock
  await s.trigger.start()
  await s.clock.advance(6000)
  // 01 runs until 03.5, so 02 and 03 skip; 04 runs until 06.5, so 05 and 06 skip.
  assert.equal(s.events.map((e) => iso(e.scheduledTime)), ['2024-05-01T10:00:01Z', '2024-05-01T10:00:04Z'])
  assert.equal(s.trigger.stats(), { fired: 2, skippedOverlap: 4, caughtUp: 0, missed: 0 })
  assert.is(await s.store.getLastRun('fn#0'), T('2024-05-01T10:00:04Z'))
  await s.trigger.stop()
  await s.clock.advance(1000)
})

test('after downtime, catch-up runs the catchUp most recent missed runs, oldest first, one at a time, late', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
  const openStore = async (): Promise<{ db: Level<string, number>, store: LastRunStore }> => {
    const db = new Level<string, number>(dir, { valueEncoding: 'json' })
    await db.open()
    return { db, store: { getLastRun: async (k) => await db.get(k), setLastRun: async (k, t) => await db.put(k, t) } }
  }
  try {
    const first = await openStore()
    const before = setup({ schedule: '0 * * * * *', catchUp: 3 }, '2024-05-01T10:00:30Z', { store: first.store })
    await before.trigger.start()
    await before.clock.advance(2 * 60_000)
    assert.equal(before.events.map((e) => iso(e.scheduledTime)), ['2024-05-01T10:01:00Z', '2024-05-01T10:02:00Z'])
    await before.trigger.stop()
    await first.db.close()

    // The device is off from 10:02:30 to 10:12:30: ten runs (10:03 to 10:12) were missed.
    const second = await openStore()
    let running = 0
    let most = 0
    const handler = async (): Promise<void> => {
      most = Math.max(most, ++running)
      await new Promise((resolve) => setImmediate(resolve))
      running--
    }
    const after = setup({ schedule: '0 * * * * *', catchUp: 3 }, '2024-05-01T10:12:30Z', { store: second.store, onEvent: handler })
    await after.trigger.start()
    assert.equal(after.events.map((e) => iso(e.scheduledTime)), ['2024-05-01T10:10:00Z', '2024-05-01T10:11:00Z', '2024-05-01T10:12:00Z'])
    assert.ok(after.events.every((e) => e.late && e.time === T('2024-05-01T10:12:30Z')))
    assert.is(most, 1, 'catch-up runs one at a time')
    assert.equal(after.trigger.stats(), { fired: 3, caughtUp: 3, skippedOverlap: 0, missed: 7 })
    assert.is(await second.store.getLastRun('fn#0'), T('2024-05-01T10:12:00Z'))
    await after.clock.advance(60_000)
    assert.equal(after.events.slice(3).map((e) => [iso(e.scheduledTime), e.late]), [['2024-05-01T10:13:00Z', false]])
    await after.trigger.stop()
    await second.db.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('catchUp 0 skips missed runs; a first start with no last run catches nothing up', async () => {
  const store = new MapStore()
  store.runs.set('fn#0', T('2024-05-01T10:02:00Z'))
  const skip = setup({ schedule: '0 * * * * *', catchUp: 0 }, '2024-05-01T10:12:30Z', { store })
  await skip.trigger.start()
  assert.is(skip.events.length, 0)
  await skip.clock.advance(30_000)
  assert.equal(skip.events.map((e) => [iso(e.scheduledTime), e.late]), [['2024-05-01T10:13:00Z', false]])
  await skip.trigger.stop()

  const fresh = setup({ schedule: '0 * * * * *', catchUp: 5 }, '2024-05-01T10:12:30Z')
  await fresh.trigger.start()
  assert.is(fresh.events.length, 0)
  assert.equal(fresh.trigger.stats(), { fired: 0, skippedOverlap: 0, caughtUp: 0, missed: 0 })
  // The start is recorded, so a device that goes down before its first run still catches up.
  assert.is(await fresh.store.getLastRun('fn#0'), T('2024-05-01T10:12:30Z'))
  await fresh.trigger.stop()
})

test('stop() cancels the timer, and stopping during catch-up ends it', async () => {
  const { clock, events, trigger } = setup({ schedule: '* * * * * *' }, '2024-05-01T10:00:00Z')
  await trigger.start()
  assert.is(clock.pending(), 1)
  await trigger.stop()
  assert.is(clock.pending(), 0)
  assert.is(trigger.nextRun(), undefined)
  await clock.advance(10_000)
  assert.is(events.length, 0)

  const store = new MapStore()
  store.runs.set('fn#0', T('2024-05-01T09:00:00Z'))
  let release: (() => void) | undefined
  const gated = setup({ schedule: '0 * * * * *', catchUp: 3 }, '2024-05-01T10:00:30Z', { store, onEvent: async () => await new Promise<void>((resolve) => { release = resolve }) })
  const started = gated.trigger.start()
  await new Promise((resolve) => setImmediate(resolve))
  assert.is(gated.events.length, 1)
  await gated.trigger.stop()
  release?.()
  await started
  assert.is(gated.events.length, 1, 'no further catch-up runs after stop')
  assert.is(gated.clock.pending(), 0, 'no timer armed after stop')
})

test('a wall clock stepped forward (NTP on a board without RTC) skips a stretch that never passed: nothing missed, nothing made up', async () => {
  const { clock, events, errors, trigger } = setup({ schedule: '0 * * * * *', catchUp: 3 }, '2024-05-01T10:00:30Z')
  await trigger.start()
  // The timer was armed for 10:01, 30 s away; when it fires the wall clock reads 10:06:40,
  // of which only 30 s passed (the monotonic clock says so).
  clock.jumpTo(T('2024-05-01T10:06:10Z'))
  await clock.advance(30_000)
  assert.is(events.length, 0, 'the runs 10:01 to 10:06 fall in the skipped stretch: not made up')
  assert.equal(errors, [])
  assert.equal(trigger.stats(), { fired: 0, skippedOverlap: 0, caughtUp: 0, missed: 0 })
  await clock.advance(20_000)
  assert.equal(events.map((e) => [iso(e.scheduledTime), e.late]), [['2024-05-01T10:07:00Z', false]])
  await trigger.stop()
})

test('a handler that throws is reported as LAMBKIN_FUNCTION_ERROR and the schedule keeps going', async () => {
  const s = setup({ schedule: '* * * * * *' }, '2024-05-01T10:00:00Z', { onEvent: () => { throw new Error('boom') } })
  await s.trigger.start()
  await s.clock.advance(2000)
  assert.is(s.events.length, 2)
  assert.equal(s.errors.map((e) => e.code), ['LAMBKIN_FUNCTION_ERROR', 'LAMBKIN_FUNCTION_ERROR'])
  assert.ok(s.errors[0].message.includes('boom'))
  await s.trigger.stop()
})

test('a store that cannot be read is reported, and the schedule still runs', async () => {
  const broken: LastRunStore = { getLastRun: async () => { throw new Error('disk gone') }, setLastRun: async () => {} }
  const s = setup({ schedule: '* * * * * *', catchUp: 3 }, '2024-05-01T10:00:00Z', { store: broken })
  await s.trigger.start()
  assert.equal(s.errors.map((e) => e.code), ['LAMBKIN_STORE_ERROR'])
  await s.clock.advance(1000)
  assert.is(s.events.length, 1)
  await s.trigger.stop()
})

test('bad specs and options throw before anything is armed, naming the key', () => {
  const clock = new FakeClock()
  const base = { clock, store: new MapStore(), key: 'k', onEvent: () => {} }
  const cases: Array<[ScheduleSpec, Record<string, unknown>, string, string]> = [
    [{ schedule: '61 * * * *' }, {}, 'LAMBKIN_SCHEDULE_INVALID', 'schedule'],
    [{ schedule: '* * * * *', timezone: 'Nowhere/Land' }, {}, 'LAMBKIN_SCHEDULE_INVALID', 'timezone'],
    [{ schedule: '* * * * *' }, { store: {} }, 'LAMBKIN_CONFIG_INVALID', 'store'],
    [{ schedule: '* * * * *' }, { key: '' }, 'LAMBKIN_CONFIG_INVALID', 'key'],
    [{ schedule: '* * * * *' }, { metrics: { inc: () => {} } }, 'LAMBKIN_CONFIG_INVALID', 'metrics']
  ]
  for (const [spec, opts, code, key] of cases) {
    try {
      // eslint-disable-next-line no-new
      new ScheduleRunner(spec, { ...base, ...opts } as never)
      assert.unreachable(`accepted ${JSON.stringify(spec)} ${JSON.stringify(opts)}`)
    } catch (err) {
      assert.instance(err, LambkinError)
      assert.is((err as LambkinError).code, code)
      assert.is((err as LambkinError).details.key, key)
    }
  }
  assert.is(clock.pending(), 0)
})

test('a far-off fire time is waited for in short timers (setTimeout cannot wait 25 days) and a clock set back waits longer', async () => {
  const { clock, events, trigger } = setup({ schedule: '0 0 0 1 1 *' }, '2024-05-01T00:00:00Z')
  await trigger.start()
  assert.is(trigger.nextRun(), T('2025-01-01T00:00:00Z'))
  assert.ok((clock.nextIn() ?? Infinity) <= 60_000)
  await clock.advance(10 * 60_000)
  assert.is(events.length, 0)
  // The wall clock moves on (NTP); the next short timer notices and aims at the fire time.
  clock.jumpTo(T('2024-12-31T23:58:00Z'))
  await clock.advance(3 * 60_000)
  assert.equal(events.map((e) => [iso(e.scheduledTime), e.late, iso(e.time)]), [['2025-01-01T00:00:00Z', false, '2025-01-01T00:00:00Z']])
  // Set back by an hour after the run: the next run is still next year's, not a repeat.
  clock.jumpTo(T('2024-12-31T23:30:00Z'))
  await clock.advance(2 * 3_600_000)
  assert.is(events.length, 1)
  assert.is(trigger.nextRun(), T('2026-01-01T00:00:00Z'))
  await trigger.stop()
})

test.run()
