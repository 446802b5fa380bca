// The glue evaluated inside every QuickJS context before user code: it builds `ctx`, buffers
// logs/publishes/emits, applies the I/O caps and returns one JSON envelope per invocation.
// User code can replace any prototype method (Array.prototype.join, String.prototype.split,
// Object.prototype.toJSON, Promise.prototype.then, Function.prototype.call...), so after it
// has run the glue uses only what it captured first and what no script can replace: string
// indexing and `+`, comparisons, `typeof`, literals, and captured functions invoked directly
// or through a captured Reflect.apply. JSON.stringify is only ever given primitives or user
// values (whose toJSON may run, but its output is still JSON); the envelope is concatenated.
// Even so, the caps applied here are a courtesy (an early, catchable error): the worker
// re-checks everything it receives (see output-check.ts), and that is the guarantee.
// Per-call work is kept small because it runs interpreted: static facts are set once by
// __lambkin_init, a handler that returns a plain value never touches a promise, and state is
// parsed only when the handler reads it.
//
// Envelope: {"ok":true,"sv":<new state's version>,"s":<its JSON>,"r":<result JSON>,"logs":[[level,time,msg]],
// "pubs":[[topic,payload,qos,retain(,{"c":correlationData,"rt":responseTopic})]],"emits":[...]} (absent keys: nothing of that kind), or
// {"ok":false,"err":{code?,kind?,name,message,stack?},"logs":[...]}.
import { HELPERS_EXPORTS, HELPERS_MODULE, HELPERS_SOURCE, INTRINSICS_EXPORTS, INTRINSICS_MODULE, INTRINSICS_SOURCE } from './prelude-intrinsics.js'
import { OUTPUT_EXPORTS, OUTPUT_MODULE, OUTPUT_SOURCE } from './prelude-output.js'
import { CTX_EXPORTS, CTX_MODULE, CTX_SOURCE, PRELUDE_EXPORTS, PRELUDE_MODULE } from './prelude-ctx.js'

export { ERROR_TEXT_CHARS } from './prelude-intrinsics.js'
export { MAX_CORRELATION_BASE64 } from './prelude-output.js'

/**
 * An ES module, evaluated last of the glue's (GLUE_MODULES). A module, not a
 * function expression: QuickJS keeps a copy of a function's source text for toString(), and
 * the copy of a function holding the whole glue stayed in memory all through the parse (4 of
 * the 27 pages the glue added to each instance's memory).
 */
