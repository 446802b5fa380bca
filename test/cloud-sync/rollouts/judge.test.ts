// How a device is judged from its report [W5], the counts and the abort rule: the contract's
// table, case by case.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { abortReason, countDevices, judge, judgeable, sameVerdict } from '../../../cloud-sync/rollouts/judge.js'
import type { Verdict } from '../../../cloud-sync/rollouts/judge.js'
import type { RolloutDevice } from '../../../cloud-sync/registry/index.js'
import type { ReportedFrame } from '../../../src/wire/index.js'

const V = 'a'.repeat(16)
const OLD = 'b'.repeat(16)
const sent: RolloutDevice = { id: 'd', state: 'sent', version: V, deploymentId: 7 }
const rep = (o: Partial<ReportedFrame>): ReportedFrame => ({ deploymentId: 7, applying: false, functions: [{ name: 'f', version: V }], failures: [], rollbacks: [], time: 1, ...o })
const live = { fn: 'f', alias: 'live' as const }

test('[W5] applied: the report has acted on D or later and F runs V', () => {
  assert.equal(judge(live, sent, rep({})), { state: 'applied', health: 'passed' })
  assert.equal(judge(live, sent, rep({ deploymentId: 9 })), { state: 'applied', health: 'passed' })
  assert.is(judge(live, sent, rep({ deploymentId: 6 })), undefined, 'an older report says nothing yet')
  assert.is(judge(live, sent, rep({ functions: [{ name: 'f', version: OLD }] })), undefined)
  assert.is(judge(live, sent, rep({ functions: [{ name: 'g', version: V }] })), undefined)
  assert.is(judge(live, sent, rep({ applying: true }))?.state, 'applied', 'applying does not hold it')
  assert.is(judge(live, { ...sent, deploymentId: undefined }, rep({})), undefined)
})

test('[W5] applied is watching while the report says the health window is open, passed after; a repeat of either is no change', () => {
  const open = judge(live, sent, rep({ functions: [{ name: 'f', version: V, watching: 2500 }] }))
  assert.equal(open, { state: 'applied', health: 'watching', watchLeftMs: 2500 })
  const watchingDevice: RolloutDevice = { ...sent, ...open }
  assert.ok(sameVerdict(watchingDevice, judge(live, watchingDevice, rep({ functions: [{ name: 'f', version: V, watching: 900 }] })) as Verdict), 'less time left is the same verdict')
  const passed = judge(live, watchingDevice, rep({})) as Verdict
  assert.equal(passed, { state: 'applied', health: 'passed' })
  assert.not.ok(sameVerdict(watchingDevice, passed), 'the window passing is news')
})

test('[W5] a canary rollout is applied when the canary runs V, not live', () => {
  const canary = { fn: 'f', alias: 'canary' as const }
  assert.is(judge(canary, sent, rep({})), undefined)
  assert.equal(judge(canary, sent, rep({ functions: [{ name: 'f', version: OLD, canary: { version: V, weight: 10 } }] })), { state: 'applied', health: 'passed' })
})

test('[W5] failed and rolled-back come from entries with this deployment id and function only; rolled-back may follow applied', () => {
  const failure = { deploymentId: 7, name: 'f', code: 'LAMBKIN_SIGNATURE_INVALID', message: 'bad', at: 1 }
  assert.equal(judge(live, sent, rep({ deploymentId: 7, functions: [], failures: [failure] })), { state: 'failed', code: 'LAMBKIN_SIGNATURE_INVALID', message: 'bad' })
  assert.is(judge(live, sent, rep({ deploymentId: 7, functions: [], failures: [{ ...failure, deploymentId: 6 }] })), undefined)
  assert.is(judge(live, sent, rep({ deploymentId: 7, functions: [], failures: [{ ...failure, name: 'g' }] })), undefined)
  const rb = { deploymentId: 7, name: 'f', from: V, to: OLD, code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'errors', at: 2 }
  assert.equal(judge(live, { ...sent, state: 'applied' }, rep({ functions: [{ name: 'f', version: OLD }], rollbacks: [rb] })), { state: 'rolled-back', code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'errors' })
  assert.equal(judge(live, { ...sent, state: 'applied' }, rep({})), { state: 'applied', health: 'passed' }, 'applied stays applied without a rollback')
})

