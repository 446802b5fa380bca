// Agent-wide series bumped by name (outbox drops, sensor errors, wire rejects), as seen through
// FunctionMetrics, which is how the agent's parts reach them.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FunctionMetrics } from '../../../device/metrics/index.js'
import { LambkinError } from '../../../src/errors.js'
import { parsePrometheus, valueOf } from './prom-text.js'

const usage = (err: unknown): boolean => err instanceof LambkinError && err.code === 'LAMBKIN_USAGE'

test('registered counters and gauges are exposed with one HELP/TYPE pair and the lambkin_ prefix', () => {
  const m = new FunctionMetrics()
  m.register('outbox_dropped_total', { type: 'counter', help: 'Records dropped to stay under the quota.', labelNames: ['kind'] })
  m.register('lambkin_outbox_dropped_total', { type: 'counter', help: 'a second part registering the same metric', labelNames: ['kind'] })
  m.register('outbox_bytes', { type: 'gauge', help: 'Bytes held.\nSecond line with a \\ backslash.' })
  m.inc('outbox_dropped_total', { kind: 'log' }, 3)
  m.inc('outbox_dropped_total', { kind: 'log' })
  m.inc('lambkin_outbox_dropped_total', { kind: 'metric' })
  m.set('outbox_bytes', {}, 4096)
  m.set('outbox_bytes', {}, 1024)
  m.record('f', { ok: true, durationMs: 1 })
  const text = m.toPrometheus()
  assert.is(text.split('\n').filter((l) => l === '# TYPE lambkin_outbox_dropped_total counter').length, 1)
  assert.ok(text.includes('# HELP lambkin_outbox_bytes Bytes held.\\nSecond line with a \\\\ backslash.\n'), text)
  const p = parsePrometheus(text)
  assert.is(p.get('lambkin_outbox_dropped_total')?.help, 'Records dropped to stay under the quota.', 'the first HELP text stays')
  assert.is(p.get('lambkin_outbox_bytes')?.help, 'Bytes held.\nSecond line with a \\ backslash.')
  assert.is(p.get('lambkin_outbox_bytes')?.type, 'gauge')
  assert.is(valueOf(p, 'lambkin_outbox_dropped_total', { kind: 'log' }), 4)
  assert.is(valueOf(p, 'lambkin_outbox_dropped_total', { kind: 'metric' }), 1)
  assert.is(valueOf(p, 'lambkin_outbox_bytes', {}), 1024)
  assert.is(valueOf(p, 'lambkin_invocations_total', { function: 'f' }), 1)
})

test('label values from the outside world are escaped', () => {
  const m = new FunctionMetrics()
  m.register('wire_rejected_total', { type: 'counter', help: 'Messages refused by a wire rule.', labelNames: ['rule', 'topic'] })
  const topic = 'lambkin/v1/"x"\\y\nz'
  m.inc('wire_rejected_total', { rule: 'W2', topic })
  const p = parsePrometheus(m.toPrometheus())
  assert.is(valueOf(p, 'lambkin_wire_rejected_total', { rule: 'W2', topic }), 1)
})

test('misuse is a LAMBKIN_USAGE error naming the metric', () => {
  const m = new FunctionMetrics()
  m.register('sensor_errors_total', { type: 'counter', help: 'Sensor reads that failed.', labelNames: ['sensor'] })
  m.register('temp', { type: 'gauge', help: 'x' })
  assert.throws(() => m.inc('sensor_error_total', { sensor: 'a' }), (e: unknown) => usage(e) && /lambkin_sensor_error_total.*not registered/.test((e as Error).message))
  assert.throws(() => m.inc('sensor_errors_total', { sensr: 'a' }), (e: unknown) => usage(e) && /takes labels \[sensor\]/.test((e as Error).message))
  assert.throws(() => m.inc('sensor_errors_total', {}), usage)
  assert.throws(() => m.inc('sensor_errors_total', { sensor: 'a' }, -1), usage)
  assert.throws(() => m.inc('sensor_errors_total', { sensor: 'a' }, Number.NaN), usage)
  assert.throws(() => m.set('sensor_errors_total', { sensor: 'a' }, 1), (e: unknown) => usage(e) && /use inc/.test((e as Error).message))
  assert.throws(() => m.inc('temp'), (e: unknown) => usage(e) && /use set/.test((e as Error).message))
  assert.throws(() => m.register('sensor_errors_total', { type: 'gauge', help: 'x', labelNames: ['sensor'] }), usage)
  assert.throws(() => m.register('sensor_errors_total', { type: 'counter', help: 'x', labelNames: ['other'] }), usage)
  assert.throws(() => m.register('invocations_total', { type: 'counter', help: 'x' }), (e: unknown) => usage(e) && /per-function/.test((e as Error).message))
  assert.throws(() => m.register('bad-name', { type: 'counter', help: 'x' }), usage)
  assert.throws(() => m.register('x_total', { type: 'counter', help: 'x', labelNames: ['le'] }), usage)
  assert.throws(() => m.register('y_total', { type: 'counter', help: 'x', labelNames: ['__name'] }), usage)
  assert.is(m.toPrometheus(), '', 'failed calls left nothing behind')
})

