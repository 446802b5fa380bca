// Schedules on a board without an RTC (docs/functions.md, "Schedule triggers"): it boots with
// its wall clock at 1970 (or at the image's build date), runs its schedules, and NTP steps the
// clock forward by years; an offline board reboots at 1970 again and again. The whole agent in
// this process (real LevelDB, QuickJS, aedes), only time faked (test/helpers/fake-clock.ts: its
// timers run on monotonic time, as Node's do, and jumpTo moves only the wall clock).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Agent } from '../../device/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { fixture } from '../helpers/agent.js'
import type { Fixture } from '../helpers/agent.js'

/** What NTP says: a set clock. */
const SET = Date.UTC(2026, 11, 7, 12, 0, 0, 500)
/** Where a board without an RTC starts (half a second in, so fire times fall between steps). */
const UNSET = 500
const BEAT = { beat: { manifest: { triggers: [{ schedule: '* * * * * *', catchUp: 5 }] }, code: 'export default (e) => ({ late: e.late, at: e.scheduledTime })' } }

interface Run { late: boolean, at: number }
const runs = async (f: Fixture): Promise<Run[]> => (await f.records('result')).map((r) => (r.data as { result: Run }).result)

/** Moves the clock `s` seconds, a second at a time, letting each run commit. */
async function seconds (clock: FakeClock, s: number): Promise<void> {
  for (let i = 0; i < s; i++) {
    await clock.advance(1000)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A test on a fresh agent folder with BEAT in it, removed after. */
const onBoard = (fn: (f: Fixture) => Promise<void>) => async (): Promise<void> => {
  const f = fixture(BEAT)
  try { await fn(f) } finally { f.cleanup() }
}

async function closing (agent: Agent, fn: () => Promise<void>): Promise<void> {
  try { await fn() } finally { await agent.close() }
}

/** An agent started with its clock at `from`, run `s` seconds, stepped to `to`, run `s` more, closed. */
async function stepped (f: Fixture, from: number, to: number, s: number): Promise<void> {
  const clock = new FakeClock(from, { bootId: 'boot-1' })
  const agent = await f.start({}, { clock })
  await closing(agent, async () => {
    await seconds(clock, s)
    clock.jumpTo(to)
    await seconds(clock, s)
  })
}

test('NTP steps a 1970 clock forward by 56 years: no catch-up storm, the schedule keeps its pace on the new clock', onBoard(async (f) => {
  await stepped(f, UNSET, SET, 5)
  const all = await runs(f)
  const before = all.filter((r) => r.at < SET)
  const after = all.filter((r) => r.at >= SET)
  assert.ok(before.length >= 1, `runs at 1970: ${before.length}`)
  // Before the fix: catchUp (5) "missed" runs made up for the 56 years that never passed.
  assert.equal(all.filter((r) => r.late), [], 'no run made up for the stretch the clock skipped')
  // A run whose handler is still going at the next second skips that one (overlap), so at most 5.
  assert.ok(after.length >= 1 && after.length <= 5, `runs on the set clock: ${after.length}`)
  assert.ok(after.every((r) => r.at > SET && r.at <= SET + 5000), JSON.stringify(after))
}))

test('a board\'s clock at its image\'s build date, stepped forward 6 months: nothing made up', onBoard(async (f) => {
  await stepped(f, Date.UTC(2026, 5, 1, 0, 0, 0, 500), SET, 3)
  assert.equal((await runs(f)).filter((r) => r.late), [])
}))

test('an offline board rebooting at 1970 runs its schedule at once, not after its last boot\'s uptime', onBoard(async (f) => {
  const first = new FakeClock(UNSET, { bootId: 'boot-1' })
  const a = await f.start({}, { clock: first })
  // A minute of uptime; the last run recorded is 1970-01-01T00:01:00.
  await closing(a, async () => { await first.advance(55_000); await seconds(first, 5) })
  const uptime = (await runs(f)).length
  // Rebooted: the clock starts at 1970 again. Before the fix the schedule waited for the
  // clock to pass its last boot's last run, a minute here, days on a board up for days.
  const second = new FakeClock(UNSET, { bootId: 'boot-2' })
  const b = await f.start({}, { clock: second })
  await closing(b, async () => { await seconds(second, 5) })
  const rebooted = (await runs(f)).slice(uptime)
  assert.ok(rebooted.length >= 1, `runs after the reboot: ${JSON.stringify(rebooted)}`)
  assert.equal(rebooted.filter((r) => r.late), [])
}))

test('a last run recorded at 1970, the agent restarted after NTP set the clock: no catch-up for an unknown stretch', onBoard(async (f) => {
  const first = new FakeClock(UNSET, { bootId: 'boot-1' })
  const a = await f.start({}, { clock: first })
  await closing(a, async () => { await seconds(first, 3) })
  const second = new FakeClock(SET, { bootId: 'boot-2' })
  const b = await f.start({}, { clock: second })
  await closing(b, async () => { await seconds(second, 3) })
  const all = await runs(f)
  assert.equal(all.filter((r) => r.late), [], 'nothing made up: how long the board was off is not known')
  assert.ok(all.filter((r) => r.at >= SET).length >= 2)
}))

test('a clock stepped back by 3 hours repeats no fire time (the rule kept)', onBoard(async (f) => {
  await stepped(f, SET, SET - 3 * 3_600_000, 3)
  const at = (await runs(f)).map((r) => r.at)
  assert.equal(new Set(at).size, at.length, 'no fire time twice')
}))

test.run()
