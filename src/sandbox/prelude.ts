// The glue evaluated inside every QuickJS context before user code: it builds `ctx`, buffers
// logs/publishes/emits, enforces the I/O caps and returns one JSON envelope per invocation.
// It keeps its own references to JSON, Date and friends, taken before user code runs, so a
// function that overwrites globals only breaks itself; the host re-checks what matters.
// Per-call work is kept small because it runs interpreted: static facts are set once by
// __lambkin_init, a handler that returns a plain value never touches a promise, and state is
// parsed only when the handler reads it.
//
// Envelope: {"ok":true,"sv":<new state's version>,"s":<its JSON>,"r":<result JSON>,"logs":[[level,time,msg]],
// "pubs":[[topic,payload,qos,retain]],"emits":[...]} (absent keys: nothing of that kind), or
// {"ok":false,"err":{code?,kind?,name,message,stack?},"logs":[...]}.

export const PRELUDE_SOURCE = String.raw`(function () {
  'use strict'
  const G = globalThis
  const stringify = JSON.stringify
  const parse = JSON.parse
  const now = Date.now
  const freeze = Object.freeze
  const defineProperty = Object.defineProperty
  const isArray = Array.isArray
  const toStr = String
  const MkError = Error
  const promiseThen = Promise.prototype.then
  let caps = null
  // One invocation's working set is an array, not an object: QuickJS builds a 10-slot array
  // about ten times faster than a 10-property object, and this happens on every call.
  const DEADLINE = 0
  const STATE_IN = 1
  const VERSION = 2
  const STATE = 3
  const STATE_READ = 4
  const LOGS = 5
  const PUBS = 6
  const EMITS = 7
  const LOG_BYTES = 8
  const EMIT_BYTES = 9
  let perms = []
  let cur = null
  // The state this instance last produced, and its version: a warm instance hands it to its
  // next call itself, so calls can be queued back to back without the host in between.
  let heldState
  let heldVersion = -1

  function fail (code, message, kind) {
    const e = new MkError(message)
    e.lambkinCode = code
    if (kind !== undefined) e.lambkinKind = kind
    throw e
  }
  function live () {
    if (cur === null) fail('LAMBKIN_FUNCTION_ERROR', 'ctx was used after its invocation ended')
    return cur
  }
  function fmt (args) {
    let s = ''
    for (let i = 0; i < args.length; i++) {
      const a = args[i]
      let p
      if (typeof a === 'string') p = a
      else if (a instanceof MkError) p = toStr(a.name) + ': ' + toStr(a.message)
      else { try { p = stringify(a) } catch (e) { p = undefined } if (p === undefined) p = toStr(a) }
      s += (i > 0 ? ' ' : '') + p
    }
    return s
  }
  function log (level, args) {
    const c = cur
    if (c === null) return
    const msg = fmt(args)
    c[LOG_BYTES] += msg.length + 24
    if (c[LOG_BYTES] > caps.logBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'logs of this invocation exceed ' + caps.logBytes + ' bytes', 'logBytes')
    if (c[LOGS] === null) c[LOGS] = []
    c[LOGS][c[LOGS].length] = [level, now(), msg]
  }
  function levelMatch (f, t) {
    let i = 0
    for (;;) {
      if (i === f.length) return i === t.length
      if (f[i] === '#') return true
      if (i === t.length) return false
      if (f[i] !== '+' && f[i] !== t[i]) return false
      i++
    }
  }
  function allowed (topic) {
    const t = topic.split('/')
    for (let k = 0; k < perms.length; k++) {
      const f = perms[k]
      if (topic.charCodeAt(0) === 36 && (f[0] === '+' || f[0] === '#')) continue
      if (levelMatch(f, t)) return true
    }
    return false
  }
  function publish (topic, payload, opts) {
    const c = live()
    if (typeof topic !== 'string' || topic.length === 0 || topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
      fail('LAMBKIN_FUNCTION_ERROR', 'ctx.publish needs a topic string without wildcards, got ' + toStr(topic))
    }
    if (!allowed(topic)) {
      fail('LAMBKIN_PERMISSION_DENIED', 'publishing to "' + topic + '" is not allowed: add a matching filter to permissions.publish in function.json')
    }
    if (c[PUBS] === null) c[PUBS] = []
    if (c[PUBS].length >= caps.maxPublishes) fail('LAMBKIN_OUTPUT_LIMIT', 'more than ' + caps.maxPublishes + ' publishes in one invocation', 'maxPublishes')
    const body = typeof payload === 'string' ? payload : stringify(payload === undefined ? null : payload)
    if (body.length > caps.publishBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'a publish payload exceeds ' + caps.publishBytes + ' bytes', 'publishBytes')
    const o = opts == null ? {} : opts
    c[PUBS][c[PUBS].length] = '[' + stringify(topic) + ',' + (typeof payload === 'string' ? stringify(body) : body) + ',' + (o.qos === 0 ? 0 : 1) + ',' + (o.retain === true) + ']'
  }
  function emit (record) {
    const c = live()
    if (c[EMITS] === null) c[EMITS] = []
    if (c[EMITS].length >= caps.maxEmits) fail('LAMBKIN_OUTPUT_LIMIT', 'more than ' + caps.maxEmits + ' emits in one invocation', 'maxEmits')
    const body = stringify(record === undefined ? null : record)
    c[EMIT_BYTES] += body.length
    if (c[EMIT_BYTES] > caps.emitBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'emitted records exceed ' + caps.emitBytes + ' bytes', 'emitBytes')
    c[EMITS][c[EMITS].length] = body
  }
  const logAt = (level) => function () { log(level, arguments) }
  G.console = freeze({ log: logAt('info'), info: logAt('info'), warn: logAt('warn'), error: logAt('error'), debug: logAt('debug') })

  // Everything per-call lives in cur; the ctx object itself is two ids over a frozen base.
  const base = {
    remainingMs () { const r = live()[DEADLINE] - now(); return r > 0 ? r : 0 },
    log: logAt('info'),
    publish,
    emit
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

  function errorOf (e) {
    if (e !== null && typeof e === 'object') {
      const code = typeof e.lambkinCode === 'string' ? e.lambkinCode : undefined
      return { code, kind: e.lambkinKind, name: toStr(e.name), message: toStr(e.message), stack: typeof e.stack === 'string' ? e.stack : undefined }
    }
    return { name: 'Error', message: 'the handler threw a non-error value: ' + fmt([e]) }
  }
  function limitFail (c, kind, what, size, cap) {
    return stringify({ ok: false, logs: c[LOGS] === null ? undefined : c[LOGS], err: { code: 'LAMBKIN_OUTPUT_LIMIT', kind, name: 'Error', message: what + ' is ' + size + ' bytes, over the ' + cap + ' byte cap' } })
  }
  function finishOk (c, value) {
    cur = null
    let env = '{"ok":true'
    let r
    if (value !== undefined) {
      r = stringify(value)
      if (r !== undefined && r.length > caps.resultBytes) return limitFail(c, 'resultBytes', 'the result', r.length, caps.resultBytes)
    }
    if (c[STATE_READ]) {
      const s = stringify(c[STATE])
      if (s.length > caps.stateBytes) return limitFail(c, 'stateBytes', 'ctx.state', s.length, caps.stateBytes)
      if (s !== c[STATE_IN]) {
        heldState = s
        heldVersion = c[VERSION] + 1
        // The version leads, so the host reads it off the envelope's start without parsing.
        env += ',"sv":' + heldVersion + ',"s":' + s
      }
    }
    if (r !== undefined) env += ',"r":' + r
    if (c[LOGS] !== null) env += ',"logs":' + stringify(c[LOGS])
    if (c[PUBS] !== null) env += ',"pubs":[' + c[PUBS].join(',') + ']'
    if (c[EMITS] !== null) env += ',"emits":[' + c[EMITS].join(',') + ']'
    return env + '}'
  }
  function finishErr (c, e) {
    cur = null
    return stringify({ ok: false, logs: c[LOGS] === null ? undefined : c[LOGS], err: errorOf(e) })
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
    const traceId = traceIdIn === undefined ? invocationId : traceIdIn
    const hostVersion = hostVersionIn === undefined ? -1 : hostVersionIn
    // The newer of the host's copy and this instance's own wins.
    const own = hostVersion >= 0 && heldVersion >= hostVersion
    const c = [deadline, own ? heldState : hostState, own ? heldVersion : hostVersion, undefined, false, null, null, null, 0, 0]
    const ctx = freeze({ __proto__: base, invocationId, traceId })
    cur = c
    let r
    try {
      r = handler(parse(eventJson), ctx)
    } catch (e) {
      return finishErr(c, e)
    }
    if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function') {
      return promiseThen.call(Promise.resolve(r), (v) => settle(c, v), (e) => finishErr(c, e))
    }
    return settle(c, r)
  }
  function settle (c, v) {
    try {
      return finishOk(c, v)
    } catch (e) {
      return finishErr(c, e)
    }
  }
  defineProperty(G, '__lambkin_init', { value: init, configurable: true })
  defineProperty(G, '__lambkin_run', { value: run })
})()`
