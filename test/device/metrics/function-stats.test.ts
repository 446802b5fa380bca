// GB-seconds arithmetic: Lambda's billing unit, memory limit in GB (1024 MiB) times duration
// rounded up to the next millisecond.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { gbSecondsOf } from '../../../device/metrics/index.js'

const MiB = 1024 * 1024
const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-15

test('128 MiB for one second is 0.125 GB-seconds, as on a Lambda bill', () => {
  assert.is(gbSecondsOf(128 * MiB, 1000), 0.125)
  assert.is(gbSecondsOf(1024 * MiB, 1000), 1)
  assert.is(gbSecondsOf(10240 * MiB, 900_000), 9000)
})

test('duration is rounded up to the next millisecond', () => {
  assert.ok(close(gbSecondsOf(1024 * MiB, 0.2), 0.001))
  assert.ok(close(gbSecondsOf(1024 * MiB, 1.0001), 0.002))
  assert.ok(close(gbSecondsOf(256 * MiB, 2), 0.0005))
})

test('no limit, no time or a bad number bills nothing', () => {
  assert.is(gbSecondsOf(0, 1000), 0)
  assert.is(gbSecondsOf(128 * MiB, 0), 0)
  assert.is(gbSecondsOf(Number.NaN, 1000), 0)
  assert.is(gbSecondsOf(128 * MiB, -3), 0)
})

test.run()
