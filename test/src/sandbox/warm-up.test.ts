// A sandbox thread warms its load and call path once at start (src/sandbox/warm-up.ts), in a
// scratch QuickJS runtime inside its first spare's wasm instance: the spare must come out as
// it went in, a clean prepared context for the first function that takes it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { compileQuickJS, instantiate, WasmFactory } from '../../../src/sandbox/wasm-factory.js'
import type { WasmInstance } from '../../../src/sandbox/wasm-factory.js'
import { FunctionInstance, prepare } from '../../../src/sandbox/instance.js'
import { IO_CAP_DEFAULTS } from '../../../src/sandbox/options.js'
import { warmUp } from '../../../src/sandbox/warm-up.js'
import { MIN_MEMORY_PAGES } from '../../../src/sandbox/budget.js'
import { makeSpec } from '../../helpers/spec.js'

const STATIC_JSON = JSON.stringify({ fn: 'f', version: '1', deviceId: 'd', env: {}, perms: [], caps: IO_CAP_DEFAULTS })
const GLOBALS = 'export default () => Object.getOwnPropertyNames(globalThis).sort().join(",")'

function globalsOf (wasm: WasmInstance): string {
  const { instance, failure } = FunctionInstance.create(makeSpec(GLOBALS), wasm, Date.now, STATIC_JSON)
  assert.is(failure, undefined)
  const r = instance.invoke('{}', 'id', undefined, undefined, -1, Date.now() + 1000, 1000, 1e7)
  instance.dispose()
  return JSON.parse(r.envelope ?? '{}').r as string
}

test('warming up runs a function to its result and leaves the spare\'s own context as a fresh one', async () => {
  const binary = compileQuickJS()
  const spare = await instantiate(binary, MIN_MEMORY_PAGES)
  spare.prepared = prepare(spare)
  const fresh = await instantiate(binary, MIN_MEMORY_PAGES)
  fresh.prepared = prepare(fresh)
  assert.is(warmUp(spare), true)
  assert.ok(spare.prepared !== undefined, 'the spare keeps its prepared context')
  const seen = globalsOf(spare)
  assert.ok(seen.length > 0)
  assert.is(seen, globalsOf(fresh))
  // Warming up twice in one instance works too (each scratch runtime is freed).
  const other = await instantiate(binary, MIN_MEMORY_PAGES)
  assert.is(warmUp(other), true)
  assert.is(warmUp(other), true)
})

test('prime() warms up once, on a spare it made', async () => {
  const seen: WasmInstance[] = []
  const factory = new WasmFactory(compileQuickJS(), 2, prepare, (w) => seen.push(w))
  await factory.prime(MIN_MEMORY_PAGES)
  assert.is(seen.length, 1)
  assert.is(factory.spares(MIN_MEMORY_PAGES), 2)
  const { instance, spare } = await factory.take(MIN_MEMORY_PAGES)
  const second = await factory.take(MIN_MEMORY_PAGES)
  assert.ok(spare && second.spare)
  assert.ok(seen[0] === instance || seen[0] === second.instance)
  await factory.prime(MIN_MEMORY_PAGES)
  assert.is(seen.length, 1)
})

test.run()