test('series past the per-metric cap are refused and counted, not kept', () => {
  const m = new FunctionMetrics({ maxSeriesPerMetric: 2 })
  m.register('sensor_errors_total', { type: 'counter', help: 'Sensor reads that failed.', labelNames: ['sensor'] })
  for (const s of ['a', 'b', 'c', 'd', 'a']) m.inc('sensor_errors_total', { sensor: s })
  const p = parsePrometheus(m.toPrometheus())
  assert.is(p.get('lambkin_sensor_errors_total')?.samples.length, 2)
  assert.is(valueOf(p, 'lambkin_sensor_errors_total', { sensor: 'a' }), 2)
  assert.is(valueOf(p, 'lambkin_metrics_series_dropped_total', { metric: 'lambkin_sensor_errors_total' }), 2)
})

test('a repeat of the last labels counts on its own series; a refused or wrong label set is never taken for it', () => {
  const m = new FunctionMetrics({ maxSeriesPerMetric: 2 })
  m.register('by_version_total', { type: 'counter', help: 'Calls by function and version.', labelNames: ['function', 'version'] })
  // 'ab' + 'c' and 'a' + 'bc' would share a key without the lengths; each is its own series.
  for (const [f, v] of [['ab', 'c'], ['ab', 'c'], ['a', 'bc'], ['ab', 'c'], ['x', 'y'], ['x', 'y'], ['a', 'bc']]) m.inc('by_version_total', { function: f, version: v })
  assert.throws(() => m.inc('by_version_total', { function: 'a' } as never), usage, 'a label missing after a repeat is still refused')
  assert.throws(() => m.inc('by_version_total', { function: 'a', version: 'bc', extra: 'z' }), usage, 'an extra label after a repeat is still refused')
  const p = parsePrometheus(m.toPrometheus())
  assert.is(valueOf(p, 'lambkin_by_version_total', { function: 'ab', version: 'c' }), 3)
  assert.is(valueOf(p, 'lambkin_by_version_total', { function: 'a', version: 'bc' }), 2)
  assert.is(valueOf(p, 'lambkin_metrics_series_dropped_total', { metric: 'lambkin_by_version_total' }), 2, 'each refused repeat counted')
})

test('snapshots carry the series: counters as totals or per-interval changes, gauges as they are', () => {
  const m = new FunctionMetrics()
  m.register('outbox_dropped_total', { type: 'counter', help: 'x', labelNames: ['kind'] })
  m.register('outbox_bytes', { type: 'gauge', help: 'x' })
  m.inc('outbox_dropped_total', { kind: 'log' }, 5)
  m.inc('outbox_dropped_total', { kind: 'metric' }, 1)
  m.set('outbox_bytes', {}, 100)
  const d1 = m.snapshotDelta()
  m.inc('outbox_dropped_total', { kind: 'log' }, 2)
  const d2 = m.snapshotDelta()
  const total = m.snapshot()
  const find = (s: typeof d1, kind: string): number | undefined => s.series.find((x) => x.labels.kind === kind)?.value
  assert.is(find(d1, 'log'), 5)
  assert.is(find(d1, 'metric'), 1)
  assert.is(find(d2, 'log'), 2)
  assert.is(find(d2, 'metric'), undefined, 'no change, so left out of the delta')
  assert.is(find(total, 'log'), 7)
  assert.equal(d2.series.find((x) => x.name === 'lambkin_outbox_bytes'), { name: 'lambkin_outbox_bytes', type: 'gauge', labels: {}, value: 100 })
})

test.run()
