// One rule for missed schedule runs (device/triggers/schedule/due-slots.ts): a stalled process
// (SIGSTOP), a wall clock that jumped forward and an agent that was down all make up catchUp
// runs late and count the rest; a clock set back repeats nothing; catch-up never overlaps.
// A stall is faked as both clocks moving on while no timer fires (FakeClock.stall); a wall
// clock stepped forward alone skips a stretch that never passed (schedule-trigger.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planDue, CronSchedule, ScheduleRunner } from '../../../../device/triggers/index.js'
import { FakeClock } from '../../../helpers/fake-clock.js'
import type { LastRunStore, ScheduleEvent, ScheduleSpec } from '../../../../device/triggers/index.js'
import { FunctionMetrics } from '../../../../device/metrics/index.js'
import type { LambkinError } from '../../../../src/errors.js'

const T = (iso: string): number => Date.parse(iso)
const hms = (t: number): string => new Date(t).toISOString().slice(11, 19)

class MapStore implements LastRunStore {
  readonly runs = new Map<string, number>()
  async getLastRun (key: string): Promise<number | undefined> { return this.runs.get(key) }
  async setLastRun (key: string, time: number): Promise<void> { this.runs.set(key, time) }
}

interface Rig { clock: FakeClock, store: MapStore, events: ScheduleEvent[], errors: LambkinError[], metrics: FunctionMetrics, trigger: ScheduleRunner }

function rig (
  spec: ScheduleSpec,
  start: string,
  extra: { store?: MapStore; onEvent?: (e: ScheduleEvent, clock: FakeClock) => Promise<void> | void } = {}
): Rig {
  const clock = new FakeClock(T(start))
  const store = extra.store ?? new MapStore()
  const events: ScheduleEvent[] = []
  const errors: LambkinError[] = []
  const metrics = new FunctionMetrics({ clock })
  const trigger = new ScheduleRunner(spec, {
    clock,
    store,
    key: 'beat#0',
    functionName: 'beat',
    metrics,
    onEvent: (e) => {
      events.push(e)
      return extra.onEvent?.(e, clock)
    },
    onError: (err) => errors.push(err)
  })
  return { clock, store, events, errors, metrics, trigger }
}

