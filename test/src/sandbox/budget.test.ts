// Calibrates the budgets the docs promise: what an "instruction" is, that the memory cap is
// the wasm instance's hard ceiling, and how the stack limit behaves.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool, INSTRUCTIONS_PER_POLL } from '../../../src/sandbox/index.js'
import type { OutcomeFail, OutcomeOk } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

const test = suite<{ pool: SandboxPool }>('sandbox budgets', { pool: undefined as never })
test.before(async (ctx) => { ctx.pool = await SandboxPool.create({ workers: 1 }) })
test.after(async (ctx) => { await ctx.pool.close() })

const LOOP = 'export default (e) => { let s = 0; for (let i = 0; i < e.n; i++) s += i; return s }'

test('a plain loop costs about 2 instructions per iteration, counted in polls of 10,000', async ({ pool }) => {
  // A wide time budget: this counts instructions, and a loaded machine must not turn it into a timeout.
  const k = await pool.load(makeSpec(LOOP, { limits: { instructions: 1e9, timeoutMs: 60_000 } }))
  const small = await pool.invoke(k, { n: 1_000_000 }) as OutcomeOk
  const big = await pool.invoke(k, { n: 4_000_000 }) as OutcomeOk
  assert.ok(small.ok && big.ok, `both calls finish: ${JSON.stringify([small.ok ? 'ok' : (small as unknown as OutcomeFail).error.code, big.ok ? 'ok' : (big as unknown as OutcomeFail).error.code])}`)
  assert.is(small.instructions % INSTRUCTIONS_PER_POLL, 0)
  assert.ok(small.instructions >= 1_000_000 && small.instructions <= 4_000_000, `1e6 iterations counted ${small.instructions}`)
  const ratio = big.instructions / small.instructions
  assert.ok(ratio > 3.5 && ratio < 4.5, `4x the work counted ${ratio}x`)
})

test('the instruction budget stops work past it and the count resets per call', async ({ pool }) => {
  const k = await pool.load(makeSpec(LOOP, { limits: { instructions: 1_000_000 } }))
  const over = await pool.invoke(k, { n: 10_000_000 }) as OutcomeFail
  assert.is(over.error.code, 'LAMBKIN_INSTRUCTION_LIMIT')
  // 100,000 iterations is ~200,000 instructions: it fits each time, so nothing accumulates.
  for (let i = 0; i < 10; i++) {
    const o = await pool.invoke(k, { n: 100_000 })
    assert.ok(o.ok, `call ${i} failed`)
  }
})

test('memory high-water never passes the cap, and the cap follows memoryKiB', async ({ pool }) => {
  const bomb = 'export default () => { const a = []; while (true) a.push("x".repeat(1024) + a.length) }'
  for (const memoryKiB of [16384, 32768, 65536]) {
    const k = await pool.load(makeSpec(bomb, { limits: { memoryKiB, timeoutMs: 10000, instructions: 1e12 } }))
    const o = await pool.invoke(k, {}) as OutcomeFail
    assert.is(o.error.code, 'LAMBKIN_MEMORY_LIMIT')
    assert.is(o.memoryLimitBytes, memoryKiB * 1024)
    assert.ok(o.memoryBytes <= memoryKiB * 1024, `high-water ${o.memoryBytes} over cap`)
  }
})

test('a function may use memory up to its cap', async ({ pool }) => {
  const k = await pool.load(makeSpec('export default () => { const a = new Array(2_000_000).fill(7); return a.length }', { limits: { memoryKiB: 65536 } }))
  const o = await pool.invoke(k, {}) as OutcomeOk
  assert.ok(o.ok)
  assert.is(o.result, 2_000_000)
  assert.ok(o.memoryBytes > 16 * 1024 * 1024)
})

test('stack limit: moderate recursion fits, deep recursion is LAMBKIN_STACK_LIMIT at every allowed stackKiB', async ({ pool }) => {
  const src = 'function f (n) { return n === 0 ? 0 : f(n - 1) + 1 }\nexport default (e) => f(e.depth)'
  // About 5.3 frames fit per KiB; 4 per KiB must always fit.
  for (const stackKiB of [16, 64, 128, 512]) {
    const k = await pool.load(makeSpec(src, { limits: { stackKiB } }))
    const fits = await pool.invoke(k, { depth: stackKiB * 4 })
    assert.ok(fits.ok, `depth ${stackKiB * 4} failed at ${stackKiB} KiB`)
    const deep = await pool.invoke(k, { depth: 1_000_000 }) as OutcomeFail
    assert.is(deep.error.code, 'LAMBKIN_STACK_LIMIT', `stackKiB ${stackKiB}`)
    const nested = await pool.load(makeSpec("export default () => JSON.parse('['.repeat(100000))", { limits: { stackKiB } }))
    assert.is((await pool.invoke(nested, {}) as OutcomeFail).error.code, 'LAMBKIN_STACK_LIMIT', `JSON at ${stackKiB} KiB`)
  }
})

test('caps on logs, publishes and state each end with LAMBKIN_OUTPUT_LIMIT naming the cap', async ({ pool }) => {
  const cases: Array<[string, string]> = [
    ["export default (e, ctx) => { for (let i = 0; i < 10000; i++) ctx.log('x'.repeat(100)) }", 'logBytes'],
    ["export default (e, ctx) => { for (let i = 0; i < 101; i++) ctx.publish('a/b', i) }", 'maxPublishes'],
    ["export default (e, ctx) => { ctx.publish('a/b', 'x'.repeat(200000)) }", 'publishBytes'],
    ["export default (e, ctx) => { ctx.state.big = 'x'.repeat(100000) }", 'stateBytes'],
    ['export default (e, ctx) => { for (let i = 0; i < 101; i++) ctx.emit(i) }', 'maxEmits']
  ]
  for (const [src, limit] of cases) {
    const k = await pool.load(makeSpec(src, { publish: ['#'] }))
    const o = await pool.invoke(k, {}) as OutcomeFail
    assert.is(o.error?.code, 'LAMBKIN_OUTPUT_LIMIT', limit)
    assert.is(o.error.details?.limit, limit)
  }
})

test.run()
