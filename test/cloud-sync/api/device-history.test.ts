// A device's metric series and deployment history for the dashboard's device page.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { historyOf, seriesOf } from '../../../cloud-sync/api/device-history.js'
import type { ReportedRow, RolloutRow, StoredRecord } from '../../../cloud-sync/registry/index.js'

const T = Date.UTC(2026, 11, 6, 12)
const BOUNDS = [0.001, 0.01, 0.1, 1]

function snapshot (seq: number, to: number, functions: Record<string, unknown>, kind = 'delta'): StoredRecord {
  return { device: 'gh-01', stream: 'legacy', seq, kind: 'metric', time: to, receivedAt: to + 100, data: { v: 1, kind, from: to - 60_000, to, bucketsSeconds: BOUNDS, functions, series: [] } }
}

test('one point per snapshot: invocations, error rate, duration percentiles and memory, per function', () => {
  const s = seriesOf('gh-01', [
    snapshot(1, T, {
      thermo: {
        invocations: 10,
        errors: { LAMBKIN_FUNCTION_ERROR: 2 },
        memoryHighWaterBytes: 6_000_000,
        durationSeconds: { counts: [0, 10, 0, 0, 0], sum: 0.05, count: 10, max: 0.009 }
      }
    }),
    snapshot(2, T + 60_000, {
      thermo: { invocations: 0, errors: {}, durationSeconds: { counts: [0, 0, 0, 0, 0], max: 0 } },
      fan: { invocations: 4, errors: {}, memoryHighWaterBytes: 1 }
    }),
    snapshot(3, T + 120_000, { thermo: { invocations: 99 } }, 'total')
  ])
  assert.is(s.snapshots, 2)
  const th = s.functions.thermo
  assert.equal(th.t, [T, T + 60_000])
  assert.equal(th.invocations, [10, 0])
  assert.equal(th.errorRate, [20, null])
  // Ten calls in the 1-10 ms bucket, none slower than 9 ms.
  assert.is(th.p50[0], 5.5)
  assert.ok((th.p99[0] ?? 0) <= 9 && (th.p99[0] ?? 0) >= (th.p95[0] ?? 0) && (th.p95[0] ?? 0) > 5.5)
  assert.equal(th.p50[1], null)
  assert.equal(th.memoryBytes, [6_000_000, null])
  assert.equal(s.functions.fan.t, [T + 60_000])
})

function rollout (over: Partial<RolloutRow>): RolloutRow {
  return { id: 'r1', kind: 'deploy', fn: 'thermo', version: 'b'.repeat(16), number: 2, sha256: 'c'.repeat(64), to: 'gh-01', alias: 'live', state: 'done', createdAt: T, revision: 3, abortAtPercent: 100, timeoutMs: 120_000, counts: { total: 1, pending: 0, sent: 0, applied: 1, failed: 0, rolledBack: 0, offline: 0, skipped: 0 }, devices: [{ id: 'gh-01', state: 'applied', version: 'b'.repeat(16), deploymentId: 4, at: T + 1000 }], open: false, ...over }
}

test('history: rollout steps, with the device\'s own rollback in place of the rollout\'s echo of it, newest first', () => {
  const reported: ReportedRow = {
    deploymentId: 5,
    applying: false,
    functions: [{ name: 'thermo', version: 'b'.repeat(16) }],
    failures: [],
    rollbacks: [{ deploymentId: 5, name: 'thermo', from: 'd'.repeat(16), to: 'b'.repeat(16), code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: '3 of 3 invocations failed', at: T + 9000 }],
    time: T + 9000,
    receivedAt: T + 9100
  }
  const r2 = rollout({ id: 'r2', version: 'd'.repeat(16), number: 3, createdAt: T + 5000, devices: [{ id: 'gh-01', state: 'rolled-back', version: 'd'.repeat(16), deploymentId: 5, at: T + 9100, code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'rolled back' }, { id: 'other', state: 'applied', deploymentId: 6 }] })
  const h = historyOf('gh-01', [r2, rollout({})], reported, undefined)
  assert.equal(h.history.map((e) => `${e.step} ${e.rollout ?? 'device'} ${e.deploymentId}`), ['rolled-back device 5', 'applied r1 4'])
  assert.is(h.history[0].code, 'LAMBKIN_HEALTH_CHECK_FAILED')
  assert.match(h.history[0].message ?? '', /back to/)
  assert.is(h.history[1].number, 2)
  assert.equal(h.reported, { deploymentId: 5, applying: false, receivedAt: T + 9100 })
})

test('history: a refusal the device reported is listed with its code', () => {
  const reported: ReportedRow = { deploymentId: 4, applying: false, functions: [], failures: [{ deploymentId: 4, name: 'thermo', version: 'b'.repeat(16), code: 'LAMBKIN_SIGNATURE_INVALID', message: 'bad signature', at: T + 2000 }], rollbacks: [], time: T, receivedAt: T }
  const h = historyOf('gh-01', [rollout({ devices: [{ id: 'gh-01', state: 'failed', deploymentId: 4, at: T + 2100, code: 'LAMBKIN_SIGNATURE_INVALID', message: 'x' }] })], reported, undefined)
  assert.equal(h.history.map((e) => `${e.step} ${e.code}`), ['refused LAMBKIN_SIGNATURE_INVALID'])
})

test.run()
