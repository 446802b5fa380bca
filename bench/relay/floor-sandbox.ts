// The floor relay's sandbox (bench/relay/floor-relay.ts): the threshold function in one raw
// QuickJS context of quickjs-emscripten's release-sync build (the build the agent runs), made
// once, with the agent's default budgets (src/function/limits.ts: 32 MiB of heap, 64 KiB of
// stack, 1 s and 10 million instructions a call, polled by an interrupt handler every 10,000
// instructions as src/sandbox/budget.ts counts them). The function is called once per event,
// JSON in, JSON out. None of lambkin's code: this is what the guarantees cost at least.
import { newQuickJSWASMModuleFromVariant } from 'quickjs-emscripten'
import type { QuickJSHandle } from 'quickjs-emscripten'

const THRESHOLD = 25
const MEMORY_BYTES = 32 * 1024 * 1024
const STACK_BYTES = 64 * 1024
const TIMEOUT_MS = 1000
/** 10 million instructions at one interrupt poll per 10,000 (src/sandbox/budget.ts). */
const MAX_POLLS = 1000

/**
 * The user's function as a board owner writes it for lambkin, and a caller that gives it the
 * event and a ctx.publish collecting its publishes, answering '' (nothing published) or a JSON
 * array of [topic, payload as JSON text, qos].
 */
const SOURCE = `const handler = (event, ctx) => { if (event.payload.value > ${THRESHOLD}) ctx.publish('bench/out', event.payload, { qos: 1 }) }
globalThis.run = (json) => {
  const out = []
  handler({ payload: JSON.parse(json) }, { publish: (topic, payload, o) => { out.push([topic, JSON.stringify(payload), o === undefined ? 0 : o.qos]) } })
  return out.length === 0 ? '' : JSON.stringify(out)
}`

/** One output publish of a call: topic, payload as JSON text, QoS. */
export type Output = [string, string, 0 | 1]

/**
 * Makes the context and answers a function that runs one event (its JSON text): '' when it
 * published nothing, the JSON of its Output[] otherwise, or '!' and the error's text when the
 * call threw or ran out of budget.
 */
export async function makeSandbox (): Promise<(json: string) => string> {
  const module = await newQuickJSWASMModuleFromVariant(import('@jitl/quickjs-wasmfile-release-sync'))
  const rt = module.newRuntime()
  rt.setMemoryLimit(MEMORY_BYTES)
  rt.setMaxStackSize(STACK_BYTES)
  let polls = 0
  let deadline = 0
  rt.setInterruptHandler(() => ++polls > MAX_POLLS || Date.now() > deadline)
  const ctx = rt.newContext()
  deadline = Date.now() + TIMEOUT_MS
  ctx.unwrapResult(ctx.evalCode(SOURCE, 'threshold.js')).dispose()
  const run: QuickJSHandle = ctx.getProp(ctx.global, 'run')
  return (json) => {
    polls = 0
    deadline = Date.now() + TIMEOUT_MS
    const arg = ctx.newString(json)
    const r = ctx.callFunction(run, ctx.undefined, arg)
    arg.dispose()
    if (r.error !== undefined) {
      const e = ctx.dump(r.error) as unknown
      r.error.dispose()
      return '!' + String((e as { message?: string } | undefined)?.message ?? e)
    }
    const out = ctx.getString(r.value)
    r.value.dispose()
    return out
  }
}
