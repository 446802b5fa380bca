import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import type { Outcome, OutcomeOk, OutcomeFail } from '../../../src/sandbox/index.js'
import { CHECK_KEEP_MS, COLLECT_DELAY_MS } from '../../../src/sandbox/worker-quiet.js'
import { makeSpec } from '../../helpers/spec.js'

const test = suite<{ pool: SandboxPool }>('sandbox pool', { pool: undefined as unknown as SandboxPool })
test.before(async (ctx) => { ctx.pool = await SandboxPool.create({ workers: 2, deviceId: 'dev-1' }) })
test.after(async (ctx) => { await ctx.pool.close() })

function ok (o: Outcome): OutcomeOk {
  if (!o.ok) assert.unreachable(`expected success, got ${o.error.code}: ${o.error.message}`)
  return o as OutcomeOk
}
function failed (o: Outcome, code: string): OutcomeFail {
  if (o.ok) assert.unreachable(`expected ${code}, got success`)
  assert.is((o as OutcomeFail).error.code, code, (o as OutcomeFail).error.message)
  return o as OutcomeFail
}

test('sync and async handlers return results', async ({ pool }) => {
  const a = await pool.load(makeSpec('export default function (e) { return { doubled: e.n * 2 } }'))
  const b = await pool.load(makeSpec('export default async function (e) { await null; const v = await Promise.resolve(e.n + 1); return v }'))
  assert.equal(ok(await pool.invoke(a, { n: 21 })).result, { doubled: 42 })
  assert.equal(ok(await pool.invoke(b, { n: 41 })).result, 42)
})

test('undefined return records no result', async ({ pool }) => {
  const k = await pool.load(makeSpec('export default function () {}'))
  const o = ok(await pool.invoke(k, {}))
  assert.is(o.result, undefined)
})

test('ctx carries ids, env and remainingMs', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default function (e, ctx) {
    return { fn: ctx.functionName, v: ctx.version, dev: ctx.deviceId, id: ctx.invocationId, trace: ctx.traceId, env: ctx.env.THRESHOLD, left: ctx.remainingMs() }
  }`, { name: 'ids', version: 'abc', env: { THRESHOLD: '70' } }))
  const o = ok(await pool.invoke(k, {}, { invocationId: 'inv-1', traceId: 'tr-1' }))
  const r = o.result as Record<string, unknown>
  assert.equal({ ...r, left: undefined }, { fn: 'ids', v: 'abc', dev: 'dev-1', id: 'inv-1', trace: 'tr-1', env: '70', left: undefined })
  assert.ok((r.left as number) > 0 && (r.left as number) <= 1000)
})

test('logs, console, emits and permitted publishes come back', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default function (e, ctx) {
    ctx.log('temp', e.t, { unit: 'C' })
    console.warn('careful')
    ctx.emit({ reading: e.t })
    ctx.publish('alarms/hot', { t: e.t }, { qos: 0, retain: true })
    ctx.publish('alarms/raw', 'text')
    return 'ok'
  }`, { publish: ['alarms/#'] }))
  const o = ok(await pool.invoke(k, { t: 71 }))
  assert.equal(o.logs.map((l) => [l.level, l.msg]), [['info', 'temp 71 {"unit":"C"}'], ['warn', 'careful']])
  assert.equal(o.emits, [{ reading: 71 }])
  assert.equal(o.publishes, [
    { topic: 'alarms/hot', payload: { t: 71 }, qos: 0, retain: true },
    { topic: 'alarms/raw', payload: 'text', qos: 1, retain: false }
  ])
})

test('publishing outside permissions is LAMBKIN_PERMISSION_DENIED', async ({ pool }) => {
  const k = await pool.load(makeSpec('export default function (e, ctx) { ctx.publish(\'secrets/x\', 1) }', { publish: ['alarms/#'] }))
  const o = failed(await pool.invoke(k, {}), 'LAMBKIN_PERMISSION_DENIED')
  assert.match(o.error.message, 'secrets/x')
  const none = await pool.load(makeSpec('export default function (e, ctx) { ctx.publish(\'alarms/x\', 1) }'))
  failed(await pool.invoke(none, {}), 'LAMBKIN_PERMISSION_DENIED')
})

