// Field tests of this round's kept check instance (src/sandbox/worker-quiet.ts, worker.ts): the
// instance a load evaluated the module on serves the function's first call. It must be that
// function's own module, evaluated once, with nothing of the load's work counted against the
// call, after a redeploy, an unload or a thread rebuilt by the watchdog alike.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import type { Outcome, OutcomeFail, OutcomeOk } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

function ok (o: Outcome): OutcomeOk {
  if (!o.ok) assert.unreachable(`expected success, got ${o.error.code}: ${o.error.message}`)
  return o as OutcomeOk
}

/** A module counting its evaluations (a global) and calls (a module variable). */
const COUNTING = (tag: string): string => `globalThis.loads = (globalThis.loads ?? 0) + 1
let calls = 0
export default () => ({ tag: '${tag}', loads: globalThis.loads, calls: ++calls })`

test('top-level work that takes most of the instruction budget is not counted against the first call on the check', async () => {
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const limits = { instructions: 1_000_000, timeoutMs: 30_000 }
    const loop = (n: number): string => `{ let x = 0; for (let i = 0; i < ${n}; i++) x += i % 7; globalThis.sink = x }`
    // A loop that fits the budget once but not twice, found on this build.
    let n = 0
    for (const tryN of [300_000, 350_000, 450_000]) {
      const once = await pool.load(makeSpec(`export default () => ${loop(tryN)}`, { limits }))
      const twice = await pool.load(makeSpec(`export default () => { ${loop(tryN)}; ${loop(tryN)} }`, { limits }))
      const [a, b] = [await pool.invoke(once, {}), await pool.invoke(twice, {})]
      if (a.ok && !b.ok && (b as OutcomeFail).error.code === 'LAMBKIN_INSTRUCTION_LIMIT') { n = tryN; break }
    }
    assert.ok(n > 0, 'no loop size fits the budget once and not twice')
    const k = await pool.load(makeSpec(`${loop(n)}\nexport default () => { ${loop(n)}; return 'done' }`, { limits }))
    const first = ok(await pool.invoke(k, {}))
    assert.is(first.result, 'done')
    // What the call reports as its own work is the handler's alone, as on the next call.
    assert.is(first.instructions, ok(await pool.invoke(k, {})).instructions)
    assert.not.ok(first.coldStart, 'the first call did not take the check, so this proves nothing')
  } finally {
    await pool.close()
  }
})

test('a new version loaded while the old one\'s check is kept: each version runs its own module, evaluated once', async () => {
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const v1 = await pool.load(makeSpec(COUNTING('v1'), { name: 'redeployed', version: '1' }))
    const v2 = await pool.load(makeSpec(COUNTING('v2'), { name: 'redeployed', version: '2' }))
    pool.unload(v1)
    assert.equal(ok(await pool.invoke(v2, {})).result, { tag: 'v2', loads: 1, calls: 1 })
    assert.is((await pool.invoke(v1, {}) as OutcomeFail).error.code, 'LAMBKIN_FUNCTION_NOT_FOUND')
    // Unloaded while its check is kept, then loaded again: a fresh module, not the dropped check.
    const v3 = await pool.load(makeSpec(COUNTING('v3'), { name: 'again', version: '3' }))
    pool.unload(v3)
    const v3again = await pool.load(makeSpec(COUNTING('v3'), { name: 'again', version: '3' }))
    assert.equal(ok(await pool.invoke(v3again, {})).result, { tag: 'v3', loads: 1, calls: 1 })
  } finally {
    await pool.close()
  }
})

// Native work over huge strings never polls the interrupt handler: the watchdog ends the thread.
const NEVER_POLLS = "export default () => { const s = 'a'.repeat(3e7); let n = 0; for (let i = 0; i < 20; i++) n += s.toUpperCase().length; return n }"

test('the thread ended by the watchdog while another function\'s check is kept: that function\'s first call runs its module once, on the new thread', async () => {
  const pool = await SandboxPool.create({ workers: 1, graceMs: 50 })
  try {
    const bad = await pool.load(makeSpec(NEVER_POLLS, { limits: { timeoutMs: 50, instructions: 1e12, memoryKiB: 262144 } }))
    const kept = await pool.load(makeSpec(COUNTING('kept')))
    const f = await pool.invoke(bad, {}) as OutcomeFail
    assert.is(f.error.details?.watchdog, true)
    assert.is(pool.rebuilds, 1)
    assert.equal(ok(await pool.invoke(kept, {})).result, { tag: 'kept', loads: 1, calls: 1 })
    assert.equal(ok(await pool.invoke(kept, {})).result, { tag: 'kept', loads: 1, calls: 2 })
  } finally {
    await pool.close()
  }
})

test.run()
