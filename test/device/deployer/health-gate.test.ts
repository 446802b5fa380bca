// The health gate on a FakeClock: fails once minInvocations ended over the error rate, ignores
// other versions and agent-wide refusals, passes when the window ends, resumes a window.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HealthGate } from '../../../device/deployer/health-gate.js'
import type { HealthStats } from '../../../device/deployer/health-gate.js'
import type { InvocationRecord } from '../../../device/invoke/invoker.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const rec = (version: string, ok: boolean, code?: string): InvocationRecord => ({ fn: 'f', source: 'mqtt', ok, code, version, durationMs: 1, invocationId: 'i', attempts: 1 })

function gate (clock: FakeClock): { g: HealthGate, failed: HealthStats[], passed: string[] } {
  const failed: HealthStats[] = []
  const passed: string[] = []
  const g = new HealthGate({
    clock,
    settings: { windowMs: 10_000, maxErrorRate: 0.5, minInvocations: 3 },
    onFail: (_fn, s) => failed.push(s),
    onPass: (fn) => passed.push(fn)
  })
  return { g, failed, passed }
}

test('fails once minInvocations have ended with more than maxErrorRate failing, counting timeouts', () => {
  const clock = new FakeClock(1000)
  const { g, failed } = gate(clock)
  g.watch('f', ['v2'], clock.now())
  g.record(rec('v2', false, 'LAMBKIN_FUNCTION_ERROR'))
  g.record(rec('v2', false, 'LAMBKIN_TIMEOUT'))
  assert.is(failed.length, 0, 'not before minInvocations')
  g.record(rec('v2', true))
  assert.is(failed.length, 1)
  assert.equal(failed[0], { invocations: 3, errors: 2, timeouts: 1, codes: { LAMBKIN_FUNCTION_ERROR: 1, LAMBKIN_TIMEOUT: 1 } })
  assert.not.ok(g.watching('f'))
})

test('other versions, throttles and agent shutdowns do not count; a window that ends passes', async () => {
  const clock = new FakeClock(1000)
  const { g, failed, passed } = gate(clock)
  g.watch('f', ['v2'], clock.now())
  for (let i = 0; i < 5; i++) {
    g.record(rec('v1', false, 'LAMBKIN_FUNCTION_ERROR'))
    g.record(rec('v2', false, 'LAMBKIN_THROTTLED'))
    g.record(rec('v2', false, 'LAMBKIN_CLOSED'))
    g.record(rec('v2', true))
  }
  assert.is(failed.length, 0)
  await clock.advance(10_000)
  assert.equal(passed, ['f'])
})

test('a window ends windowMs after the start it is given', async () => {
  const clock = new FakeClock(100_000)
  const { g, passed } = gate(clock)
  g.watch('f', ['v2'], 100_000 - 7_000)
  await clock.advance(2_999)
  assert.equal(passed, [])
  await clock.advance(1)
  assert.equal(passed, ['f'])
})

test.run()
