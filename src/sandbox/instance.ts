// One warm sandbox of one function version: a QuickJS runtime and context inside its own
// wasm instance, the user's module evaluated, and an invoke() that runs the handler to
// completion under the instruction, time, memory and stack budgets. Runs in a worker.
import { randomFillSync } from 'node:crypto'
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten'
import { ErrorCodes } from '../errors.js'
import { WASM_PAGE_BYTES, pollsFor, stackBytesFor } from './budget.js'
import { GLUE_MODULES, PRELUDE_MODULE } from './prelude.js'
import type { FunctionSpec } from './types.js'
import type { WasmInstance } from './wasm-factory.js'
import { classify, type RawFailure } from './classify.js'
import { FastCall, type CallResult, type FastArg } from './fast-call.js'
import { zonedPartsJson } from './time-zone.js'

export interface RawResult {
  /** The prelude's JSON envelope, or a failure the host classified. */
  envelope?: string
  failure?: RawFailure
  polls: number
  memoryBytes: number
}

const LAYER_PREFIX = 'layer:'

/**
 * A runtime and context with the glue already evaluated, not yet bound to any function:
 * what a spare instance holds, so a cold start pays only for the function's own module.
 */
export interface Prepared {
  rt: QuickJSRuntime
  ctx: QuickJSContext
  run: QuickJSHandle
  init: QuickJSHandle
}

/**
 * The prelude as evaluated: indentation and whole-line comments dropped, every line kept (a
 * stack line's number still points into prelude.ts). QuickJS parses the text in the instance's
 * memory and keeps each function's source there (Function.prototype.toString): this took 3 of
 * the 30 pages (4 KiB) the prelude adds to every instance (docs/performance.md, "Where the
 * bytes are"). Left as is when a line break may sit inside a literal (a backtick, a block
 * comment, a line ending in a backslash), where leading blanks or `//` would be the literal's.
 */
