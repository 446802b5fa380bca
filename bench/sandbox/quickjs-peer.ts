// QuickJS's own floor: quickjs-emscripten used directly, in-process, the way one would embed it
// with no guarantees: the same handler in one reused context, JSON in and out, no budgets, no
// thread. Idle sandboxes are each a bare runtime and context in their own wasm instance.
import { newQuickJSAsyncWASMModuleFromVariant, newQuickJSWASMModuleFromVariant, newVariant } from 'quickjs-emscripten'
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten'
import { compileBinary, loadVariant, variantName } from '../../src/sandbox/quickjs-binary.js'
import type { QuickJSBinary } from '../../src/sandbox/quickjs-binary.js'

type Call = (e: unknown) => unknown

const plain = (src: string): string => src.replace('export default', 'globalThis.handler =')

/** A wasm instance of the variant under test (LAMBKIN_QUICKJS_VARIANT), memory as emscripten sizes it. */
async function newModule (wasmModule: QuickJSBinary['module']): Promise<QuickJSWASMModule> {
  const base = await loadVariant(variantName())
  return base.type === 'async'
    ? await newQuickJSAsyncWASMModuleFromVariant(newVariant(base, { wasmModule }))
    : await newQuickJSWASMModuleFromVariant(newVariant(base, { wasmModule }))
}

/**
 * The handler in a fresh wasm instance of its own, called with an event's JSON and answering
 * its result's JSON: what a thread that runs raw QuickJS does per call (threaded-peer.ts).
 */
export async function quickjsJsonCall (src: string, wasmModule = compileBinary().module): Promise<(json: string) => string> {
  const rt = (await newModule(wasmModule)).newRuntime()
  const ctx = rt.newContext()
  ctx.unwrapResult(ctx.evalCode(plain(src))).dispose()
  const fn = ctx.unwrapResult(ctx.evalCode('(s) => JSON.stringify(handler(JSON.parse(s)))'))
  return (json) => {
    const arg = ctx.newString(json)
    const out = ctx.callFunction(fn, ctx.undefined, arg)
    arg.dispose()
    const h = ctx.unwrapResult(out)
    const text = ctx.getString(h)
    h.dispose()
    return text
  }
}

export async function quickjsPeer (): Promise<{ make: (name: string, src: string) => Promise<Call>, close: () => Promise<void> }> {
  // The module is compiled once, as lambkin does; every sandbox gets its own instance.
  const wasmModule = compileBinary().module
  const live: Array<{ rt: QuickJSRuntime, ctx: QuickJSContext, fn: QuickJSHandle }> = []
  return {
    make: async (_name, src) => {
      const rt = (await newModule(wasmModule)).newRuntime()
      const ctx = rt.newContext()
      ctx.unwrapResult(ctx.evalCode(plain(src))).dispose()
      const fn = ctx.unwrapResult(ctx.evalCode('(s) => JSON.stringify(handler(JSON.parse(s)))'))
      live.push({ rt, ctx, fn })
      return (e) => {
        const arg = ctx.newString(JSON.stringify(e))
        const out = ctx.callFunction(fn, ctx.undefined, arg)
        arg.dispose()
        const h = ctx.unwrapResult(out)
        const json = ctx.getString(h)
        h.dispose()
        return JSON.parse(json)
      }
    },
    close: async () => {
      for (const { rt, ctx, fn } of live) { fn.dispose(); ctx.dispose(); rt.dispose() }
    }
  }
}
