// A board without an RTC reboots at 1970 on a metered link and NTP sets its clock a minute
// later, on the day the store says most of `cloud.dailyUploadBytes` already went. The daily cap
// (device/sync/upload-budget.ts) must count that day's bytes from before the reboot and what went
// while the clock read 1970; it started that day at 0 (and 1970-01-01 had a cap of its own), so a
// reboot without an RTC let up to two more days' caps go in one day.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { UploadBudget } from '../../../device/sync/upload-budget.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const DAY = Date.UTC(2026, 11, 7, 10)

test('the daily cap across NTP setting a clock that booted at 1970: bytes of the day before the reboot and of the unset minute both count', () => {
  const clock = new FakeClock(0)
  const budget = new UploadBudget({ bytesPerSec: 0, dailyBytes: 1000, now: () => clock.now(), elapsed: () => clock.monotonic(), today: { day: '2026-12-07', bytes: 900 } })
  budget.spend(50)
  clock.jumpTo(DAY)
  assert.is(budget.day, '2026-12-07')
  assert.is(budget.dailyRoom(), 50)
  assert.ok(budget.waitMs(100) > 0, 'a batch over what is left of the cap went at once')
})

test('a set clock going to the next day starts it at 0 (guard)', () => {
  const clock = new FakeClock(DAY)
  const budget = new UploadBudget({ bytesPerSec: 0, dailyBytes: 1000, now: () => clock.now(), today: { day: '2026-12-07', bytes: 900 } })
  assert.is(budget.dailyRoom(), 100)
  clock.jumpTo(DAY + 86_400_000)
  assert.is(budget.dailyRoom(), 1000)
})

test.run()
