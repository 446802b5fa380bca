// expiry.ts: TTLs on the monotonic clock within a boot, on the wall clock read at open across
// boots, and never for a record stamped by a clock that had not been set.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CLOCK_SET_FLOOR, Expiry } from '../../../device/store/expiry.js'
import { LevelOutboxStore } from '../../../device/store/index.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const HOUR = 3_600_000
const YEAR = 365 * 86_400_000
const T2025 = Date.UTC(2025, 5, 1)

test('within one boot the monotonic clock decides, whichever way the wall clock steps', async () => {
  const clock = new FakeClock(T2025)
  const e = new Expiry(clock)
  const v = e.stamp(HOUR)
  clock.jumpTo(T2025 + 5 * YEAR)
  assert.not.ok(e.expired(v), 'forward step')
  clock.jumpTo(T2025 - 5 * YEAR)
  await clock.advance(HOUR)
  assert.ok(e.expired(v), 'backward step: still an hour later')
})

test('a restarted agent in the same boot keeps counting on the monotonic clock', async () => {
  const clock = new FakeClock(86_400_000, { bootId: 'boot-1', monotonic: 1000 })
  const v = new Expiry(clock).stamp(HOUR)
  clock.jumpTo(T2025)
  // A new store (another process) in the same boot: CLOCK_MONOTONIC goes on.
  const again = new Expiry(clock)
  assert.not.ok(again.expired(v))
  await clock.advance(HOUR)
  assert.ok(again.expired(v))
})

test('across boots the wall clock read at open decides, and a step seen later changes nothing', async () => {
  const before = new FakeClock(T2025, { bootId: 'boot-1' })
  const v = new Expiry(before).stamp(HOUR)
  const clock = new FakeClock(T2025 + HOUR / 2, { bootId: 'boot-2' })
  const e = new Expiry(clock)
  assert.not.ok(e.expired(v), 'half the TTL passed while off')
  clock.jumpTo(T2025 + 5 * YEAR)
  assert.not.ok(e.expired(v), 'a step while open is not time passed')
  await clock.advance(HOUR / 2)
  assert.ok(e.expired(v), 'the rest of the TTL on the monotonic clock')
  const reopened = new Expiry(clock)
  assert.ok(reopened.expired(v), 'the next open reads the stepped wall clock')
})

test('a record from an earlier boot stamped before the clock was set never expires', async () => {
  const unset = new FakeClock(86_400_000, { bootId: 'boot-1' })
  const v = new Expiry(unset).stamp(HOUR)
  assert.ok(v.x < CLOCK_SET_FLOOR)
  const e = new Expiry(new FakeClock(T2025, { bootId: 'boot-2' }))
  assert.not.ok(e.expired(v))
  assert.not.ok(e.expired({}), 'no TTL')
  assert.ok(e.expired({ x: T2025 - 1 }), 'a record of an older agent (wall expiry only) expires by the wall clock')
})

test('the store: a record with a TTL written before a reboot and a 5-year step is kept, then expires by the wall clock in full', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-expiry-'))
  try {
    let st = await LevelOutboxStore.open({ dir, clock: new FakeClock(86_400_000, { bootId: 'boot-1' }), ttlMs: { log: HOUR } })
    await st.commit({ records: [{ kind: 'log', time: 1, data: 'before NTP' }] })
    await st.close()
    const clock = new FakeClock(T2025, { bootId: 'boot-1', monotonic: 10 * HOUR })
    st = await LevelOutboxStore.open({ dir, clock, ttlMs: { log: HOUR } })
    assert.equal((await st.read()).map((r) => r.data), [], 'same boot, 10 h of monotonic time later: expired')
    await st.commit({ records: [{ kind: 'log', time: 2, data: 'synced' }] })
    await st.close()
    const rebooted = new FakeClock(T2025 + 5 * YEAR, { bootId: 'boot-2' })
    st = await LevelOutboxStore.open({ dir, clock: rebooted, ttlMs: { log: HOUR } })
    assert.equal((await st.read()).map((r) => r.data), [], 'another boot: the wall clock says 5 years passed')
    await st.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
