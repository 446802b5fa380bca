// The glue evaluated inside every QuickJS context before user code: it builds `ctx`, buffers
// logs/publishes/emits, enforces the I/O caps and returns one JSON envelope per invocation.
// It keeps its own references to JSON, Date and friends, taken before user code runs, so a
// function that overwrites globals only breaks itself. The host re-checks what matters.

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
  const resolved = Promise.resolve()
  const then = (p, ok, bad) => Promise.prototype.then.call(p, ok, bad)
  let cur = null

  function fail (code, message, kind) {
    const e = new MkError(message)
    e.lambkinCode = code
    if (kind !== undefined) e.lambkinKind = kind
    throw e
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
    c.logBytes += msg.length + 24
    if (c.logBytes > c.caps.logBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'logs of this invocation exceed ' + c.caps.logBytes + ' bytes', 'logBytes')
    c.logs[c.logs.length] = [level, now(), msg]
  }
  function levelMatch (f, t, i, j) {
    for (;;) {
      if (i === f.length) return j === t.length
      if (f[i] === '#') return true
      if (j === t.length) return false
      if (f[i] !== '+' && f[i] !== t[j]) return false
      i++; j++
    }
  }
  function allowed (filters, topic) {
    const t = topic.split('/')
    for (let k = 0; k < filters.length; k++) {
      const f = filters[k].split('/')
      if (topic.charCodeAt(0) === 36 && (f[0] === '+' || f[0] === '#')) continue
      if (levelMatch(f, t, 0, 0)) return true
    }
    return false
  }
  function publish (topic, payload, opts) {
    const c = cur
    if (c === null) fail('LAMBKIN_FUNCTION_ERROR', 'ctx.publish was called after the invocation ended')
    if (typeof topic !== 'string' || topic.length === 0 || topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
      fail('LAMBKIN_FUNCTION_ERROR', 'ctx.publish needs a topic string without wildcards, got ' + toStr(topic))
    }
    if (!allowed(c.perms, topic)) {
      fail('LAMBKIN_PERMISSION_DENIED', 'publishing to "' + topic + '" is not allowed: add a matching filter to permissions.publish in function.json')
    }
    if (c.pubs.length >= c.caps.maxPublishes) fail('LAMBKIN_OUTPUT_LIMIT', 'more than ' + c.caps.maxPublishes + ' publishes in one invocation', 'maxPublishes')
    const body = typeof payload === 'string' ? payload : stringify(payload === undefined ? null : payload)
    if (body.length > c.caps.publishBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'a publish payload exceeds ' + c.caps.publishBytes + ' bytes', 'publishBytes')
    const o = opts == null ? {} : opts
    c.pubs[c.pubs.length] = [topic, typeof payload === 'string' ? 1 : 0, body, o.qos === 0 ? 0 : 1, o.retain === true]
  }
  function emit (record) {
    const c = cur
    if (c === null) fail('LAMBKIN_FUNCTION_ERROR', 'ctx.emit was called after the invocation ended')
    if (c.emits.length >= c.caps.maxEmits) fail('LAMBKIN_OUTPUT_LIMIT', 'more than ' + c.caps.maxEmits + ' emits in one invocation', 'maxEmits')
    const body = stringify(record === undefined ? null : record)
    c.emitBytes += body.length
    if (c.emitBytes > c.caps.emitBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'emitted records exceed ' + c.caps.emitBytes + ' bytes', 'emitBytes')
    c.emits[c.emits.length] = body
  }
  const logAt = (level) => function () { log(level, arguments) }
  G.console = freeze({ log: logAt('info'), info: logAt('info'), warn: logAt('warn'), error: logAt('error'), debug: logAt('debug') })

  function errorOf (e) {
    if (e !== null && typeof e === 'object') {
      const code = typeof e.lambkinCode === 'string' ? e.lambkinCode : undefined
      return { code, kind: e.lambkinKind, name: toStr(e.name), message: toStr(e.message), stack: typeof e.stack === 'string' ? e.stack : undefined }
    }
    return { name: 'Error', message: 'the handler threw a non-error value: ' + fmt([e]) }
  }
  function finish (c, ok, value) {
    cur = null
    const env = { ok, logs: c.logs }
    if (ok) {
      let r = value === undefined ? undefined : stringify(value)
      if (r !== undefined && r.length > c.caps.resultBytes) {
        return stringify({ ok: false, logs: c.logs, err: { code: 'LAMBKIN_OUTPUT_LIMIT', kind: 'resultBytes', name: 'Error', message: 'the result is ' + r.length + ' bytes, over the ' + c.caps.resultBytes + ' byte cap' } })
      }
      const s = stringify(c.state.v)
      if (s !== undefined && s.length > c.caps.stateBytes) {
        return stringify({ ok: false, logs: c.logs, err: { code: 'LAMBKIN_OUTPUT_LIMIT', kind: 'stateBytes', name: 'Error', message: 'ctx.state is ' + s.length + ' bytes, over the ' + c.caps.stateBytes + ' byte cap' } })
      }
      env.r = r
      env.s = s === c.stateIn ? undefined : s
      env.pubs = c.pubs
      env.emits = c.emits
    } else {
      env.err = errorOf(value)
    }
    return stringify(env)
  }

  const run = function (handler, eventJson, metaJson) {
    const meta = parse(metaJson)
    const event = parse(eventJson)
    const c = { caps: meta.caps, perms: meta.perms, logs: [], pubs: [], emits: [], logBytes: 0, emitBytes: 0, stateIn: meta.state, state: { v: meta.state === undefined ? {} : parse(meta.state) } }
    const deadline = meta.deadline
    const ctx = {}
    defineProperty(ctx, 'state', {
      enumerable: true,
      get () { return c.state.v },
      set (v) {
        if (v === null || typeof v !== 'object' || isArray(v)) fail('LAMBKIN_FUNCTION_ERROR', 'ctx.state must be a plain object')
        c.state.v = v
      }
    })
    ctx.functionName = meta.fn
    ctx.version = meta.version
    ctx.deviceId = meta.deviceId
    ctx.invocationId = meta.invocationId
    ctx.traceId = meta.traceId
    ctx.env = freeze(meta.env)
    ctx.remainingMs = function () { const r = deadline - now(); return r > 0 ? r : 0 }
    ctx.log = logAt('info')
    ctx.publish = publish
    ctx.emit = emit
    freeze(ctx)
    cur = c
    return then(then(resolved, () => handler(event, ctx)), (v) => finish(c, true, v), (e) => finish(c, false, e))
  }
  defineProperty(G, '__lambkin_run', { value: run, enumerable: false, writable: false, configurable: false })
})()`
