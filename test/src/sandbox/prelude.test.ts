// What the glue sets up in every context before user code: host helpers taken off the global
// object, and a Math.random that differs between sandboxes made at the same moment.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { compileQuickJS, instantiate } from '../../../src/sandbox/wasm-factory.js'
import { FunctionInstance, prepare } from '../../../src/sandbox/instance.js'
import { INTRINSICS_MODULE } from '../../../src/sandbox/prelude-intrinsics.js'
import { GLUE_MODULES } from '../../../src/sandbox/prelude.js'
import { IO_CAP_DEFAULTS } from '../../../src/sandbox/options.js'
import { makeSpec } from '../../helpers/spec.js'
import { MIN_MEMORY_PAGES } from '../../../src/sandbox/budget.js'

test('Math.random differs between sandboxes made in the same millisecond, and stays in [0, 1)', async () => {
  // QuickJS seeds its generator from the clock in milliseconds: contexts made back to back
  // used to answer the same first number.
  // The clock is held still while the contexts are made, as if all were made in one millisecond.
  const wasm = await instantiate(compileQuickJS(), MIN_MEMORY_PAGES)
  const realNow = Date.now
  const made = []
  try {
    Date.now = () => 1_767_225_600_000
    for (let i = 0; i < 16; i++) made.push(prepare(wasm))
  } finally {
    Date.now = realNow
  }
  const firsts: number[] = []
  for (const p of made) {
    const draws = p.ctx.dump(p.ctx.unwrapResult(p.ctx.evalCode('Array.from({ length: 2000 }, () => Math.random())'))) as number[]
    firsts.push(draws[0])
    assert.ok(draws.every((d) => d >= 0 && d < 1))
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length
    assert.ok(mean > 0.45 && mean < 0.55, `mean ${mean}`)
    assert.is(new Set(draws).size, draws.length)
  }
  assert.is(new Set(firsts).size, firsts.length, firsts.join(' '))
})

test('the host helpers are not left on the global object', async () => {
  const wasm = await instantiate(compileQuickJS(), MIN_MEMORY_PAGES)
  const p = prepare(wasm)
  const seen = p.ctx.dump(p.ctx.unwrapResult(p.ctx.evalCode("Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith('__lambkin_') && n !== '__lambkin_init' && n !== '__lambkin_run')")))
  assert.equal(seen, [])
})

test("a function's imports cannot reach the glue's own modules", async () => {
  const binary = compileQuickJS()
  const staticJson = JSON.stringify({ fn: 'f', version: '1', deviceId: 'd', env: {}, perms: [], caps: IO_CAP_DEFAULTS })
  const names = [...GLUE_MODULES.map(([name]) => name), `.${INTRINSICS_MODULE}`, `./${INTRINSICS_MODULE}`, `..${INTRINSICS_MODULE}`, INTRINSICS_MODULE.slice(1)]
  assert.ok(names.includes('/lambkin/prelude') && names.length >= 9)
  for (const name of names) {
    const layouts: Array<Record<string, string>> = [
      { 'index.js': `import * as m from ${JSON.stringify(name)}\nexport default () => Object.keys(m)` },
      { 'index.js': "import { f } from './lib/f.js'\nexport default f", 'lib/f.js': `import * as m from ${JSON.stringify(name)}\nexport const f = () => Object.keys(m)` }
    ]
    for (const files of layouts) {
      const wasm = await instantiate(binary, MIN_MEMORY_PAGES)
      const { instance, failure } = FunctionInstance.create(makeSpec('', { files }), wasm, Date.now, staticJson)
      assert.ok(failure !== undefined, `${name} was imported`)
      assert.match(failure.message, /not (found|in function\.json)|outside the function folder/)
      instance.dispose()
    }
    // And at run time, through import().
    const wasm = await instantiate(binary, MIN_MEMORY_PAGES)
    const { instance, failure } = FunctionInstance.create(makeSpec(`export default async () => Object.keys(await import(${JSON.stringify(name)}))`), wasm, Date.now, staticJson)
    assert.is(failure, undefined)
    const r = instance.invoke('{}', 'id', undefined, undefined, -1, Date.now() + 1000, 1000, 1e7)
    assert.ok(r.failure !== undefined || (r.envelope ?? '').startsWith('{"ok":false'), `${name}: ${r.envelope ?? ''}`)
    instance.dispose()
  }
})

test.run()