export function compactSource (source: string): string {
  if (/`|\/\*|\\\r?\n/.test(source)) return source
  return source.split('\n').map((line) => {
    const text = line.trimStart()
    return text.startsWith('//') ? '' : text
  }).join('\n')
}

const GLUE_COMPACT: ReadonlyMap<string, string> = new Map(GLUE_MODULES.map(([name, source]) => [name, compactSource(source)]))
const GLUE_AS_WRITTEN: ReadonlyMap<string, string> = new Map(GLUE_MODULES)

/** Evaluates an ES module of the glue; throws what its evaluation threw. */
function evalModule (ctx: QuickJSContext, source: string, name: string): void {
  const done = ctx.unwrapResult(ctx.evalCode(source, name, { type: 'module' }))
  // QuickJS answers a module's evaluation with a promise, settled here: the glue never awaits.
  const state = ctx.getPromiseState(done)
  done.dispose()
  if (state.type === 'fulfilled') {
    if (state.notAPromise !== true) state.value.dispose()
    return
  }
  if (state.type === 'pending') throw new Error(`the sandbox glue ${name} did not finish evaluating`)
  const error: unknown = ctx.dump(state.error)
  state.error.dispose()
  throw error
}

/**
 * A runtime and context with the glue evaluated: its modules (prelude.ts GLUE_MODULES),
 * compacted unless `compact` is false (a test compares).
 */
export function prepare (wasm: WasmInstance, compact = true): Prepared {
  const rt = wasm.module.newRuntime()
  const ctx = rt.newContext()
  // Host helpers the prelude captures and then removes from the global object.
  const zoned = ctx.newFunction('zoned', (zone, epochMs) => {
    const z = ctx.typeof(zone) === 'string' ? ctx.getString(zone) : ''
    const t = ctx.typeof(epochMs) === 'number' ? ctx.getNumber(epochMs) : Number.NaN
    return ctx.newString(zonedPartsJson(z, t))
  })
  ctx.setProp(ctx.global, '__lambkin_zoned', zoned)
  zoned.dispose()
  const seed = ctx.newNumber(randomFillSync(new Int32Array(1))[0])
  ctx.setProp(ctx.global, '__lambkin_seed', seed)
  seed.dispose()
  // The main module is given first, and QuickJS asks this loader for the modules it imports
  // (two of them import each other, so none could be given alone first), then runs them in
  // the order of their imports. QuickJS parses a module whole before it emits its bytecode,
  // and the longest parse's scratch set each instance's high-water mark: five modules touch
  // 58 pages of a prepared instance's memory, two 61 (docs/performance.md, "What is left, and
  // the targets").
  const glue = compact ? GLUE_COMPACT : GLUE_AS_WRITTEN
  rt.setModuleLoader((name) => glue.get(name) ?? { error: new Error(`the sandbox glue has no module ${name}`) })
  try {
    evalModule(ctx, glue.get(PRELUDE_MODULE) as string, PRELUDE_MODULE)
  } finally {
    rt.removeModuleLoader()
  }
  return { rt, ctx, run: ctx.getProp(ctx.global, '__lambkin_run'), init: ctx.getProp(ctx.global, '__lambkin_init') }
}

/** FastCall.call() through the public API, for when the fast path is unavailable. */
function slowCall (ctx: QuickJSContext, fn: QuickJSHandle, args: ReadonlyArray<FastArg | undefined>): CallResult {
  const handles = args.map((a) => a === undefined ? ctx.undefined : typeof a === 'string' ? ctx.newString(a) : typeof a === 'number' ? ctx.newNumber(a) : a)
  const called = ctx.callFunction(fn, ctx.undefined, handles)
  handles.forEach((h, i) => { if (h !== args[i]) h.dispose() })
  return called
}

export class FunctionInstance {
  readonly spec: FunctionSpec
  readonly #wasm: WasmInstance
  #rt: QuickJSRuntime | undefined
  #ctx: QuickJSContext | undefined
  #run: QuickJSHandle | undefined
  #handler: QuickJSHandle | undefined
  #fast: FastCall | undefined
  /** The prelude's run() arguments, refilled by each call (see invoke()). */
  readonly #args: Array<FastArg | undefined> = new Array(7)
  #polls = 0
  #maxPolls = 0
  #deadline = 0
  #reason: 'timeout' | 'instructions' | undefined
  #timeoutMs = 0
  #instructions = 0
  /** Set after any fault that may have left QuickJS inconsistent: never reuse. */
  poisoned = false
  /** The version of the state this instance last produced (it hands that to its next call). */
  heldVersion = -1

  private constructor (spec: FunctionSpec, wasm: WasmInstance) {
    this.spec = spec
    this.#wasm = wasm
  }

  get memoryBytes (): number {
    return this.#wasm.memory.buffer.byteLength
  }

  get maxBytes (): number {
    return this.#wasm.maxBytes
  }

  /** Builds the runtime and evaluates the module; `failure` is set when that failed. */
  static create (spec: FunctionSpec, wasm: WasmInstance, now: () => number, staticJson: string): { instance: FunctionInstance; failure?: RawFailure } {
    const inst = new FunctionInstance(spec, wasm)
    const failure = inst.#init(now, staticJson)
    if (failure !== undefined) inst.dispose()
    return { instance: inst, failure }
  }

  #init (now: () => number, staticJson: string): RawFailure | undefined {
    const { spec } = this
    try {
      const { rt, ctx, run, init } = this.#wasm.prepared ?? prepare(this.#wasm)
      this.#wasm.prepared = undefined
      this.#rt = rt
      this.#ctx = ctx
      this.#run = run
      this.#fast = FastCall.of(ctx, this.#wasm.memory)
      rt.setMemoryLimit(spec.limits.memoryKiB * 1024)
      rt.setMaxStackSize(stackBytesFor(spec.limits.stackKiB))
      rt.setInterruptHandler(() => this.#interrupt(now))
      rt.setModuleLoader(
        (name) => this.#load(name),
        (base, name) => this.#normalize(base, name)
      )
      this.#arm(now() + spec.limits.timeoutMs, spec.limits.timeoutMs, spec.limits.instructions)
      const arg = ctx.newString(staticJson)
      ctx.unwrapResult(ctx.callFunction(init, ctx.undefined, arg)).dispose()
      arg.dispose()
      init.dispose()
      const source = spec.files[spec.handler]
      if (source === undefined) return { code: ErrorCodes.COMPILE_ERROR, message: `handler file ${spec.handler} is missing` }
      let ns = ctx.unwrapResult(ctx.evalCode(source, spec.handler, { type: 'module' }))
      const state = ctx.getPromiseState(ns)
      if (state.type === 'pending') {
        // Top-level await: drain the job queue once; a module that cannot finish loading is broken.
        const jobs = rt.executePendingJobs()
        if (jobs.error !== undefined) throw ctx.dump(jobs.error)
      }
      if (!(state.type === 'fulfilled' && state.notAPromise === true)) {
        const settled = ctx.getPromiseState(ns)
        ns.dispose()
        if (settled.type !== 'fulfilled') {
          throw settled.type === 'rejected' ? ctx.dump(settled.error) : new Error("the module's top-level await never settled")
        }
        ns = settled.value
      }
      const handler = ctx.getProp(ns, 'default')
      ns.dispose()
      const kind = ctx.typeof(handler)
      if (kind !== 'function') {
        handler.dispose()
        return { code: ErrorCodes.COMPILE_ERROR, message: `${spec.handler} must \`export default\` a function (async or not), found ${kind}` }
      }
      this.#handler = handler
      return undefined
    } catch (err) {
      this.poisoned = true
      const f = classify(err, this.#reason, this.#limitsView(), this.#atCap())
      return f.code === ErrorCodes.FUNCTION_ERROR ? { ...f, code: ErrorCodes.COMPILE_ERROR } : f
    }
  }

  #load (name: string): string | { error: Error } {
    if (name.startsWith(LAYER_PREFIX)) {
      const layer = name.slice(LAYER_PREFIX.length)
      const src = Object.hasOwn(this.spec.layers, layer) ? this.spec.layers[layer] : undefined
      if (src !== undefined) return src
      return { error: new Error(`layer "${name.slice(LAYER_PREFIX.length)}" is not in function.json "layers"`) }
    }
    if (name.startsWith('../')) return { error: new Error(`module "${name}" is outside the function folder`) }
    // Own keys only: "constructor" or "__proto__" must not reach Object.prototype.
    const src = Object.hasOwn(this.spec.files, name) ? this.spec.files[name] : undefined
    return src === undefined ? { error: new Error(`module "${name}" not found in the function folder`) } : src
  }

  /** Resolves within the in-memory folder; a path climbing above its root stays "../..." so #load refuses it. */
  #normalize (base: string, name: string): string {
    if (!name.startsWith('./') && !name.startsWith('../')) return LAYER_PREFIX + name
    const parts = base.startsWith(LAYER_PREFIX) ? [] : base.split('/').slice(0, -1)
    for (const seg of name.split('/')) {
      if (seg === '..') {
        if (parts.length === 0) return `../${name.replace(/^(\.\.?\/)+/, '')}`
        parts.pop()
      } else if (seg !== '.' && seg !== '') parts.push(seg)
    }
    return parts.join('/')
  }

  #interrupt (now: () => number): boolean {
    if (++this.#polls > this.#maxPolls) {
      this.#reason = 'instructions'
      return true
    }
    if (now() > this.#deadline) {
      this.#reason = 'timeout'
      return true
    }
    return false
  }

  #arm (deadline: number, timeoutMs: number, instructions: number): void {
    this.#timeoutMs = timeoutMs
    this.#instructions = instructions
    this.#polls = 0
    this.#maxPolls = pollsFor(instructions)
    this.#deadline = deadline
    this.#reason = undefined
  }

  #limitsView (): { timeoutMs: number; instructions: number; memoryKiB: number } {
    return this.spec.limits
  }

  /**
   * True once memory has grown to within a page of the cap. Every memory starts below the
   * smallest cap (QuickJSBinary.initialPages < MIN_MEMORY_PAGES), so reaching it means growth.
   */
  #atCap (memoryBytes = this.#wasm.memory.buffer.byteLength): boolean {
    return memoryBytes >= this.#wasm.maxBytes - WASM_PAGE_BYTES
  }

  /** Runs the handler to completion by `deadline` (epoch ms). Never throws: faults come back as `failure`. */
  invoke (
    event: string,
    invocationId: string,
    traceId: string | undefined,
    state: string | undefined,
    stateVersion: number,
    deadline: number,
    timeoutMs: number,
    instructions: number
  ): RawResult {
    const ctx = this.#ctx as QuickJSContext
    const rt = this.#rt as QuickJSRuntime
    this.#arm(deadline, timeoutMs, instructions)
    let promise: QuickJSHandle | undefined
    try {
      // Each value handed in costs a crossing, so the common defaults travel as undefined:
      // a trace id equal to the invocation id, and no state version.
      const args = this.#args
      args[0] = this.#handler as QuickJSHandle
      args[1] = event
      args[2] = invocationId
      args[3] = traceId === invocationId ? undefined : traceId
      args[4] = deadline
      args[5] = state
      args[6] = stateVersion < 0 ? undefined : stateVersion
      const called = this.#fast?.callForString(this.#run as QuickJSHandle, args) ?? slowCall(ctx, this.#run as QuickJSHandle, args)
      let envelope: string | undefined
      if (typeof called === 'string') envelope = called
      else {
        promise = ctx.unwrapResult(called)
        if (ctx.typeof(promise) === 'string') envelope = ctx.getString(promise)
      }
      if (envelope !== undefined) {
        // The handler returned a plain value: no promise machinery was involved. Jobs it
        // queued anyway (an un-awaited promise) run now, inside this call's budgets.
        if (rt.hasPendingJob()) {
          const jobs = rt.executePendingJobs()
          if (jobs.error !== undefined) jobs.error.dispose()
        }
        return this.#done({ envelope })
      }
      for (;;) {
        const state = ctx.getPromiseState(promise as QuickJSHandle)
        if (state.type === 'fulfilled') {
          const envelope = ctx.getString(state.value)
          state.value.dispose()
          return this.#done({ envelope })
        }
        if (state.type === 'rejected') {
          // finish() turns every handler error into an envelope; a rejection here means the
          // glue itself failed (out of memory while building the envelope, say).
          const err = ctx.dump(state.error)
          state.error.dispose()
          throw err
        }
        const jobs = rt.executePendingJobs()
        if (jobs.error !== undefined) {
          const err = ctx.dump(jobs.error)
          jobs.error.dispose()
          throw err
        }
        if (jobs.value === 0 && ctx.getPromiseState(promise as QuickJSHandle).type === 'pending') {
          this.poisoned = true
          return this.#done({
            failure: {
              code: ErrorCodes.TIMEOUT,
              message:
                'the handler returned a promise that can never settle (nothing is left to run inside the sandbox); make sure every promise resolves',
              details: { reason: 'never-settles' }
            }
          })
        }
      }
    } catch (err) {
      const failure = classify(err, this.#reason, { timeoutMs, instructions, memoryKiB: this.spec.limits.memoryKiB }, this.#atCap())
      if (failure.poison !== false) this.poisoned = true
      return this.#done({ failure })
    } finally {
      if (promise !== undefined && promise.alive && !this.poisoned) promise.dispose()
    }
  }

  #done (r: { envelope?: string; failure?: RawFailure }): RawResult {
    const memoryBytes = this.#fast?.memoryBytes ?? this.#wasm.memory.buffer.byteLength
    if (this.#atCap(memoryBytes)) this.poisoned = true
    // An out-of-memory the handler's glue caught still leaves QuickJS suspect: discard.
    if (r.envelope !== undefined && r.envelope.startsWith('{"ok":false') && r.envelope.includes('"message":"out of memory"')) this.poisoned = true
    if (this.#reason !== undefined) {
      // An interrupt inside a promise job surfaces as a rejection the glue turns into an
      // ordinary envelope; the budget that fired is the real outcome, and the runtime goes.
      this.poisoned = true
      const failure = classify(undefined, this.#reason, { ...this.spec.limits, timeoutMs: this.#timeoutMs, instructions: this.#instructions }, false)
      return { envelope: undefined, failure, polls: this.#polls, memoryBytes }
    }
    return { envelope: r.envelope, failure: r.failure, polls: this.#polls, memoryBytes }
  }

  /** Frees every handle; after a fault the wasm instance is simply dropped. */
  dispose (): void {
    if (this.poisoned) {
      this.#handler = this.#run = this.#ctx = this.#rt = undefined
      return
    }
    try {
      this.#handler?.dispose()
      this.#run?.dispose()
      this.#ctx?.dispose()
      this.#rt?.dispose()
    } catch {
      // A leaked QuickJS object trips an assertion in JS_FreeRuntime; the instance is
      // being thrown away whole, so there is nothing left to protect.
      this.poisoned = true
    }
    this.#handler = this.#run = this.#ctx = this.#rt = undefined
  }
}
