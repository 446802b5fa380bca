// A burst of events for one function reaches its sandbox thread in batches (docs/architecture.md,
// "Sandbox"). Through the invoker, with a real pool and a real LevelDB store: events of one
// function with concurrency 1 are committed in the order they came, each on the state of the
// one before, also when a budget or the thread's death ends one event in the middle of a batch.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { InvocationRecord } from '../../../device/invoke/invoker.js'
import { invokerWorld } from '../../helpers/invoker-world.js'

/**
 * Counts events in ctx.state; `e.blow` exceeds the instruction budget, `e.hang` never polls
 * (the watchdog ends its thread), `e.slow` outlasts the worker's flush.
 */
const COUNTER = `export default (e, ctx) => {
  if (e.blow) for (;;) {}
  if (e.hang) { const s = 'a'.repeat(3e7); let n = 0; for (let i = 0; i < 200; i++) n += s.toUpperCase().length; return n }
  if (e.slow) { let x = 0; for (let i = 0; i < 3e5; i++) x += i }
  ctx.state.n = (ctx.state.n ?? 0) + 1
  return { n: ctx.state.n, i: e.i }
}`

test('a burst is committed in order on carried state, with one event failed by a budget and one by a thread killed mid-batch', async () => {
  const records: InvocationRecord[] = []
  const { pool, store, invoker, close } = await invokerWorld({
    functions: { count: { code: COUNTER, limits: { memoryKiB: 262144, instructions: 2_000_000, timeoutMs: 2000 } } },
    pool: { graceMs: 100, quarantineAfter: 1000 },
    invoker: { maxConcurrent: 100, queueDepth: 100, observers: [(r) => { records.push(r) }] }
  })
  try {
    const n = 16
    const done = await Promise.all(Array.from({ length: n }, (_, i) =>
      invoker.run('count', { source: 'test', i, blow: i === 3, slow: i === 7, hang: i === 8 })))
    assert.equal(done.map((r) => r.ok ? 'ok' : r.code), Array.from({ length: n }, (_, i) => i === 3 ? 'LAMBKIN_INSTRUCTION_LIMIT' : i === 8 ? 'LAMBKIN_TIMEOUT' : 'ok'))
    assert.is(pool.rebuilds, 1, 'the hung event ended its thread')
    const okIs = done.filter((r) => r.ok).map((r) => (r.result as { i: number }).i)
    assert.equal(done.filter((r) => r.ok).map((r) => r.result), okIs.map((i, k) => ({ n: k + 1, i })), 'each event saw the state of the one before it')
    // Committed once each, in the order they came; the state stored is the last event's.
    const stored = await store.read({ kinds: ['result'] })
    assert.equal(stored.map((r) => (r.data as { result: { i: number } }).result.i), okIs)
    const dead = await store.read({ kinds: ['dead-letter'] })
    assert.equal(dead.map((r) => (r.data as { error: { code: string } }).error.code), ['LAMBKIN_INSTRUCTION_LIMIT', 'LAMBKIN_TIMEOUT'])
    assert.equal(await store.getState('count'), { n: okIs.length })
    assert.is(records.length, n)
  } finally {
    await close()
  }
})

test.run()