const runs = (r: Rig): Array<[string, boolean]> => r.events.map((e) => [hms(e.scheduledTime), e.late])
const missedMetric = (r: Rig, reason: string): number => {
  const line = r.metrics.toPrometheus().split('\n').find((l) => l.startsWith(`lambkin_schedule_missed_total{function="beat",reason="${reason}"}`))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

/** The process is stopped (SIGSTOP) for ms: the wall clock moves on and no timer fires. */
const stall = (clock: FakeClock, ms: number): void => clock.stall(ms)

test('planDue: the newest fire time runs on time within 1 s; older ones are missed, catchUp of them made up', () => {
  const s = new CronSchedule('*/10 * * * * *')
  const o = { catchUp: 2, lateAfterMs: 1000, maxCount: 1000 }
  const plan = planDue(s, T('2024-05-01T10:00:10Z'), T('2024-05-01T10:00:50.400Z'), o)
  assert.equal(plan.runs.map((r) => [hms(r.scheduled), r.catchUp]), [['10:00:30', true], ['10:00:40', true], ['10:00:50', false]])
  assert.equal([plan.missed, plan.capped, hms(plan.newest ?? 0)], [1, false, '10:00:50'])
  const late = planDue(s, T('2024-05-01T10:00:10Z'), T('2024-05-01T10:00:55Z'), o)
  assert.equal(late.runs.map((r) => [hms(r.scheduled), r.catchUp]), [['10:00:40', true], ['10:00:50', true]])
  assert.is(late.missed, 2)
  assert.equal(planDue(s, T('2024-05-01T10:00:10Z'), T('2024-05-01T10:00:05Z'), o), { runs: [], missed: 0, capped: false, newest: undefined }, 'a clock behind the mark has nothing due')
})

test('planDue: a gap of a year under an every-second schedule is counted up to maxCount and flagged as a lower bound', () => {
  const s = new CronSchedule('* * * * * *')
  const plan = planDue(s, T('2023-05-01T00:00:00Z'), T('2024-05-01T00:00:00Z'), { catchUp: 3, lateAfterMs: 1000, maxCount: 1000 })
  assert.equal([plan.runs.length, plan.missed, plan.capped], [4, 997, true])
})

test('[stall] a process stopped for 35 s makes up catchUp runs late, oldest first, and counts and logs the rest', async () => {
  const r = rig({ schedule: '*/10 * * * * *', catchUp: 2 }, '2024-05-01T10:00:05Z')
  await r.trigger.start()
  await r.clock.advance(6000)
  // SIGSTOP at 10:00:11 for 44 s; the 10:00:20 timer fires on resume, when the wall clock
  // reads 10:00:55: 10:00:20, :30, :40 and :50 were missed.
  stall(r.clock, 44_000)
  await r.clock.advance(0)
  assert.equal(runs(r), [['10:00:10', false], ['10:00:40', true], ['10:00:50', true]])
  assert.equal(r.events.slice(1).map((e) => hms(e.time)), ['10:00:55', '10:00:55'])
  assert.equal(r.trigger.stats(), { fired: 3, skippedOverlap: 0, caughtUp: 2, missed: 2 })
  assert.is(missedMetric(r, 'late'), 2)
  assert.equal(r.errors.map((e) => [e.code, e.details.missed, e.details.caughtUp]), [['LAMBKIN_SCHEDULE_MISSED', 2, 2]])
  assert.ok(r.errors[0].message.includes('10:00:20') && r.errors[0].message.includes('10:00:50'), r.errors[0].message)
  assert.is(await r.store.getLastRun('beat#0'), T('2024-05-01T10:00:50Z'))
  await r.clock.advance(5000)
  assert.equal(runs(r).slice(3), [['10:01:00', false]], 'back on time after the stall')
  await r.trigger.stop()
})

test('[stall] a stall and a restart over the same gap give the same late runs and the same count', async () => {
  const stalled = rig({ schedule: '0 * * * * *', catchUp: 3 }, '2024-05-01T10:00:30Z')
  await stalled.trigger.start()
  await stalled.clock.advance(30_000)
  // Ran 10:01; stopped from 10:01:00 to 10:11:30, so the 10:02 timer fires at 10:11:30.
  stall(stalled.clock, 10 * 60_000 + 30_000)
  await stalled.clock.advance(0)
  await stalled.trigger.stop()

  const store = new MapStore()
  store.runs.set('beat#0', T('2024-05-01T10:01:00Z'))
  const restarted = rig({ schedule: '0 * * * * *', catchUp: 3 }, '2024-05-01T10:11:30Z', { store })
  await restarted.trigger.start()
  await restarted.trigger.stop()

  // Both end at 10:11:30 with 10:02 to 10:11 missed.
  assert.equal(runs(stalled).slice(1), runs(restarted))
  assert.equal(runs(restarted), [['10:09:00', true], ['10:10:00', true], ['10:11:00', true]])
  assert.equal([stalled.trigger.stats().missed, restarted.trigger.stats().missed], [7, 7])
  assert.equal([missedMetric(stalled, 'late'), missedMetric(restarted, 'late')], [7, 7])
})

test('a run that starts within 1 s of its fire time is on time; a newer due one after a short stall still runs on time', async () => {
  const r = rig({ schedule: '* * * * * *', catchUp: 0 }, '2024-05-01T10:00:00.500Z')
  await r.trigger.start()
  await r.clock.advance(500)
  // Stalled from 10:00:01 to 10:00:03.6: the 10:00:03 run is 0.6 s late (on time), the
  // 10:00:02 one 1.6 s (missed).
  stall(r.clock, 2600)
  await r.clock.advance(0)
  assert.equal(runs(r), [['10:00:01', false], ['10:00:03', false]])
  assert.equal(r.trigger.stats().missed, 1, '10:00:02 was 1.6 s late: missed, counted')
  await r.trigger.stop()
})

test('[clock back] a wall clock set back repeats no run, in process or across a restart', async () => {
  const r = rig({ schedule: '0 * * * * *', catchUp: 5 }, '2024-05-01T09:59:30Z')
  await r.trigger.start()
  await r.clock.advance(30_000)
  assert.equal(runs(r), [['10:00:00', false]])
  r.clock.jumpTo(T('2024-05-01T09:57:30Z'))
  await r.clock.advance(4 * 60_000)
  assert.equal(runs(r), [['10:00:00', false], ['10:01:00', false]], '09:58 to 10:00 do not run again')
  await r.trigger.stop()

  const store = new MapStore()
  store.runs.set('beat#0', T('2024-05-01T10:00:00Z'))
  const after = rig({ schedule: '0 * * * * *', catchUp: 5 }, '2024-05-01T09:57:30Z', { store })
  await after.trigger.start()
  assert.is(after.trigger.nextRun(), T('2024-05-01T10:01:00Z'))
  await after.clock.advance(4 * 60_000)
  assert.equal(runs(after), [['10:01:00', false]], 'a restart with the clock behind the last run repeats nothing')
  assert.equal(after.trigger.stats().missed, 0)
  await after.trigger.stop()
})

test('[overlap] catch-up waits for a run in flight, runs one at a time, and fire times due meanwhile are skipped as overlap, not chased', async () => {
  let running = 0
  let most = 0
  let release: (() => void) | undefined
  const r = rig({ schedule: '*/10 * * * * *', catchUp: 3 }, '2024-05-01T10:00:05Z', {
    onEvent: async (e, clock) => {
      most = Math.max(most, ++running)
      // The first run is held open across the stall; each catch-up run takes 25 s of wall time.
      if (hms(e.scheduledTime) === '10:00:10') await new Promise<void>((resolve) => { release = resolve })
      else clock.stall(25_000)
      running--
    }
  })
  await r.trigger.start()
  await r.clock.advance(5000)
  stall(r.clock, 73_000)
  setImmediate(() => release?.())
  await r.clock.advance(0)
  // Woke at 10:01:23 with 10:00:20 to 10:01:20 missed: 10:01:00, :10, :20 made up (75 s of runs,
  // ending 10:02:35); 10:01:30 to 10:02:30 came due meanwhile and are skipped as overlap.
  assert.equal(runs(r), [['10:00:10', false], ['10:01:00', true], ['10:01:10', true], ['10:01:20', true]])
  assert.is(most, 1, 'never two runs at once')
  assert.equal(r.trigger.stats(), { fired: 4, skippedOverlap: 7, caughtUp: 3, missed: 4 })
  assert.equal([missedMetric(r, 'late'), missedMetric(r, 'overlap')], [4, 7])
  assert.is(r.trigger.nextRun(), T('2024-05-01T10:02:40Z'))
  await r.trigger.stop()
})

test.run()
