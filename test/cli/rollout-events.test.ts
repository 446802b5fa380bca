// A followed rollout as events: each device's answer once, counts when they move, and what
// the end means for the exit code.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { countsText, diffRollout, rolloutOutcome } from '../../cli/rollout-events.js'
import type { DeviceEvent } from '../../cli/rollout-events.js'
import { rolloutView } from '../helpers/rollout-view.js'

test('the first view gives every device that already answered, then the counts', () => {
  const v = rolloutView({ a: 'applied', b: 'sent', c: 'pending', d: { state: 'offline' } })
  const events = diffRollout(undefined, v)
  assert.equal(events.map((e) => e.event === 'device' ? `${e.device}:${e.state}` : e.event), ['a:applied', 'd:offline', 'progress'])
})

test('later views give only the devices whose answer changed; no progress event when nothing moved', () => {
  const a = rolloutView({ a: 'applied', b: 'sent', c: 'offline' }, { revision: 1 })
  const b = rolloutView({ a: 'applied', b: { state: 'failed', code: 'LAMBKIN_SIGNATURE_INVALID', message: 'bad' }, c: 'applied' }, { revision: 2 })
  const events = diffRollout(a, b)
  assert.equal(events.filter((e) => e.event === 'device').map((e) => (e as DeviceEvent).device), ['b', 'c'])
  assert.equal((events[0] as DeviceEvent).code, 'LAMBKIN_SIGNATURE_INVALID')
  assert.is(events[events.length - 1].event, 'progress')
  assert.equal(diffRollout(b, { ...b, revision: 3 }), [])
})

test('an applied device that rolls back later is a new answer', () => {
  const a = rolloutView({ a: 'applied' })
  const b = rolloutView({ a: { state: 'rolled-back', code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'errors 5 of 5' } })
  assert.equal(diffRollout(a, b).map((e) => e.event), ['device', 'progress'])
})

test('done with every online target applied is ok; offline and skipped are named, not failures', () => {
  const o = rolloutOutcome(rolloutView({ a: 'applied', b: 'offline', c: 'skipped' }, { state: 'done' }))
  assert.is(o.ok, true)
  assert.is(o.code, undefined)
  assert.match(o.message, /1 applied, 1 offline, 1 skipped/)
  assert.match(o.message, /offline will get it when it returns/)
})

test('a failed or rolled-back target fails the command with the code most devices gave', () => {
  const o = rolloutOutcome(rolloutView({
    a: 'applied',
    b: { state: 'failed', code: 'LAMBKIN_DEPLOY_TIMEOUT', message: 'no answer' },
    c: { state: 'rolled-back', code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'x' },
    d: { state: 'rolled-back', code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'y' }
  }, { state: 'done' }))
  assert.is(o.ok, false)
  assert.is(o.code, 'LAMBKIN_HEALTH_CHECK_FAILED')
  assert.match(o.message, /3 devices of 4 did not apply/)
})

test('aborted, cancelled and superseded rollouts are LAMBKIN_ROLLOUT_ABORTED with the cloud\'s reason', () => {
  for (const state of ['aborted', 'cancelled', 'superseded'] as const) {
    const o = rolloutOutcome(rolloutView({ a: 'applied', b: 'pending' }, { state, reason: `because ${state}` }))
    assert.is(o.ok, false, state)
    assert.is(o.code, 'LAMBKIN_ROLLOUT_ABORTED', state)
    assert.match(o.message, `because ${state}`)
  }
})

test('the end event carries the exit code and every target as the JSON summary; a health window still open is news', () => {
  const o = rolloutOutcome(rolloutView({ a: { state: 'applied', health: 'passed', version: 'v' }, b: { state: 'rolled-back', code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'm' } }, { state: 'done' }), { verdict: true })
  assert.equal([o.exitCode, o.code], [1, 'LAMBKIN_HEALTH_CHECK_FAILED'])
  assert.equal(o.devices, [{ id: 'a', state: 'applied', version: 'v', health: 'passed' }, { id: 'b', state: 'rolled-back', code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'm' }])
  const a = rolloutView({ a: { state: 'applied', health: 'watching', watchLeftMs: 1000 } })
  const b = rolloutView({ a: { state: 'applied', health: 'passed' } })
  assert.equal(diffRollout(a, b).map((e) => e.event === 'device' ? e.health : e.event), ['passed'])
})

test('a device superseded in its health window is news, is counted apart from healthy, and ends a followed deploy as superseded', () => {
  const a = rolloutView({ a: { state: 'applied', health: 'watching', watchLeftMs: 1000 }, b: { state: 'applied', health: 'passed' } }, { state: 'done' })
  const cut = { state: 'applied' as const, health: 'superseded' as const, message: 'superseded by rollout r-2 while its health window was open' }
  const b = rolloutView({ a: cut, b: { state: 'applied', health: 'passed' } }, { state: 'superseded', reason: 'superseded by rollout r-2 before its health windows ended', revision: 2 })
  const events = diffRollout(a, b)
  assert.equal(events.filter((e) => e.event === 'device').map((e) => e.event === 'device' ? [e.device, e.health, e.watchLeftMs, e.message] : []), [['a', 'superseded', undefined, cut.message]])
  assert.is(countsText(b.counts, b), '1 healthy, 1 superseded in health window')
  const o = rolloutOutcome(b, { verdict: true })
  assert.equal([o.exitCode, o.code, o.devices[0].health], [1, 'LAMBKIN_ROLLOUT_ABORTED', 'superseded'])
  assert.match(o.message, /rollout r-1 superseded: superseded by rollout r-2 before its health windows ended; 1 healthy, 1 superseded in health window/)
})

test('counts in words leave out zeros', () => {
  assert.is(countsText(rolloutView({ a: 'applied', b: 'sent', c: 'pending' }).counts), '1 applied, 2 waiting')
  assert.is(countsText(rolloutView({}).counts), 'none answered')
})

test.run()
