// Calls invoked in the same turn travel to their worker in one message and run there one after
// another (docs/architecture.md, "Sandbox"): every guarantee still holds per call. A budget one
// call blows fails that call alone; a thread that dies mid-batch fails only the call it was
// running, keeps every outcome already handed over, and runs the rest again on the new thread
// from the newest state handed over, never from an older one.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import type { Outcome, OutcomeFail, OutcomeOk } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

const test = suite('sandbox batches')

const ok = (o: Outcome): OutcomeOk => {
  assert.ok(o.ok, o.ok ? '' : `${o.error.code}: ${o.error.message}`)
  return o as OutcomeOk
}

/**
 * Counts its calls in ctx.state. `e.blow` picks a budget to blow; `e.hang` does host work that
 * never polls the interrupt handler (only the watchdog ends it); `e.slow` runs long enough
 * (well past the worker's 2 ms flush) that the outcomes before it are handed over first.
 */
const COUNTER = `export default (e, ctx) => {
  if (e.blow === 'instructions') for (;;) {}
  if (e.blow === 'memory') { const a = []; for (;;) a.push(new Array(1000).fill(1)) }
  if (e.blow === 'stack') { const f = (n) => f(n + 1) + 1; f(0) }
  if (e.blow === 'throw') throw new Error('event ' + e.i)
  if (e.hang) { const s = 'a'.repeat(3e7); let n = 0; for (let i = 0; i < 20; i++) n += s.toUpperCase().length; return n }
  if (e.slow) { let x = 0; for (let i = 0; i < 2e6; i++) x += i }
  ctx.state.n = (ctx.state.n ?? 0) + 1
  return { n: ctx.state.n, i: e.i }
}`

test('a budget blown by one call of a batch fails that call alone; the others run in order on the state before them', async () => {
  const pool = await SandboxPool.create({ workers: 1, quarantineAfter: 1000 })
  try {
    const k = await pool.load(makeSpec(COUNTER, { limits: { memoryKiB: 16384, instructions: 10_000_000, timeoutMs: 10_000 } }))
    const blows: Record<number, string> = { 2: 'instructions', 4: 'memory', 5: 'stack', 7: 'throw' }
    // All invoked in one turn: one batch, one thread, one instance until a budget discards it.
    const outs = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.invoke(k, { i, blow: blows[i] }, { state: {}, stateVersion: 0 })))
    const codes = outs.map((o) => o.ok ? 'ok' : o.error.code)
    assert.equal(codes, ['ok', 'ok', 'LAMBKIN_INSTRUCTION_LIMIT', 'ok', 'LAMBKIN_MEMORY_LIMIT', 'LAMBKIN_STACK_LIMIT', 'ok', 'LAMBKIN_FUNCTION_ERROR', 'ok', 'ok'])
    // The state of every good call reached the next one, across the instances the faults discarded.
    const good = outs.filter((o) => o.ok).map((o) => ok(o).result)
    assert.equal(good, [0, 1, 3, 6, 8, 9].map((i, n) => ({ n: n + 1, i })))
    // The budgets are reset per call: the instruction count of a good call after the blown one is its own.
    assert.ok(outs[3].instructions < 1_000_000, `call 3 counted ${outs[3].instructions} instructions`)
    assert.is(pool.rebuilds, 0, 'no budget needed the thread to die')
  } finally {
    await pool.close()
  }
})

test('a thread that dies mid-batch fails the call it ran, keeps the outcomes handed over and runs the rest from the newest state', async () => {
  const pool = await SandboxPool.create({ workers: 1, graceMs: 50, quarantineAfter: 1000 })
  try {
    const k = await pool.load(makeSpec(COUNTER, { limits: { memoryKiB: 262144, instructions: 1e12, timeoutMs: 5000 } }))
    const seen: number[] = []
    const calls = Array.from({ length: 20 }, (_, i) => {
      // Call 9 is slow, so calls 0-9 are handed over before call 10 hangs the thread.
      const p = pool.invoke(k, { i, slow: i === 9, hang: i === 10 }, { state: {}, stateVersion: 0, timeoutMs: i === 10 ? 50 : undefined })
      return p.then((o) => { seen.push(i); return o })
    })
    const outs = await Promise.all(calls)
    const hung = outs[10] as OutcomeFail
    assert.not.ok(hung.ok)
    assert.is(hung.error.code, 'LAMBKIN_TIMEOUT')
    assert.is(hung.error.details?.watchdog, true)
    assert.is(pool.rebuilds, 1)
    const good = outs.filter((o) => o.ok).map((o) => ok(o).result as { n: number, i: number })
    // Every other call ran once, in order, each on the state of the one before it: the calls
    // re-sent to the new thread went on from call 9's state, not from the copy they were sent with.
    assert.equal(good.map((r) => r.i), [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 9 }, (_, i) => i + 11)])
    assert.equal(good.map((r) => r.n), Array.from({ length: 19 }, (_, i) => i + 1))
    assert.equal(outs.filter((o) => o.ok).map((o) => ok(o).stateVersion), Array.from({ length: 19 }, (_, i) => i + 1))
    assert.equal(seen.slice(0, 10), Array.from({ length: 10 }, (_, i) => i), 'the outcomes handed over before the crash came first')
  } finally {
    await pool.close()
  }
})

