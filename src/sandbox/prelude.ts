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
import { INTRINSICS_EXPORTS, INTRINSICS_MODULE } from './prelude-intrinsics.js'

export { ERROR_TEXT_CHARS } from './prelude-intrinsics.js'

/** The longest correlation data a publish may carry (MQTT 5 section 3.3.2.3.6: binary data, 65535 bytes), as base64. */
export const MAX_CORRELATION_BASE64 = 4 * Math.ceil(65535 / 3)

/**
 * An ES module, evaluated after INTRINSICS_SOURCE (instance.ts prepare()). A module, not a
 * function expression: QuickJS keeps a copy of a function's source text for toString(), and
 * the copy of a function holding the whole glue stayed in memory all through the parse (4 of
 * the 27 pages the glue added to each instance's memory).
 */
export const PRELUDE_SOURCE = String.raw`'use strict'
  import { ${INTRINSICS_EXPORTS.join(', ')} } from '${INTRINSICS_MODULE}'
  let caps = null
  // One invocation's working set is an array, not an object: QuickJS builds a 12-slot array
  // about ten times faster than an object of as many properties. Its slots all exist from the literal
  // on, so writing them never reaches a prototype setter. It is made only once the handler
  // logs, publishes, emits or touches ctx.state (live()): most calls need none.
  const STATE_IN = 0
  const VERSION = 1
  const STATE = 2
  const STATE_READ = 3
  const LOGS = 4
  const PUBS = 5
  const EMITS = 6
  const LOG_BYTES = 7
  const EMIT_BYTES = 8
  const N_PUBS = 9
  const N_EMITS = 10
  let perms = []
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

  function fail (code, message, kind) {
    const e = new MkError(message)
    // code for the function that catches it (as Node's errors carry theirs); lambkinCode is
    // what the envelope reads, so a function that overwrites code cannot change the outcome.
    e.code = code
    e.lambkinCode = code
    if (kind !== undefined) e.lambkinKind = kind
    throw e
  }
  function running () {
    if (!active) fail('LAMBKIN_FUNCTION_ERROR', 'ctx was used after its invocation ended')
  }
  // running() written out: this runs on every log, publish and emit, and a call is a step.
  function live () {
    if (!active) fail('LAMBKIN_FUNCTION_ERROR', 'ctx was used after its invocation ended')
    if (cur === null) cur = [inState, inVersion, undefined, false, null, null, null, 0, 0, 0, 0]
    return cur
  }
  function log (level, args) {
    if (!active) return
    const c = live()
    const msg = fmt(args)
    c[LOG_BYTES] += bytesOf(msg) + 24
    if (c[LOG_BYTES] > caps.logBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'logs of this invocation exceed ' + caps.logBytes + ' bytes', 'logBytes')
    const entry = '["' + level + '",' + now() + ',' + stringify(msg) + ']'
    c[LOGS] = c[LOGS] === null ? entry : c[LOGS] + ',' + entry
  }
  function allowed (topic) {
    for (let k = 0; k < perms.length; k++) if (levelMatch(perms[k], topic)) return true
    return false
  }
  // The topics this instance has already let through, each beside its JSON: checking a topic
  // runs interpreted character loops (about 11 us for "bench/out", the rest of a publish about
  // 5), and the verdict depends only on the string and perms, which init() fixed. Matched by
  // ===, which no script can replace; the slots start as an object no topic can equal.
  const OK_TOPICS = 4
  const NONE = {}
  const okTopics = [NONE, NONE, NONE, NONE]
  const okJson = ['', '', '', '']
  let okNext = 0
  function topicJson (topic) {
    for (let k = 0; k < OK_TOPICS; k++) if (okTopics[k] === topic) return okJson[k]
    const bad = topicProblem(topic, false, codeAt)
    if (bad !== undefined) fail('LAMBKIN_TOPIC_INVALID', 'ctx.publish: the topic ' + show(topic) + ' ' + bad)
    const reserved = reservedTopicProblem(topic)
    if (reserved !== undefined) fail('LAMBKIN_PERMISSION_DENIED', 'publishing to ' + show(topic) + ' is not allowed: ' + reserved + ', whatever permissions.publish says')
    if (!allowed(topic)) {
      fail('LAMBKIN_PERMISSION_DENIED', 'publishing to ' + show(topic) + ' is not allowed: add a matching filter to permissions.publish in function.json')
    }
    const json = stringify(topic)
    okTopics[okNext] = topic
    okJson[okNext] = json
    okNext = okNext === OK_TOPICS - 1 ? 0 : okNext + 1
    return json
  }
  // What publish() reads for absent options: no prototype, so no script can give it any.
  const NO_OPTS = freeze({ __proto__: null })
  function publish (topic, payload, opts) {
    const c = live()
    const topicText = topicJson(topic)
    if (c[N_PUBS] >= caps.maxPublishes) fail('LAMBKIN_OUTPUT_LIMIT', 'more than ' + caps.maxPublishes + ' publishes in one invocation', 'maxPublishes')
    const isText = typeof payload === 'string'
    const body = isText ? payload : stringify(payload === undefined ? null : payload)
    if (typeof body !== 'string') fail('LAMBKIN_FUNCTION_ERROR', 'ctx.publish needs a string or a JSON-serialisable payload, got ' + typeof payload)
    // overBytes()'s first test, written out: most payloads need no count.
    if (body.length * 3 > caps.publishBytes && overBytes(body, caps.publishBytes)) fail('LAMBKIN_OUTPUT_LIMIT', 'a publish payload exceeds ' + caps.publishBytes + ' bytes (counted as UTF-8, as sent)', 'publishBytes')
    // Each option is read once, in this order (a getter on opts runs once).
    const o = opts == null ? NO_OPTS : opts
    const qos = o.qos === 0 ? 0 : 1
    const retain = o.retain === true
    const cd = o.correlationData
    const rt = o.responseTopic
    const entry = '[' + topicText + ',' + (isText ? stringify(body) : body) + ',' + qos + ',' + retain + (cd === undefined && rt === undefined ? '' : requestProps(cd, rt)) + ']'
    c[PUBS] = c[PUBS] === null ? entry : c[PUBS] + ',' + entry
    c[N_PUBS]++
  }
  // MQTT 5 request/response (section 4.10): the reply's correlation data (base64, as events
  // carry it) and a response topic for a request, at least one of them given. Checked again
  // in the worker.
  function requestProps (cd, rt) {
    let out = ',{'
    if (cd !== undefined) {
      if (typeof cd !== 'string' || !isBase64(cd) || cd.length > ${MAX_CORRELATION_BASE64}) fail('LAMBKIN_FUNCTION_ERROR', 'ctx.publish: correlationData must be base64 of at most 65535 bytes (pass on event.correlationData as it came)')
      out += '"c":' + stringify(cd)
    }
    if (rt !== undefined) {
      const bad = topicProblem(rt, false, codeAt)
      if (bad !== undefined) fail('LAMBKIN_TOPIC_INVALID', 'ctx.publish: the responseTopic ' + show(rt) + ' ' + bad)
      out += (cd !== undefined ? ',' : '') + '"rt":' + stringify(rt)
    }
    return out + '}'
  }
  function emit (record) {
    const c = live()
    if (c[N_EMITS] >= caps.maxEmits) fail('LAMBKIN_OUTPUT_LIMIT', 'more than ' + caps.maxEmits + ' emits in one invocation', 'maxEmits')
    const body = stringify(record === undefined ? null : record)
    if (typeof body !== 'string') fail('LAMBKIN_FUNCTION_ERROR', 'ctx.emit needs a JSON-serialisable record, got ' + typeof record)
    c[EMIT_BYTES] += bytesOf(body)
    if (c[EMIT_BYTES] > caps.emitBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'emitted records exceed ' + caps.emitBytes + ' bytes', 'emitBytes')
    c[EMITS] = c[EMITS] === null ? body : c[EMITS] + ',' + body
    c[N_EMITS]++
  }
  // QuickJS has no Intl: local time in a named zone is computed by the host (time-zone.ts).
  function parts (zone, epochMs) {
    running()
    if (typeof zone !== 'string') fail('LAMBKIN_FUNCTION_ERROR', 'ctx.time.parts needs an IANA time zone name such as "Europe/Berlin", got ' + show(zone))
    const t = epochMs === undefined ? now() : epochMs
    if (typeof t !== 'number' || !(t >= -8.64e15 && t <= 8.64e15)) fail('LAMBKIN_FUNCTION_ERROR', 'ctx.time.parts needs epochMs as milliseconds since 1970-01-01 UTC, got ' + show(t))
    const r = zoned(cut(zone, 256), t)
    if (r[0] !== '{') throw new MkRangeError(r)
    return parse(r)
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

  function logsOf (c) { return c[LOGS] === null ? '' : ',"logs":[' + c[LOGS] + ']' }
  function limitFail (c, kind, what, cap) {
    return '{"ok":false' + logsOf(c) + ',"err":' + errJson('LAMBKIN_OUTPUT_LIMIT', kind, 'Error', what + ' is over the ' + cap + ' byte cap (' + kind + ', counted as UTF-8)') + '}'
  }
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
    perms = s.perms.map((f) => f.split('/'))
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
`
