// Per-function counting as a user reads it back: through the Prometheus text a scraper sees
// and through the JSON snapshots the agent writes to the outbox.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FunctionMetrics } from '../../../device/metrics/index.js'
import type { InvocationReport } from '../../../device/metrics/index.js'
import { LambkinError } from '../../../src/errors.js'
import { parsePrometheus, valueOf } from './prom-text.js'

const MiB = 1024 * 1024

function fakeClock (start = 1_700_000_000_000): { now: () => number, advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => { t += ms } }
}

const ok = (durationMs: number, extra: Partial<InvocationReport> = {}): InvocationReport => ({ ok: true, durationMs, ...extra })
const fail = (code: string, durationMs = 1): InvocationReport => ({ ok: false, code, durationMs })

test('counts invocations, errors by code, timeouts and cold starts per function', () => {
  const m = new FunctionMetrics()
  m.record('alarm', ok(2, { coldStart: true }))
  m.record('alarm', ok(3))
  m.record('alarm', fail('LAMBKIN_TIMEOUT', 1000))
  m.record('alarm', fail('LAMBKIN_FUNCTION_ERROR'))
  m.record('alarm', fail('LAMBKIN_FUNCTION_ERROR'))
  m.record('avg', ok(1, { coldStart: true }))
  const p = parsePrometheus(m.toPrometheus())
  assert.is(valueOf(p, 'lambkin_invocations_total', { function: 'alarm' }), 5)
  assert.is(valueOf(p, 'lambkin_invocations_total', { function: 'avg' }), 1)
  assert.is(valueOf(p, 'lambkin_errors_total', { function: 'alarm', code: 'LAMBKIN_TIMEOUT' }), 1)
  assert.is(valueOf(p, 'lambkin_errors_total', { function: 'alarm', code: 'LAMBKIN_FUNCTION_ERROR' }), 2)
  assert.is(valueOf(p, 'lambkin_errors_total', { function: 'avg', code: 'LAMBKIN_FUNCTION_ERROR' }), undefined)
  assert.is(valueOf(p, 'lambkin_timeouts_total', { function: 'alarm' }), 1)
  assert.is(valueOf(p, 'lambkin_timeouts_total', { function: 'avg' }), 0)
  assert.is(valueOf(p, 'lambkin_cold_starts_total', { function: 'alarm' }), 1)
  assert.is(valueOf(p, 'lambkin_cold_starts_total', { function: 'avg' }), 1)
  assert.is(p.get('lambkin_invocations_total')?.type, 'counter')
  assert.is(p.get('lambkin_memory_high_water_bytes')?.type, 'gauge')
  assert.is(p.get('lambkin_duration_seconds')?.type, 'histogram')
  assert.ok((p.get('lambkin_errors_total')?.help ?? '').length > 0)
})

test('a sandbox Outcome is accepted as is: its error.code is the code counted', () => {
  const m = new FunctionMetrics()
  const outcome = { ok: false as const, error: { code: 'LAMBKIN_MEMORY_LIMIT', message: 'out of memory' }, durationMs: 4, instructions: 20000, memoryBytes: 20 * MiB, memoryLimitBytes: 32 * MiB, coldStart: false, logs: [] }
  m.record('bomb', outcome)
  const f = m.snapshot().functions.bomb
  assert.equal(f?.errors, { LAMBKIN_MEMORY_LIMIT: 1 })
  assert.is(f?.instructions, 20000)
  assert.is(f?.memoryHighWaterBytes, 20 * MiB)
})

test('throttled calls count as throttles, never as invocations or errors (as in Lambda)', () => {
  const m = new FunctionMetrics()
  m.throttled('busy')
  m.record('busy', { ok: false, error: { code: 'LAMBKIN_THROTTLED' }, durationMs: 0 })
  m.record('busy', ok(1))
  const p = parsePrometheus(m.toPrometheus())
  assert.is(valueOf(p, 'lambkin_throttles_total', { function: 'busy' }), 2)
  assert.is(valueOf(p, 'lambkin_invocations_total', { function: 'busy' }), 1)
  assert.is(valueOf(p, 'lambkin_errors_total', { function: 'busy', code: 'LAMBKIN_THROTTLED' }), undefined)
  assert.is(valueOf(p, 'lambkin_duration_seconds_count', { function: 'busy' }), 1)
})

