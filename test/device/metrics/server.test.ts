// The scrape endpoint over real HTTP on an ephemeral port, read with Node's own fetch.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FunctionMetrics, startMetricsServer } from '../../../device/metrics/index.js'
import type { MetricsServer } from '../../../device/metrics/index.js'
import { LambkinError } from '../../../src/errors.js'
import { parsePrometheus, valueOf } from './prom-text.js'

interface Ctx { metrics: FunctionMetrics, server: MetricsServer, base: string }
const test = suite<Ctx>('metrics server', {} as Ctx)

test.before.each(async (ctx) => {
  ctx.metrics = new FunctionMetrics()
  ctx.server = await startMetricsServer({ port: 0, metrics: ctx.metrics })
  ctx.base = `http://127.0.0.1:${ctx.server.port}`
})
test.after.each(async (ctx) => { await ctx.server.close() })

test('GET /metrics serves the current figures as Prometheus text 0.0.4', async ({ metrics, server, base }) => {
  assert.ok(server.port > 0)
  assert.is(server.host, '127.0.0.1')
  metrics.record('alarm', { ok: false, code: 'LAMBKIN_TIMEOUT', durationMs: 1000 })
  const res = await fetch(`${base}/metrics`)
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  const p = parsePrometheus(await res.text())
  assert.is(valueOf(p, 'lambkin_errors_total', { function: 'alarm', code: 'LAMBKIN_TIMEOUT' }), 1)
  metrics.record('alarm', { ok: true, durationMs: 1 })
  const again = parsePrometheus(await (await fetch(`${base}/metrics?name[]=x`)).text())
  assert.is(valueOf(again, 'lambkin_invocations_total', { function: 'alarm' }), 2, 'each scrape is fresh; query strings are ignored')
})

test('GET /healthz answers ok', async ({ base }) => {
  const res = await fetch(`${base}/healthz`)
  assert.is(res.status, 200)
  assert.is(await res.text(), 'ok')
})

test('other paths are 404 and other methods 405', async ({ base }) => {
  for (const path of ['/', '/metric', '/metrics/x', '/favicon.ico']) {
    const res = await fetch(base + path)
    assert.is(res.status, 404, path)
    await res.text()
  }
  const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })
  assert.is(post.status, 405)
  assert.is(post.headers.get('allow'), 'GET, HEAD')
  await post.text()
})

test('a failing registry gives 500, and the server keeps serving', async ({ base }) => {
  const broken = await startMetricsServer({ port: 0, metrics: { toPrometheus: () => { throw new Error('boom') } } })
  try {
    const res = await fetch(`http://127.0.0.1:${broken.port}/metrics`)
    assert.is(res.status, 500)
    assert.match(await res.text(), 'boom')
    assert.is((await fetch(`http://127.0.0.1:${broken.port}/healthz`)).status, 200)
  } finally {
    await broken.close()
  }
  assert.is((await fetch(`${base}/healthz`)).status, 200)
})

test('a port in use and a bad port are config errors naming the key; close is idempotent', async ({ metrics, server }) => {
  try {
    const clash = await startMetricsServer({ port: server.port, metrics })
    await clash.close()
    assert.unreachable('listened twice on one port')
  } catch (err) {
    assert.instance(err, LambkinError)
    assert.is((err as LambkinError).code, 'LAMBKIN_CONFIG_INVALID')
    assert.is((err as LambkinError).details.key, 'metricsPort')
    assert.match((err as LambkinError).message, String(server.port))
  }
  for (const port of [-1, 70000, 1.5]) {
    try {
      await startMetricsServer({ port, metrics })
      assert.unreachable(`port ${port} accepted`)
    } catch (err) {
      assert.is((err as LambkinError).code, 'LAMBKIN_CONFIG_INVALID')
      assert.is((err as LambkinError).details.key, 'port')
    }
  }
  const s = await startMetricsServer({ port: 0, host: undefined, metrics })
  assert.is(s.host, '127.0.0.1', 'an unset host means loopback')
  await s.close()
  await s.close()
  try {
    await fetch(`http://127.0.0.1:${s.port}/healthz`)
    assert.unreachable('still listening after close')
  } catch (err) {
    assert.not.instance(err, assert.Assertion)
  }
})

test('GET /outbox: 404 unless given a store; with one, only with its token, records and stats as JSON', async ({ base, metrics }) => {
  assert.is((await fetch(`${base}/outbox`)).status, 404, 'no store, no route')
  const records = [{ seq: 1, kind: 'log', fn: 'fan', time: 5, bytes: 9, data: { lines: [{ level: 'warn', time: 5, msg: 'stuck' }], raw: new Uint8Array([1, 2]) } }]
  const seen: unknown[] = []
  const store = {
    read: async (opts: unknown) => { seen.push(opts); return records as never },
    stats: async () => ({ count: 1 }) as never
  }
  const server = await startMetricsServer({ port: 0, metrics, outbox: { store, token: 'a'.repeat(64) } })
  try {
    const url = `http://127.0.0.1:${server.port}/outbox`
    assert.is((await fetch(url)).status, 401)
    assert.is((await fetch(url, { headers: { authorization: `Bearer ${'b'.repeat(64)}` } })).status, 401)
    const auth = { authorization: `Bearer ${'a'.repeat(64)}` }
    assert.is((await fetch(`${url}?limit=0`, { headers: auth })).status, 400)
    assert.is((await fetch(`${url}?kind=constructor`, { headers: auth })).status, 400)
    const res = await fetch(`${url}?limit=5&kind=log`, { headers: auth })
    assert.is(res.status, 200)
    const body = await res.json() as { records: Array<{ data: { raw: unknown } }>, stats: { count: number } }
    assert.equal(body.records[0].data.raw, { base64: 'AQI=' })
    assert.is(body.stats.count, 1)
    assert.equal(seen.at(-1), { limit: 5, kinds: ['log'] })
    assert.is((await fetch(url, { method: 'POST', headers: auth })).status, 405, 'read-only')
  } finally {
    await server.close()
  }
})

test.run()
