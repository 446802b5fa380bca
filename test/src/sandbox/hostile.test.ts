// [DESIGN 3] Each hostile function must end with its own code, promptly, and the process must
// then run a normal function. These run on one shared pool, so a survivor proves isolation.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import type { Outcome, OutcomeFail } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

const test = suite<{ pool: SandboxPool, healthy: string }>('hostile functions', { pool: undefined as never, healthy: '' })

test.before(async (ctx) => {
  ctx.pool = await SandboxPool.create({ workers: 2, graceMs: 100, quarantineAfter: 1000 })
  ctx.healthy = await ctx.pool.load(makeSpec('export default (e) => ({ echo: e.n })', { name: 'healthy' }))
})
test.after(async (ctx) => { await ctx.pool.close() })

async function expectCode (pool: SandboxPool, healthy: string, code: string, source: string, limits = {}, publish: string[] = []): Promise<OutcomeFail> {
  const k = await pool.load(makeSpec(source, { limits: { timeoutMs: 500, ...limits }, publish }))
  const o: Outcome = await pool.invoke(k, { n: 1 })
  assert.not.ok(o.ok, `expected ${code}, got success`)
  const f = o as OutcomeFail
  assert.is(f.error.code, code, f.error.message)
  // The neighbour still works, and so does the hostile function's own next call path.
  const h = await pool.invoke(healthy, { n: 7 })
  assert.ok(h.ok, 'healthy neighbour failed after hostile call')
  assert.equal((h as { result: unknown }).result, { echo: 7 })
  return f
}

test('infinite loop ends with LAMBKIN_TIMEOUT', async ({ pool, healthy }) => {
  await expectCode(pool, healthy, 'LAMBKIN_TIMEOUT', 'export default () => { while (true) {} }', { timeoutMs: 200, instructions: 1e12 })
})

test('infinite loop under a small instruction budget ends with LAMBKIN_INSTRUCTION_LIMIT', async ({ pool, healthy }) => {
  await expectCode(pool, healthy, 'LAMBKIN_INSTRUCTION_LIMIT', 'export default () => { for (;;) {} }', { instructions: 1_000_000 })
})

test('catastrophic regex ends with LAMBKIN_TIMEOUT (this QuickJS regex engine polls the interrupt handler)', async ({ pool, healthy }) => {
  const f = await expectCode(pool, healthy, 'LAMBKIN_TIMEOUT', "export default () => /(a+)+b/.test('a'.repeat(40))", { timeoutMs: 200, instructions: 1e12 })
  assert.ok(f.error.message.length > 0)
})

// Native built-ins over huge strings never reach the interrupt handler: only the watchdog
// on the main thread can stop them, by ending the sandbox thread and rebuilding it.
const NEVER_POLLS = "export default () => { const s = 'a'.repeat(3e7); let n = 0; for (let i = 0; i < 20; i++) n += s.toUpperCase().length; return n }"

test('work that never polls the interrupt handler is ended by the watchdog', async ({ pool, healthy }) => {
  const before = pool.rebuilds
  const f = await expectCode(pool, healthy, 'LAMBKIN_TIMEOUT', NEVER_POLLS, { timeoutMs: 50, instructions: 1e12, memoryKiB: 262144 })
  assert.is(f.error.details?.watchdog, true)
  assert.is(pool.rebuilds, before + 1)
})

test('array growth until out of memory ends with LAMBKIN_MEMORY_LIMIT', async ({ pool, healthy }) => {
  await expectCode(pool, healthy, 'LAMBKIN_MEMORY_LIMIT', 'export default () => { const a = []; while (true) a.push(new Array(1000).fill(1)) }', { timeoutMs: 5000, instructions: 1e12 })
})

test('string doubling ends with LAMBKIN_MEMORY_LIMIT', async ({ pool, healthy }) => {
  await expectCode(pool, healthy, 'LAMBKIN_MEMORY_LIMIT', "export default () => { let s = 'x'; while (true) s = s + s; }", { timeoutMs: 5000, instructions: 1e12 })
})

test('unbounded recursion ends with LAMBKIN_STACK_LIMIT', async ({ pool, healthy }) => {
  await expectCode(pool, healthy, 'LAMBKIN_STACK_LIMIT', 'function f (n) { return f(n + 1) + 1 }\nexport default () => f(0)')
})

test('JSON.parse of 100,000 nested [ ends with LAMBKIN_STACK_LIMIT', async ({ pool, healthy }) => {
  await expectCode(pool, healthy, 'LAMBKIN_STACK_LIMIT', "export default () => JSON.parse('['.repeat(100000))")
})

test('a promise that never settles ends with LAMBKIN_TIMEOUT at once', async ({ pool, healthy }) => {
  const f = await expectCode(pool, healthy, 'LAMBKIN_TIMEOUT', 'export default () => new Promise(() => {})', { timeoutMs: 60000 })
  assert.is(f.error.details?.reason, 'never-settles')
})