test('the duration histogram is cumulative per le bucket, with +Inf, _sum and _count', () => {
  const m = new FunctionMetrics()
  for (const ms of [0.3, 0.5, 0.7, 3, 20, 20, 12_000]) m.record('f', ok(ms))
  const p = parsePrometheus(m.toPrometheus())
  const le = (b: string): number | undefined => valueOf(p, 'lambkin_duration_seconds_bucket', { function: 'f', le: b })
  assert.is(le('0.0005'), 2, '0.5 ms sits in the 0.0005 bucket (le is inclusive)')
  assert.is(le('0.001'), 3)
  assert.is(le('0.0025'), 3)
  assert.is(le('0.005'), 4)
  assert.is(le('0.01'), 4)
  assert.is(le('0.025'), 6)
  assert.is(le('10'), 6)
  assert.is(le('+Inf'), 7)
  assert.is(valueOf(p, 'lambkin_duration_seconds_count', { function: 'f' }), 7)
  const sum = valueOf(p, 'lambkin_duration_seconds_sum', { function: 'f' }) as number
  assert.ok(Math.abs(sum - 12.0445) < 1e-9, `sum ${sum}`)
  const buckets = p.get('lambkin_duration_seconds')?.samples.filter((s) => s.name.endsWith('_bucket')) ?? []
  assert.is(buckets.length, 15, '14 bounds plus +Inf')
})

test('custom buckets are used, and bad ones are refused naming the option', () => {
  const m = new FunctionMetrics({ bucketsSeconds: [0.1, 1] })
  m.record('f', ok(500))
  const p = parsePrometheus(m.toPrometheus())
  assert.is(valueOf(p, 'lambkin_duration_seconds_bucket', { function: 'f', le: '0.1' }), 0)
  assert.is(valueOf(p, 'lambkin_duration_seconds_bucket', { function: 'f', le: '1' }), 1)
  for (const bad of [[], [1, 1], [0.5, 0.1], [-1], [Infinity]]) {
    try {
      void new FunctionMetrics({ bucketsSeconds: bad })
      assert.unreachable(`buckets ${JSON.stringify(bad)} were accepted`)
    } catch (err) {
      assert.instance(err, LambkinError)
      assert.is((err as LambkinError).code, 'LAMBKIN_CONFIG_INVALID')
      assert.match((err as LambkinError).message, 'bucketsSeconds')
    }
  }
  assert.throws(() => new FunctionMetrics({ maxCodesPerFunction: 0 }), /maxCodesPerFunction/)
  assert.is(new FunctionMetrics({ clock: undefined, maxCodesPerFunction: undefined }).options.maxCodesPerFunction, 32, 'undefined keeps the default')
})

test('function names with quotes, backslashes and line feeds survive label escaping', () => {
  const m = new FunctionMetrics()
  const nasty = 'a"b\\c\nd'
  m.record(nasty, fail('LAMBKIN_FUNCTION_ERROR'))
  const text = m.toPrometheus()
  assert.ok(text.includes('function="a\\"b\\\\c\\nd"'), text)
  const p = parsePrometheus(text)
  assert.is(valueOf(p, 'lambkin_invocations_total', { function: nasty }), 1)
  assert.is(valueOf(p, 'lambkin_errors_total', { function: nasty, code: 'LAMBKIN_FUNCTION_ERROR' }), 1)
  assert.is(valueOf(p, 'lambkin_duration_seconds_bucket', { function: nasty, le: '+Inf' }), 1)
})

test('instructions sum, memory high-water is the max, GB-seconds add up', () => {
  const m = new FunctionMetrics()
  m.record('f', ok(1000, { instructions: 30_000, memoryBytes: 18 * MiB, memoryLimitBytes: 128 * MiB }))
  m.record('f', ok(500, { instructions: 10_000, memoryBytes: 17 * MiB, memoryLimitBytes: 128 * MiB }))
  m.record('f', { ok: false, code: 'LAMBKIN_TIMEOUT', durationMs: 2000, instructions: 5000, memoryBytes: 21 * MiB, memoryLimitBytes: 256 * MiB })
  const p = parsePrometheus(m.toPrometheus())
  assert.is(valueOf(p, 'lambkin_instructions_total', { function: 'f' }), 45_000)
  assert.is(valueOf(p, 'lambkin_memory_high_water_bytes', { function: 'f' }), 21 * MiB)
  // 0.125 GB x 1 s + 0.125 GB x 0.5 s + 0.25 GB x 2 s
  const gbs = valueOf(p, 'lambkin_gb_seconds_total', { function: 'f' }) as number
  assert.ok(Math.abs(gbs - 0.6875) < 1e-12, `gb-seconds ${gbs}`)
})

