// Schedules when the wall clock is stepped back and then forward again, or forward and back (docs/functions.md,
// "Schedule triggers"): a board's clock set back a day by a wrong time source and corrected
// seconds later, with a schedule of every second and one of every minute, and the agent
// restarted while the clock is behind. The whole agent in this process (real LevelDB, QuickJS,
// aedes), only time faked (test/helpers/fake-clock.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FakeClock } from '../helpers/fake-clock.js'
import { fixture } from '../helpers/agent.js'
import type { Fixture } from '../helpers/agent.js'

/** What NTP says: a set clock, half a second in so fire times fall between steps. */
const SET = Date.UTC(2026, 11, 7, 12, 0, 0, 500)
const DAY = 86_400_000
const code = 'export default (e) => ({ late: e.late, at: e.scheduledTime })'
const onBoard = (schedule: string, fn: (f: Fixture) => Promise<void>) => async (): Promise<void> => {
  const f = fixture({ beat: { manifest: { triggers: [{ schedule, catchUp: 5 }] }, code } })
  try { await fn(f) } finally { f.cleanup() }
}

interface Run { late: boolean, at: number }
const runs = async (f: Fixture): Promise<Run[]> => (await f.records('result')).map((r) => (r.data as { result: Run }).result)
const shown = (all: Run[]): string => JSON.stringify(all.map((r) => `${new Date(r.at).toISOString()}${r.late ? ' late' : ''}`))

/** Moves the clock `s` seconds, a second at a time, letting each run commit. */
async function seconds (clock: FakeClock, s: number): Promise<void> {
  for (let i = 0; i < s; i++) {
    await clock.advance(1000)
    await new Promise((resolve) => setTimeout(resolve, 30))
  }
}

/** Every fire time once, none while the clock read the day before, and on time again soon after the correction. */
function check (all: Run[], corrected: number, within: number): void {
  const at = all.map((r) => r.at)
  assert.equal(new Set(at).size, at.length, `no fire time twice: ${shown(all)}`)
  assert.ok(all.every((r) => r.at >= SET), `nothing ran on the day the clock was behind: ${shown(all)}`)
  // Before the fix the schedule looked at the clock again only every 60 s while it was behind,
  // so it stayed silent for up to a minute after the correction and then logged those fire
  // times as missed (LAMBKIN_SCHEDULE_MISSED) though the agent was up and the clock right.
  const onTime = all.filter((r) => !r.late && r.at > corrected && r.at <= corrected + within)
  assert.ok(onTime.length >= 1, `a run on time within ${within / 1000} s of the correction at ${new Date(corrected).toISOString()}: ${shown(all)}`)
}

test('every second: the clock stepped back a day and forward again 10 s later; runs on time within seconds', onBoard('* * * * * *', async (f) => {
  const clock = new FakeClock(SET, { bootId: 'boot-1' })
  const agent = await f.start({}, { clock })
  let corrected = 0
  try {
    await seconds(clock, 3)
    clock.jumpTo(clock.now() - DAY)
    await seconds(clock, 10)
    clock.jumpTo(corrected = clock.now() + DAY)
    await seconds(clock, 5)
  } finally { await agent.close() }
  check(await runs(f), corrected, 5000)
}))

test('every minute: stepped back a day for two minutes and forward again; the next minute runs on time', onBoard('* * * * *', async (f) => {
  const clock = new FakeClock(SET, { bootId: 'boot-1' })
  const agent = await f.start({}, { clock })
  let corrected = 0
  try {
    await seconds(clock, 125)
    clock.jumpTo(clock.now() - DAY)
    await seconds(clock, 130)
    clock.jumpTo(corrected = clock.now() + DAY)
    await seconds(clock, 70)
  } finally { await agent.close() }
  check(await runs(f), corrected, 70_000)
}))

test('every second: stepped back a day, the agent restarted while behind, then forward again; runs on time within seconds', onBoard('* * * * * *', async (f) => {
  const first = new FakeClock(SET, { bootId: 'boot-1' })
  const a = await f.start({}, { clock: first })
  try {
    await seconds(first, 3)
    first.jumpTo(first.now() - DAY)
    await seconds(first, 3)
  } finally { await a.close() }
  // The agent restarts on the same boot two seconds later, its clock still a day behind.
  const second = new FakeClock(first.now() + 2000, { bootId: 'boot-1', monotonic: first.monotonic() + 2000 })
  const b = await f.start({}, { clock: second })
  let corrected = 0
  try {
    await seconds(second, 3)
    second.jumpTo(corrected = second.now() + DAY)
    await seconds(second, 5)
  } finally { await b.close() }
  check(await runs(f), corrected, 5000)
}))

test('every second: stepped forward a year by a wrong time source and back 3 s later; runs on time within seconds, not a year later', onBoard('* * * * * *', async (f) => {
  const clock = new FakeClock(SET, { bootId: 'boot-1' })
  const agent = await f.start({}, { clock })
  let corrected = 0
  try {
    await seconds(clock, 3)
    clock.jumpTo(clock.now() + 365 * DAY)
    await seconds(clock, 3)
    // Before, the fire times run on the wrong clock held the schedule until the clock passed them.
    clock.jumpTo(corrected = clock.now() - 365 * DAY)
    await seconds(clock, 5)
  } finally { await agent.close() }
  check(await runs(f), corrected, 5000)
}))

test.run()