test('calls without a state version keep the state they were sent with after a crash', async () => {
  const pool = await SandboxPool.create({ workers: 1, graceMs: 50, quarantineAfter: 1000 })
  try {
    const k = await pool.load(makeSpec(COUNTER, { limits: { memoryKiB: 262144, instructions: 1e12, timeoutMs: 5000 } }))
    const outs = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      pool.invoke(k, { i, slow: i === 1, hang: i === 2 }, { state: { n: 100 }, timeoutMs: i === 2 ? 50 : undefined })))
    assert.is((outs[2] as OutcomeFail).error.code, 'LAMBKIN_TIMEOUT')
    // No version: the caller manages the state, and each call starts from the copy it gave.
    assert.equal(outs.filter((o) => o.ok).map((o) => (ok(o).result as { n: number }).n), [101, 101, 101, 101, 101])
  } finally {
    await pool.close()
  }
})

test('each call of a batch gets its own state and trace id, repeated or not', async () => {
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const k = await pool.load(makeSpec('export default (e, ctx) => ({ tag: ctx.state.tag ?? null, trace: ctx.traceId === ctx.invocationId ? null : ctx.traceId })'))
    const a = JSON.stringify({ tag: 'a' })
    // The same string for neighbours (as the invoker hands them) travels once; equal copies and changes do not mix up.
    const states = [a, a, JSON.stringify({ tag: 'b' }), undefined, a, JSON.stringify({ tag: 'a' }), undefined, '{"tag":"constructor"}']
    const traces = [undefined, 't1', undefined, undefined, 't1', 't2', undefined, undefined]
    const outs = await Promise.all(states.map((stateJson, i) => pool.invoke(k, { i }, { stateJson, traceId: traces[i] })))
    assert.equal(outs.map((o) => ok(o).result), states.map((json, i) => ({
      tag: json === undefined ? null : (JSON.parse(json) as { tag: string }).tag,
      trace: traces[i] ?? null
    })))
    // A batch with neither states nor trace ids.
    const plain = await Promise.all([1, 2, 3].map((i) => pool.invoke(k, { i })))
    assert.equal(plain.map((o) => ok(o).result), [1, 2, 3].map(() => ({ tag: null, trace: null })))
  } finally {
    await pool.close()
  }
})

test('the outcomes of a long batch are handed over while its later calls still run', async () => {
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const k = await pool.load(makeSpec('export default (e) => { if (e.slow) { const t = Date.now(); while (Date.now() - t < 1000) {} } return e.i }', { limits: { timeoutMs: 10_000, instructions: 1e12 } }))
    // Calls that end widen the function's send-ahead window, so 200 invoked at once go as one batch.
    for (let r = 0; r < 6; r++) await Promise.all(Array.from({ length: 100 }, (_, i) => pool.invoke(k, { i })))
    let slowDone = false
    const outs = Array.from({ length: 200 }, (_, i) => pool.invoke(k, { i, slow: i === 150 }))
    void outs[150].then(() => { slowDone = true })
    ok(await outs[0])
    await new Promise((resolve) => setImmediate(resolve))
    // Half the batch done (well within the 2 ms flush), its outcomes went back at once: not
    // held until the slow call ended, so the main thread answers them while the thread works.
    assert.is(slowDone, false, 'the first outcome came only with the slow call\'s')
    assert.equal((await Promise.all(outs)).map((o) => ok(o).result), Array.from({ length: 200 }, (_, i) => i))
  } finally {
    await pool.close()
  }
})

test.run()