test('a bad number from a worker does not poison the sums', () => {
  const m = new FunctionMetrics()
  m.record('f', ok(Number.NaN, { instructions: Infinity, memoryBytes: -5, memoryLimitBytes: Number.NaN }))
  m.record('f', ok(2, { instructions: 100, memoryLimitBytes: 1024 * MiB }))
  const f = m.snapshot().functions.f
  assert.is(f?.invocations, 2)
  assert.is(f?.instructions, 100)
  assert.is(f?.durationSeconds.sum, 0.002)
  assert.is(f?.gbSeconds, 0.002)
  assert.is(f?.memoryHighWaterBytes, 0)
})

test('error codes past the per-function cap are folded into "other"', () => {
  const m = new FunctionMetrics({ maxCodesPerFunction: 2 })
  for (const code of ['LAMBKIN_A', 'LAMBKIN_B', 'LAMBKIN_C', 'LAMBKIN_D', 'LAMBKIN_A']) m.record('f', fail(code))
  assert.equal(m.snapshot().functions.f?.errors, { LAMBKIN_A: 2, LAMBKIN_B: 1, other: 2 })
  m.record('g', { ok: false, durationMs: 1 })
  assert.equal(m.snapshot().functions.g?.errors, { unknown: 1 })
})

test('snapshot gives totals since creation as plain JSON', () => {
  const clock = fakeClock()
  const m = new FunctionMetrics({ clock })
  m.record('f', ok(2, { coldStart: true, memoryLimitBytes: 64 * MiB }))
  m.throttled('g')
  clock.advance(5000)
  const snap = m.snapshot()
  assert.equal(JSON.parse(JSON.stringify(snap)), snap, 'survives a JSON round trip unchanged')
  assert.is(snap.v, 1)
  assert.is(snap.kind, 'total')
  assert.is(snap.from, 1_700_000_000_000)
  assert.is(snap.to, 1_700_000_005_000)
  assert.equal(snap.bucketsSeconds.length, 14)
  assert.equal(Object.keys(snap.functions), ['f', 'g'])
  assert.is(snap.functions.f?.invocations, 1)
  assert.is(snap.functions.f?.coldStarts, 1)
  assert.is(snap.functions.f?.durationSeconds.counts.length, 15)
  assert.is(snap.functions.f?.durationSeconds.counts[2], 1, '2 ms lands in the 0.0025 bucket')
  assert.is(snap.functions.g?.throttles, 1)
  assert.is(snap.functions.g?.invocations, 0)
  assert.is(m.snapshot().functions.f?.invocations, 1, 'a total snapshot does not reset anything')
})

test('snapshotDelta covers one interval each, leaves idle functions out, and deltas add up to the totals', () => {
  const clock = fakeClock()
  const m = new FunctionMetrics({ clock })
  m.record('f', ok(1, { memoryBytes: 30 * MiB }))
  m.record('g', fail('LAMBKIN_TIMEOUT'))
  clock.advance(60_000)
  const d1 = m.snapshotDelta()
  m.record('f', ok(1, { memoryBytes: 20 * MiB }))
  m.record('f', fail('LAMBKIN_FUNCTION_ERROR'))
  clock.advance(60_000)
  const d2 = m.snapshotDelta()
  const d3 = m.snapshotDelta()
  assert.is(d1.kind, 'delta')
  assert.is(d1.from, 1_700_000_000_000)
  assert.is(d2.from, d1.to)
  assert.is(d2.to - d2.from, 60_000)
  assert.equal(Object.keys(d1.functions), ['f', 'g'])
  assert.equal(Object.keys(d2.functions), ['f'], 'g did nothing in the second interval')
  assert.equal(Object.keys(d3.functions), [])
  assert.is(d2.functions.f?.invocations, 1 + 1)
  assert.equal(d2.functions.f?.errors, { LAMBKIN_FUNCTION_ERROR: 1 })
  assert.is(d2.functions.f?.memoryHighWaterBytes, 20 * MiB, 'the high-water of its own interval')
  const total = m.snapshot().functions.f
  assert.is(total?.invocations, (d1.functions.f?.invocations ?? 0) + (d2.functions.f?.invocations ?? 0))
  assert.is(total?.memoryHighWaterBytes, 30 * MiB)
  const counts = total?.durationSeconds.counts ?? []
  counts.forEach((c, i) => assert.is(c, (d1.functions.f?.durationSeconds.counts[i] ?? 0) + (d2.functions.f?.durationSeconds.counts[i] ?? 0)))
})

test('an empty registry prints nothing and a name is required', () => {
  const m = new FunctionMetrics()
  assert.is(m.toPrometheus(), '')
  assert.throws(() => m.record('', ok(1)), (err: unknown) => err instanceof LambkinError && err.code === 'LAMBKIN_USAGE')
})

test.run()