test('state persists through the caller and reports changes only', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default function (e, ctx) {
    if (e.read) return ctx.state.count
    ctx.state.count = (ctx.state.count ?? 0) + 1
    return ctx.state.count
  }`))
  const first = ok(await pool.invoke(k, {}))
  assert.is(first.result, 1)
  assert.ok(first.stateChanged)
  const second = ok(await pool.invoke(k, {}, { state: first.state }))
  assert.is(second.result, 2)
  assert.equal(second.state, { count: 2 })
  const read = ok(await pool.invoke(k, { read: true }, { state: second.state }))
  assert.is(read.result, 2)
  assert.not.ok(read.stateChanged)
})

test('calls queued back to back see each other\'s state in order (versioned state)', async ({ pool }) => {
  const k = await pool.load(makeSpec('export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return ctx.state.n }'))
  // Every call carries the same old copy (version 0); the instance's newer copy wins.
  const outs = await Promise.all(Array.from({ length: 50 }, () => pool.invoke(k, {}, { state: { n: 0 }, stateVersion: 0 })))
  assert.equal(outs.map((o) => ok(o).result), Array.from({ length: 50 }, (_, i) => i + 1))
  assert.equal(outs.map((o) => ok(o).stateVersion), Array.from({ length: 50 }, (_, i) => i + 1))
  // Without a version the host's copy is used as given.
  assert.is(ok(await pool.invoke(k, {}, { state: { n: 100 } })).result, 101)
  // A newer host copy beats the instance's.
  assert.is(ok(await pool.invoke(k, {}, { state: { n: 500 }, stateVersion: 1000 })).result, 501)
})

test('a fault does not send queued calls back to an older state', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    if (e.boom) { const a = []; for (;;) a.push(new Array(1000).fill(1)) }
    ctx.state.n = (ctx.state.n ?? 0) + 1
    return ctx.state.n
  }`, { limits: { memoryKiB: 16384, instructions: 1e12, timeoutMs: 5000 } }))
  const calls = [0, 1, 2, 3, 4].map((i) => pool.invoke(k, { boom: i === 2 }, { state: {}, stateVersion: 0 }))
  const outs = await Promise.all(calls)
  assert.is((outs[2] as OutcomeFail).error.code, 'LAMBKIN_MEMORY_LIMIT')
  assert.equal([outs[0], outs[1], outs[3], outs[4]].map((o) => ok(o).result), [1, 2, 3, 4])
})