export const PRELUDE_SOURCE = String.raw`'use strict'
  import { ${INTRINSICS_EXPORTS.join(', ')} } from '${INTRINSICS_MODULE}'
  import { ${HELPERS_EXPORTS.join(', ')} } from '${HELPERS_MODULE}'
  import { ${OUTPUT_EXPORTS.join(', ')} } from '${OUTPUT_MODULE}'
  import { ${CTX_EXPORTS.join(', ')} } from '${CTX_MODULE}'
  let caps = null
  // Whether a call is running, its inputs, and its working set once it has one.
  let active = false
  let inDeadline = 0
  let inState
  let inVersion = -1
  let cur = null
  // What the finishing steps read for a call that never needed a working set; never written.
  const UNTOUCHED = [undefined, -1, undefined, false, null, null, null, 0, 0, 0, 0]
  // The state this instance last produced, and its version: a warm instance hands it to its
  // next call itself, so calls can be queued back to back without the host in between.
  let heldState
  let heldVersion = -1

  function running () {
    if (!active) fail('LAMBKIN_FUNCTION_ERROR', 'ctx was used after its invocation ended')
  }
  // running() written out: this runs on every log, publish and emit, and a call is a step.
  function live () {
    if (!active) fail('LAMBKIN_FUNCTION_ERROR', 'ctx was used after its invocation ended')
    if (cur === null) cur = [inState, inVersion, undefined, false, null, null, null, 0, 0, 0, 0]
    return cur
  }
  const logAt = (level) => function () { log(level, arguments) }
  G.console = freeze({ log: logAt('info'), info: logAt('info'), warn: logAt('warn'), error: logAt('error'), debug: logAt('debug') })

  // Everything per-call lives in cur; the ctx object itself is two ids over the frozen base.
  const base = {
    remainingMs () { running(); const r = inDeadline - now(); return r > 0 ? r : 0 },
    log: logAt('info'),
    publish,
    emit,
    time: freeze({ parts })
  }
  defineProperty(base, 'state', {
    enumerable: true,
    get () {
      const c = live()
      if (!c[STATE_READ]) { c[STATE_READ] = true; c[STATE] = c[STATE_IN] === undefined ? {} : parse(c[STATE_IN]) }
      return c[STATE]
    },
    set (v) {
      const c = live()
      if (v === null || typeof v !== 'object' || isArray(v)) fail('LAMBKIN_FUNCTION_ERROR', 'ctx.state must be a plain object')
      c[STATE_READ] = true
      c[STATE] = v
    }
  })

  function finishOk (c, value) {
    active = false
    let env = '{"ok":true'
    let r
    if (value !== undefined) {
      r = stringify(value)
      if (typeof r === 'string' && overBytes(r, caps.resultBytes)) return limitFail(c, 'resultBytes', 'the result', caps.resultBytes)
    }
    if (c[STATE_READ]) {
      const s = stringify(c[STATE])
      if (typeof s !== 'string') fail('LAMBKIN_FUNCTION_ERROR', 'ctx.state could not be turned into JSON')
      if (overBytes(s, caps.stateBytes)) return limitFail(c, 'stateBytes', 'ctx.state', caps.stateBytes)
      if (s !== c[STATE_IN]) {
        heldState = s
        heldVersion = c[VERSION] + 1
        // The version leads, so the host reads it off the envelope's start without parsing.
        env += ',"sv":' + heldVersion + ',"s":' + s
      }
    }
    if (typeof r === 'string') env += ',"r":' + r
    env += logsOf(c)
    if (c[PUBS] !== null) env += ',"pubs":[' + c[PUBS] + ']'
    if (c[EMITS] !== null) env += ',"emits":[' + c[EMITS] + ']'
    return env + '}'
  }
  function finishErr (c, e) {
    active = false
    return '{"ok":false' + logsOf(c) + ',"err":' + errorOf(e) + '}'
  }

  function init (staticJson) {
    const s = parse(staticJson)
    caps = freeze(s.caps)
    setPerms(s.perms.map((f) => f.split('/')))
    base.functionName = s.fn
    base.version = s.version
    base.deviceId = s.deviceId
    base.env = freeze(s.env)
    freeze(base)
  }

  // traceId and hostVersion arrive as undefined for their defaults (see instance.ts invoke()).
  function run (handler, eventJson, invocationId, traceIdIn, deadline, hostState, hostVersionIn) {
    inDeadline = deadline
    inState = hostState
    inVersion = -1
    if (hostVersionIn !== undefined) {
      // The newer of the host's copy and this instance's own wins.
      inVersion = hostVersionIn
      if (heldVersion >= hostVersionIn) { inState = heldState; inVersion = heldVersion }
    }
    // Not frozen: freezing an object in QuickJS copies its shape, which cost more than the
    // rest of this function. The ids are this call's own copy; what ctx shares is frozen.
    const ctx = { __proto__: base, invocationId, traceId: traceIdIn === undefined ? invocationId : traceIdIn }
    cur = null
    active = true
    try {
      const r = handler(parse(eventJson), ctx)
      if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function') return finishAsync(r)
      // The common case, a result and nothing else, in as few interpreted steps as it takes.
      if (cur === null) {
        active = false
        const s = r === undefined ? undefined : stringify(r)
        if (typeof s !== 'string') return '{"ok":true}'
        if (s.length * 3 > caps.resultBytes && overBytes(s, caps.resultBytes)) return limitFail(UNTOUCHED, 'resultBytes', 'the result', caps.resultBytes)
        return '{"ok":true,"r":' + s + '}'
      }
      // Publishes and nothing else (a relay): the envelope without finishOk()'s other steps.
      if (r === undefined && cur[PUBS] !== null && !cur[STATE_READ] && cur[LOGS] === null && cur[EMITS] === null) {
        active = false
        return '{"ok":true,"pubs":[' + cur[PUBS] + ']}'
      }
      return finishOk(cur, r)
    } catch (e) {
      return finishErr(cur ?? UNTOUCHED, e)
    }
  }
  // await, unlike Promise.prototype.then, looks up neither "then" on Promise.prototype nor a
  // species constructor, and the promise an async function returns is always the engine's own.
  // An instance runs one call at a time (the host drains its jobs before the next), so the
  // working set read after the await is this call's.
  async function finishAsync (p) {
    let v
    try {
      v = await p
    } catch (e) {
      return finishErr(cur ?? UNTOUCHED, e)
    }
    try {
      return finishOk(cur ?? UNTOUCHED, v)
    } catch (e) {
      return finishErr(cur ?? UNTOUCHED, e)
    }
  }
  defineProperty(G, '__lambkin_init', { value: init, configurable: true })
  defineProperty(G, '__lambkin_run', { value: run })
  export { ${PRELUDE_EXPORTS.join(', ')} }
`

export { PRELUDE_MODULE } from './prelude-ctx.js'

/**
 * The glue's modules as [name, source], in the order they run; PRELUDE_MODULE, the last, is
 * the one instance.ts prepare() evaluates, and QuickJS loads the others through its imports.
 * Five, not one or two: QuickJS parses a module whole before it emits its bytecode, and the
 * scratch memory it touches meanwhile grows with the module's length (docs/performance.md,
 * "What is left, and the targets").
 */
export const GLUE_MODULES: ReadonlyArray<readonly [string, string]> = Object.freeze([
  [INTRINSICS_MODULE, INTRINSICS_SOURCE],
  [HELPERS_MODULE, HELPERS_SOURCE],
  [OUTPUT_MODULE, OUTPUT_SOURCE],
  [CTX_MODULE, CTX_SOURCE],
  [PRELUDE_MODULE, PRELUDE_SOURCE]
] as const)