test('a 50 MB result ends with LAMBKIN_OUTPUT_LIMIT', async ({ pool, healthy }) => {
  const f = await expectCode(pool, healthy, 'LAMBKIN_OUTPUT_LIMIT', "export default () => 'x'.repeat(50 * 1024 * 1024)", { memoryKiB: 262144, timeoutMs: 5000 })
  assert.is(f.error.details?.limit, 'resultBytes')
})

test('publishing outside permissions ends with LAMBKIN_PERMISSION_DENIED', async ({ pool, healthy }) => {
  await expectCode(pool, healthy, 'LAMBKIN_PERMISSION_DENIED', "export default (e, ctx) => ctx.publish('cmd/reboot', 'now')", {}, ['alarms/#'])
})

test('no ambient authority: require, process, fetch, timers and host objects are absent', async ({ pool, healthy }) => {
  const k = await pool.load(makeSpec(`export default () => ({
    require: typeof require, process: typeof process, fetch: typeof fetch, setTimeout: typeof setTimeout,
    Buffer: typeof Buffer, WebAssembly: typeof WebAssembly, std: typeof std, os: typeof os,
    viaFunction: (() => { try { return typeof Function('return this')().process } catch (e) { return 'threw' } })(),
    viaConstructor: (() => { try { return typeof ({}).constructor.constructor('return process')() } catch (e) { return 'threw' } })()
  })`))
  const o = await pool.invoke(k, {})
  assert.ok(o.ok)
  assert.equal((o as { result: unknown }).result, {
    require: 'undefined',
    process: 'undefined',
    fetch: 'undefined',
    setTimeout: 'undefined',
    Buffer: 'undefined',
    WebAssembly: 'undefined',
    std: 'undefined',
    os: 'undefined',
    viaFunction: 'undefined',
    viaConstructor: 'threw'
  })
  await expectCode(pool, healthy, 'LAMBKIN_FUNCTION_ERROR', "export default () => require('fs')")
  await expectCode(pool, healthy, 'LAMBKIN_FUNCTION_ERROR', "import fs from 'node:fs'\nexport default () => fs", {})
    .catch((err: { code?: string }) => assert.is(err.code, 'LAMBKIN_COMPILE_ERROR'))
})

test('prototype pollution of ctx and globals stays inside the sandbox', async ({ pool, healthy }) => {
  const k = await pool.load(makeSpec(`export default (e, ctx) => {
    const out = {}
    try { ctx.publish = () => 'hijacked' } catch (err) { out.assign = err.name }
    try { Object.getPrototypeOf(ctx).polluted = 'yes'; out.proto = 'set' } catch (err) { out.proto = err.name }
    Object.prototype.evil = 'yes'
    JSON.stringify = () => '"tampered"'
    Array.prototype.push = () => { throw new Error('pwned') }
    try { ctx.publish('x/y', 1) } catch (err) { out.publish = err.message.slice(0, 22) }
    ctx.log('still logging')
    return out
  }`))
  const o = await pool.invoke(k, {})
  assert.ok(o.ok, (o as OutcomeFail).error?.message)
  const r = (o as { result: Record<string, string> }).result
  assert.is(r.assign, 'TypeError')
  assert.is(r.publish, 'publishing to "x/y" is')
  assert.equal(o.logs.map((l) => l.msg), ['still logging'])
  assert.is(({} as Record<string, unknown>).evil, undefined)
  assert.is(({} as Record<string, unknown>).polluted, undefined)
  const h = await pool.invoke(healthy, { n: 3 })
  assert.ok(h.ok)
})

test('a module whose top-level code never ends fails to load and the pool lives', async ({ pool, healthy }) => {
  try {
    await pool.load(makeSpec('while (true) {}\nexport default () => 1', { limits: { timeoutMs: 200, instructions: 1e12 } }))
    assert.unreachable('loaded')
  } catch (err) {
    assert.is((err as { code: string }).code, 'LAMBKIN_TIMEOUT')
  }
  const h = await pool.invoke(healthy, { n: 9 })
  assert.ok(h.ok)
})

test('calls queued behind a watchdog kill on the same thread are re-sent, not lost', async () => {
  // One thread, so the neighbour's calls are queued in the very thread the watchdog ends.
  const pool = await SandboxPool.create({ workers: 1, graceMs: 50 })
  try {
    const bad = await pool.load(makeSpec(NEVER_POLLS, { limits: { timeoutMs: 50, instructions: 1e12, memoryKiB: 262144 } }))
    const healthy = await pool.load(makeSpec('export default (e) => ({ echo: e.n })'))
    const calls = [pool.invoke(bad, {}), ...Array.from({ length: 20 }, (_, n) => pool.invoke(healthy, { n }))]
    const outs = await Promise.all(calls)
    assert.is((outs[0] as OutcomeFail).error.details?.watchdog, true)
    assert.equal(outs.slice(1).map((o) => (o as { result: { echo: number } }).result.echo), Array.from({ length: 20 }, (_, n) => n))
    assert.is(pool.rebuilds, 1)
  } finally {
    await pool.close()
  }
})

test.run()