test('the newest state survives a fault also when it came with a large result', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    if (e.boom) { const a = []; for (;;) a.push(new Array(1000).fill(1)) }
    ctx.state.n = (ctx.state.n ?? 0) + 1
    return { n: ctx.state.n, pad: 'x'.repeat(e.pad) }
  }`, { limits: { memoryKiB: 16384, instructions: 1e12, timeoutMs: 5000 } }))
  const calls = [0, 1, 2, 3].map((i) => pool.invoke(k, { boom: i === 2, pad: i === 1 ? 40_000 : 1 }, { state: {}, stateVersion: 0 }))
  const outs = await Promise.all(calls)
  assert.is((outs[2] as OutcomeFail).error.code, 'LAMBKIN_MEMORY_LIMIT')
  assert.equal([outs[0], outs[1], outs[3]].map((o) => (ok(o).result as { n: number }).n), [1, 2, 3])
})

test('layers import by name and relative modules resolve', async ({ pool }) => {
  const k = await pool.load(makeSpec('', {
    files: {
      'index.js': "import { mean } from 'stats'\nimport { label } from './lib/label.js'\nexport default (e) => label(mean(e.xs))",
      'lib/label.js': "import { unit } from '../unit.js'\nexport const label = (x) => x + unit",
      'unit.js': "export const unit = ' C'"
    },
    layers: { stats: 'export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length' }
  }))
  assert.is(ok(await pool.invoke(k, { xs: [1, 2, 3] })).result, '2 C')
})

test('a function that threw is LAMBKIN_FUNCTION_ERROR with its message and stack', async ({ pool }) => {
  const k = await pool.load(makeSpec('export default function () { throw new TypeError("bad input") }'))
  const o = failed(await pool.invoke(k, {}), 'LAMBKIN_FUNCTION_ERROR')
  assert.is(o.error.message, 'TypeError: bad input')
  assert.match(o.error.stack ?? '', 'index.js')
  const r = await pool.load(makeSpec('export default async function () { throw "plain" }'))
  assert.match(failed(await pool.invoke(r, {}), 'LAMBKIN_FUNCTION_ERROR').error.message, 'plain')
})

test('compile errors and a missing default export refuse to load', async ({ pool }) => {
  try {
    await pool.load(makeSpec('export default function ( {'))
    assert.unreachable('loaded')
  } catch (err) {
    assert.is((err as { code: string }).code, 'LAMBKIN_COMPILE_ERROR')
  }
  try {
    await pool.load(makeSpec('export const x = 1'))
    assert.unreachable('loaded')
  } catch (err) {
    assert.is((err as { code: string }).code, 'LAMBKIN_COMPILE_ERROR')
    assert.match((err as Error).message, 'export default')
  }
})

test('warm reuse keeps module state; first call after load is warm when provisioned', async ({ pool }) => {
  const k = await pool.load(makeSpec('let calls = 0\nexport default () => ++calls', { provisioned: 1 }))
  const a = ok(await pool.invoke(k, {}))
  const b = ok(await pool.invoke(k, {}))
  assert.is(a.result, 1)
  assert.is(b.result, 2)
  assert.not.ok(a.coldStart)
})

test("a load's check instance serves the function's first call, its own module and nothing of another's", async ({ pool }) => {
  // Two loads back to back land on the pool's two threads in turn (round robin) and each thread
  // keeps its latest load's check; the second module writes a global at top level, the first
  // reads it at its first call.
  const a = await pool.load(makeSpec('let evaluated = (globalThis.evaluated ?? 0) + 1\nexport default () => ({ evaluated, seen: globalThis.secret ?? null })', { name: 'check-a' }))
  const b = await pool.load(makeSpec("globalThis.secret = 'b'\nlet calls = 0\nexport default () => ({ calls: ++calls, secret: globalThis.secret })", { name: 'check-b' }))
  const fa = ok(await pool.invoke(a, {}))
  const fb = ok(await pool.invoke(b, {}))
  assert.equal(fa.result, { evaluated: 1, seen: null })
  assert.equal(fb.result, { calls: 1, secret: 'b' })
  assert.not.ok(fa.coldStart, 'the first call built an instance instead of taking the check')
  assert.not.ok(fb.coldStart, 'the first call built an instance instead of taking the check')
})

test('a check instance no call claimed is dropped: a later first call is a cold start', async ({ pool }) => {
  const k = await pool.load(makeSpec('let calls = 0\nexport default () => ++calls', { name: 'unclaimed' }))
  // Past the longest a check waits, and the thread's quiet second that drops it sooner.
  await new Promise((resolve) => setTimeout(resolve, CHECK_KEEP_MS + COLLECT_DELAY_MS + 300))
  const o = ok(await pool.invoke(k, {}))
  assert.is(o.result, 1)
  assert.ok(o.coldStart, 'the check instance was still kept')
})

test('a function at the 16 MiB floor is reused warm, not rebuilt each call', async ({ pool }) => {
  const k = await pool.load(makeSpec('let calls = 0\nexport default () => ++calls', { limits: { memoryKiB: 16384 } }))
  const results = []
  for (let i = 0; i < 5; i++) results.push(ok(await pool.invoke(k, {})).result)
  assert.equal(results, [1, 2, 3, 4, 5])
})

test('a full queue answers LAMBKIN_THROTTLED and counts it', async () => {
  const pool = await SandboxPool.create({ workers: 1, queueDepth: 3 })
  try {
    const k = await pool.load(makeSpec('export default () => { let s = 0; for (let i = 0; i < 1e5; i++) s += i; return s }'))
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => pool.invoke(k, {})))
    assert.is(outcomes.filter((o) => o.ok).length, 3)
    for (const o of outcomes.filter((o) => !o.ok)) failed(o, 'LAMBKIN_THROTTLED')
    assert.is(pool.stats(k)?.throttles, 3)
  } finally {
    await pool.close()
  }
})

test('an oversized event is LAMBKIN_INPUT_LIMIT before any sandbox runs', async () => {
  const pool = await SandboxPool.create({ workers: 1, caps: { eventBytes: 100 } as never })
  try {
    const k = await pool.load(makeSpec('export default () => 1'))
    failed(await pool.invoke(k, { big: 'x'.repeat(200) }), 'LAMBKIN_INPUT_LIMIT')
    ok(await pool.invoke(k, { small: 1 }))
  } finally {
    await pool.close()
  }
})

test('concurrency spreads calls over parallel sandboxes', async ({ pool }) => {
  // Each sandbox counts its own calls, so two sandboxes answer 1..a and 1..b with a + b = 40,
  // one sandbox 1..40. (Math.random() could not tell them apart: QuickJS seeds it from the
  // clock in milliseconds, so sandboxes made in the same millisecond share one sequence.)
  const k = await pool.load(makeSpec('let calls = 0\nexport default () => ++calls', { limits: { concurrency: 2 } }))
  const outs = await Promise.all(Array.from({ length: 40 }, () => pool.invoke(k, {})))
  const counts = outs.map((o) => ok(o).result as number).sort((x, y) => x - y)
  const seen = new Map<number, number>()
  for (const c of counts) seen.set(c, (seen.get(c) ?? 0) + 1)
  // Every count is answered by at most two sandboxes, and both answered their first call.
  assert.is(Math.max(...seen.values()), 2, counts.join(' '))
  assert.is(seen.get(1), 2, counts.join(' '))
  // ...and the two runs of counts are each unbroken: 1..a and 1..b.
  const a = [...seen].filter(([, n]) => n === 2).length
  assert.equal(counts, [...Array.from({ length: a }, (_, i) => [i + 1, i + 1]).flat(), ...Array.from({ length: 40 - 2 * a }, (_, i) => a + i + 1)])
})

test('a function that keeps faulting is quarantined with backoff', async () => {
  let now = 1_000_000
  const pool = await SandboxPool.create({ workers: 1, quarantineAfter: 2, quarantineBaseMs: 1000, now: () => now })
  try {
    const k = await pool.load(makeSpec('export default () => { while (true) {} }', { limits: { instructions: 100_000 } }))
    failed(await pool.invoke(k, {}), 'LAMBKIN_INSTRUCTION_LIMIT')
    failed(await pool.invoke(k, {}), 'LAMBKIN_INSTRUCTION_LIMIT')
    const q = failed(await pool.invoke(k, {}), 'LAMBKIN_QUARANTINED')
    assert.is(q.error.details?.retryAfterMs, 1000)
    now += 1001
    failed(await pool.invoke(k, {}), 'LAMBKIN_INSTRUCTION_LIMIT')
    assert.is(failed(await pool.invoke(k, {}), 'LAMBKIN_QUARANTINED').error.details?.retryAfterMs, 2000)
  } finally {
    await pool.close()
  }
})

test('a flood of calls to a function that hangs does not queue a neighbour behind all of them', async () => {
  // One thread for both; the hanging calls stop at their instruction budget, one by one.
  const pool = await SandboxPool.create({ workers: 1, quarantineAfter: 3, quarantineBaseMs: 60_000 })
  try {
    const hang = await pool.load(makeSpec('export default () => { while (true) {} }', { limits: { instructions: 5_000_000 } }))
    const fine = await pool.load(makeSpec('export default (e) => e.n * 2'))
    const flood = Array.from({ length: 60 }, () => pool.invoke(hang, {}))
    const ran = { before: 0 }
    let hangsEnded = 0
    for (const p of flood) void p.then((o) => { if (!o.ok && o.error.code === 'LAMBKIN_INSTRUCTION_LIMIT') hangsEnded++ })
    const neighbour = await pool.invoke(fine, { n: 21 }).then((o) => { ran.before = hangsEnded; return o })
    assert.is(ok(neighbour).result, 42)
    const codes = (await Promise.all(flood)).map((o) => (o as OutcomeFail).error.code)
    // Only the first few were sent ahead; once quarantined, the rest never reached the thread.
    assert.ok(ran.before <= 4, `${ran.before} hanging calls ran before the neighbour`)
    assert.ok(codes.filter((c) => c === 'LAMBKIN_INSTRUCTION_LIMIT').length <= 6, codes.join(' '))
    assert.is(codes.filter((c) => c === 'LAMBKIN_QUARANTINED').length + codes.filter((c) => c === 'LAMBKIN_INSTRUCTION_LIMIT').length, 60)
  } finally {
    await pool.close()
  }
})

test('unknown functions and a closed pool answer with codes', async () => {
  const pool = await SandboxPool.create({ workers: 1 })
  failed(await pool.invoke('nope@1', {}), 'LAMBKIN_FUNCTION_NOT_FOUND')
  await pool.close()
  failed(await pool.invoke('nope@1', {}), 'LAMBKIN_CLOSED')
})

test.run()
