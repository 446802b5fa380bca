// How sandboxes are made: memories that start small (V8 forces a full GC each time wasm
// memories add up to 64 MiB more, so 16 MiB each meant a pause every 4th new sandbox), and
// spares made a step at a time so a load arriving meanwhile waits for one step at most.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { compileQuickJS, instantiate, WasmFactory } from '../../../src/sandbox/wasm-factory.js'
import { FunctionInstance, prepare } from '../../../src/sandbox/instance.js'
import { MIN_MEMORY_PAGES, WASM_PAGE_BYTES } from '../../../src/sandbox/budget.js'
import { SandboxPool } from '../../../src/sandbox/index.js'
import type { OutcomeFail, OutcomeOk } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

test('a sandbox\'s wasm memory starts at the build\'s static size, well under the 16 MiB floor of the cap, and still grows to its cap', async () => {
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const k = await pool.load(makeSpec('export default (e) => e.n + 1'))
    const small = await pool.invoke(k, { n: 1 }) as OutcomeOk
    assert.ok(small.ok)
    assert.ok(small.memoryBytes < 8 * 1024 * 1024, `a trivial sandbox holds ${small.memoryBytes} bytes of wasm memory`)
    assert.is(small.memoryLimitBytes, 32768 * 1024)
    const bomb = await pool.load(makeSpec('export default () => { const a = []; while (true) a.push("x".repeat(1024) + a.length) }', { limits: { memoryKiB: 16384, timeoutMs: 10000, instructions: 1e12 } }))
    const o = await pool.invoke(bomb, {}) as OutcomeFail
    assert.is(o.error.code, 'LAMBKIN_MEMORY_LIMIT')
    assert.ok(o.memoryBytes > 15 * 1024 * 1024 && o.memoryBytes <= 16384 * 1024, `high-water ${o.memoryBytes}`)
  } finally {
    await pool.close()
  }
})

test('the compiled build declares its static size as its memory minimum', () => {
  const binary = compileQuickJS()
  assert.ok(binary.initialPages > 1 && binary.initialPages < MIN_MEMORY_PAGES, `${binary.initialPages} pages`)
  assert.ok(binary.initialPages * WASM_PAGE_BYTES < 8 * 1024 * 1024)
})

test('a spare is prepared and a small function loaded and called without growing its memory (no second external-memory record per sandbox)', async () => {
  const binary = compileQuickJS()
  const wasm = await instantiate(binary, MIN_MEMORY_PAGES)
  const first = wasm.memory.buffer
  wasm.prepared = prepare(wasm)
  const spec = makeSpec('export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { i: e.payload.i, hot: e.payload.value > 25 } }', { limits: { memoryKiB: 16384 } })
  const meta = JSON.stringify({ fn: spec.name, version: spec.version, deviceId: 'd', env: {}, perms: [], caps: {} })
  const { instance, failure } = FunctionInstance.create(spec, wasm, Date.now, meta)
  assert.is(failure, undefined)
  for (let i = 0; i < 200; i++) {
    const r = instance.invoke(JSON.stringify({ topic: 't', payload: { i, value: 20 + (i % 10) } }), `id${i}`, undefined, undefined, -1, Date.now() + 1000, 1000, 1e7)
    assert.is(r.failure, undefined)
  }
  assert.is(wasm.memory.buffer, first, `the memory grew from ${binary.initialPages} to ${wasm.memory.buffer.byteLength / WASM_PAGE_BYTES} pages`)
  instance.dispose()
})

test('spares are made one step per turn of the event loop, and not while the thread has work', async () => {
  const factory = new WasmFactory(compileQuickJS(), 2, prepare)
  await factory.prime(MIN_MEMORY_PAGES)
  assert.is(factory.spares(MIN_MEMORY_PAGES), 2)
  await factory.take(MIN_MEMORY_PAGES)
  await factory.take(MIN_MEMORY_PAGES)
  assert.is(factory.spares(MIN_MEMORY_PAGES), 0)
  // Work arrives (a message handled in a later turn): the refill stops at its next step.
  let busy = false
  setImmediate(() => { busy = true })
  await factory.refill(() => !busy)
  assert.ok(factory.spares(MIN_MEMORY_PAGES) < 2, 'the refill went on while the thread had work')
  busy = false
  await factory.refill(() => !busy)
  assert.is(factory.spares(MIN_MEMORY_PAGES), 2)
})

test('a cap left out of keepOnly() loses its spares and is not refilled; the kept one keeps them', async () => {
  const factory = new WasmFactory(compileQuickJS(), 1, prepare)
  const other = MIN_MEMORY_PAGES * 2
  await factory.prime(MIN_MEMORY_PAGES)
  await factory.prime(other)
  assert.is(factory.spares(MIN_MEMORY_PAGES), 1)
  assert.is(factory.spares(other), 1)
  factory.keepOnly(new Set([other]))
  assert.is(factory.spares(MIN_MEMORY_PAGES), 0)
  assert.is(factory.spares(other), 1)
  await factory.refill(() => true)
  assert.is(factory.spares(MIN_MEMORY_PAGES), 0, 'a dropped cap was refilled')
  const fresh = await factory.take(MIN_MEMORY_PAGES)
  assert.is(fresh.spare, false)
  assert.is(fresh.instance.memory.buffer.byteLength, compileQuickJS().initialPages * WASM_PAGE_BYTES)
  assert.is((await factory.take(other)).spare, true)
})

test.run()
