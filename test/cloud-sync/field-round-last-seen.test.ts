// A cloud on a board without an RTC starts at 1970 and NTP sets its clock a minute later. A
// device last heard before that restart and silent since is aged from "the wall clock at start
// plus monotonic time since" (last-seen.ts): with the 1970 reading kept, its lastSeen (this
// year) stayed ahead of that "now" for the process's life, so the device read online for good
// (the external broker's presence counts such rows online at start) and a conflict seen before
// the restart stayed shown. Rollout time and takeovers take the same steadyNow (src/clock.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LastSeen } from '../../cloud-sync/last-seen.js'
import { deviceState } from '../../cloud-sync/index.js'
import type { DeviceRow } from '../../cloud-sync/registry/index.js'
import { CLOCK_SET_FLOOR, steadyNow } from '../../src/clock.js'
import { FakeClock } from '../helpers/fake-clock.js'

const T = Date.UTC(2026, 11, 7)
const row = (lastSeen: number): DeviceRow => ({ id: 'd', secretHash: '', createdAt: 0, highWater: 0, counts: { stored: 0, duplicates: 0, gaps: 0, gapSeqs: 0 }, lastSeen, status: { state: 'online', agent: '1', functions: [], time: 0, heartbeatMs: 1000, at: lastSeen } })

test('a device heard before a restart at 1970, silent since: stale once NTP has set the clock', () => {
  const clock = new FakeClock(0)
  const seen = new LastSeen(clock)
  clock.jumpTo(T + 60_000)
  assert.is(deviceState(row(T), seen.nowFor('d', T)), 'stale')
})

test('steadyNow: a reading before 2021 is taken again once the wall clock passes it; a set clock is not', async () => {
  const unset = new FakeClock(0)
  const a = steadyNow(unset)
  await unset.advance(1000)
  unset.jumpTo(T)
  assert.is(a(), T)
  unset.jumpTo(T + 3_600_000)
  assert.is(a(), T, 'stepped again once set: the anchor moved')
  const set = new FakeClock(CLOCK_SET_FLOOR + 1000)
  const b = steadyNow(set)
  set.jumpTo(T)
  assert.is(b(), CLOCK_SET_FLOOR + 1000)
})

test.run()
