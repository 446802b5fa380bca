// The first function a sandbox thread loaded took 6.5-7 ms against 1-3 for the next ones
// (docs/performance.md, "The cold start"): the first run of the glue's evaluation, of
// FunctionInstance's load and call path and of the FFI functions they reach, which V8 then
// parses, compiles and optimises. warmUp() runs that path once when the thread starts, on a
// trivial function of its own, in a second QuickJS runtime inside a spare's wasm instance that
// it frees again: no wasm memory is made for it, and no byte of it reaches a function (the
// spare's own runtime and context are separate QuickJS objects; what the scratch runtime left
// in the memory is freed heap that QuickJS code cannot read).
import { LIMIT_DEFAULTS } from '../function/limits.js'
import { FunctionInstance, prepare } from './instance.js'
import { IO_CAP_DEFAULTS } from './options.js'
import type { FunctionSpec } from './types.js'
import type { WasmInstance } from './wasm-factory.js'

const SPEC: FunctionSpec = {
  name: 'lambkin-warm-up',
  version: '0',
  files: { 'index.js': 'export default (e, ctx) => ({ n: e.n + 1, at: ctx.remainingMs() > 0 })' },
  layers: {},
  handler: 'index.js',
  limits: { ...LIMIT_DEFAULTS },
  env: {},
  publish: [],
  provisioned: 0
}
const STATIC_JSON = JSON.stringify({ fn: SPEC.name, version: SPEC.version, deviceId: '', env: {}, perms: [], caps: IO_CAP_DEFAULTS })

/**
 * Loads and calls a trivial function twice in a scratch runtime of `wasm`'s module, then frees
 * it. Returns whether the calls succeeded; never throws (a thread that cannot warm up still
 * works, its first load is slower).
 */
export function warmUp (wasm: WasmInstance): boolean {
  try {
    const scratch: WasmInstance = { module: wasm.module, memory: wasm.memory, maxBytes: wasm.maxBytes, prepared: prepare(wasm) }
    const { instance, failure } = FunctionInstance.create(SPEC, scratch, Date.now, STATIC_JSON)
    if (failure !== undefined) return false
    try {
      let ok = true
      for (let i = 0; i < 2; i++) {
        const { limits } = SPEC
        const r = instance.invoke(`{"n":${i}}`, `warm-up-${i}`, undefined, undefined, -1, Date.now() + limits.timeoutMs, limits.timeoutMs, limits.instructions)
        ok &&= r.envelope?.startsWith('{"ok":true') === true
      }
      return ok
    } finally {
      instance.dispose()
    }
  } catch {
    return false
  }
}