test('[W5] a transient failure stays judgeable and turns applied when the retry runs V; the newest entry holds', () => {
  const transient = { deploymentId: 7, name: 'f', code: 'LAMBKIN_NO_SPACE', message: 'disk full', at: 1, transient: true }
  const v = judge(live, sent, rep({ functions: [{ name: 'f', version: OLD }], failures: [transient] }))
  assert.equal(v, { state: 'failed', code: 'LAMBKIN_NO_SPACE', message: 'disk full', transient: true })
  const failed = { ...sent, ...v } as RolloutDevice
  assert.ok(judgeable(failed), 'the device tries again')
  assert.equal(judge(live, failed, rep({ failures: [transient] })), { state: 'applied', health: 'passed' })
  assert.not.ok(judgeable({ ...sent, state: 'failed', code: 'LAMBKIN_COMPILE_ERROR' }), 'a permanent failure is final')
  const permanent = { ...transient, code: 'LAMBKIN_COMPILE_ERROR', message: 'syntax', transient: undefined }
  assert.equal(judge(live, failed, rep({ functions: [{ name: 'f', version: OLD }], failures: [transient, permanent] }))?.code, 'LAMBKIN_COMPILE_ERROR')
})

test('[W5] applied follows later reports: a version that no longer loads at start (reported at D, running another) is failed; transient and stale entries do not undo applied', () => {
  const applied: RolloutDevice = { ...sent, state: 'applied' }
  const damaged = { deploymentId: 7, name: 'f', version: V, code: 'LAMBKIN_BUNDLE_INVALID', message: 'the bundle file is damaged; running OLD instead', at: 9 }
  assert.equal(judge(live, applied, rep({ deploymentId: 9, functions: [{ name: 'f', version: OLD }], failures: [damaged] })), { state: 'failed', code: 'LAMBKIN_BUNDLE_INVALID', message: damaged.message })
  const moved = rep({ deploymentId: 9, functions: [{ name: 'f', version: OLD }] })
  assert.is(judge(live, applied, moved), undefined, 'moved on by a later deployment: the view keeps applied')
  assert.is(judge(live, applied, { ...moved, failures: [{ ...damaged, code: 'LAMBKIN_NO_SPACE', transient: true }] }), undefined)
  assert.is(judge(live, applied, { ...moved, failures: [{ ...damaged, code: 'LAMBKIN_DEPLOYMENT_STALE' }] }), undefined)
  assert.equal(judge(live, applied, rep({ failures: [damaged] })), { state: 'applied', health: 'passed' }, 'it still runs V: applied')
})

test('counts and the abort threshold: 100 never aborts; at least one failure is needed', () => {
  const devices: RolloutDevice[] = (['pending', 'sent', 'applied', 'failed', 'rolled-back', 'offline', 'skipped', 'applied'] as const).map((state, i) => ({ id: `d${i}`, state }))
  const counts = countDevices(devices)
  assert.equal(counts, { total: 8, pending: 1, sent: 1, applied: 2, failed: 1, rolledBack: 1, offline: 1, skipped: 1 })
  assert.is(abortReason({ abortAtPercent: 100, counts: { ...counts, failed: 8 } }), undefined)
  assert.ok(abortReason({ abortAtPercent: 25, counts }) !== undefined, '2 of 8 is 25%')
  assert.is(abortReason({ abortAtPercent: 26, counts }), undefined)
  assert.is(abortReason({ abortAtPercent: 0, counts: { ...counts, failed: 0, rolledBack: 0 } }), undefined)
  assert.ok(abortReason({ abortAtPercent: 0, counts }) !== undefined)
})

test.run()
