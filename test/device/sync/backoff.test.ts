// The cloud link's reconnect waits (device/sync/backoff.ts): doubling from reconnectMs to a
// ceiling of 15 s by default, each wait a uniformly random share of its step (full jitter), so
// a board is back within one step of its cloud's return and a fleet's reconnects spread out.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RECONNECT_MAX_MS, reconnectDelay } from '../../../device/sync/backoff.js'
import { DEVICE_DEFAULTS } from '../../../device/config/index.js'

test('the default ceiling is 15 s, from 1 s', () => {
  assert.is(RECONNECT_MAX_MS, 15_000)
  assert.equal([DEVICE_DEFAULTS.cloud.reconnectMs, DEVICE_DEFAULTS.cloud.reconnectMaxMs], [1000, 15_000])
})

test('the step doubles to the ceiling and stays there, however long the cloud is away', () => {
  const top = (n: number): number => reconnectDelay(n, 1000, RECONNECT_MAX_MS, () => 0.999999)
  assert.equal([0, 1, 2, 3, 4].map(top), [999, 1999, 3999, 7999, 14_999])
  assert.ok([5, 10, 30, 1000, Number.MAX_SAFE_INTEGER].every((n) => top(n) <= RECONNECT_MAX_MS))
})

test('full jitter: each wait is anywhere from 0 to its step, so a fleet does not come back in waves', () => {
  assert.is(reconnectDelay(6, 1000, RECONNECT_MAX_MS, () => 0), 0)
  assert.is(reconnectDelay(6, 1000, RECONNECT_MAX_MS, () => 0.5), 7500)
  // 10,000 boards at the ceiling, seeded: each second of the step gets about a fifteenth of them.
  let seed = 7
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
  const perSecond = new Array<number>(15).fill(0)
  for (let i = 0; i < 10_000; i++) perSecond[Math.floor(reconnectDelay(9, 1000, RECONNECT_MAX_MS, random) / 1000)]++
  assert.ok(perSecond.every((n) => n > 500 && n < 850), perSecond.join(','))
})

test.run()
