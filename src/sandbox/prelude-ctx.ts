// A module of the sandbox glue (prelude.ts has the overview): ctx.log, ctx.publish,
// ctx.emit and ctx.time.parts, which read the call's state through what PRELUDE_SOURCE exports
// (the caps and live()) and write only its working set. PRELUDE_SOURCE imports them back: the
// two modules import each other, which ES modules allow, and this one's top level only
// declares functions, so nothing reads the other's bindings before they are set. A module of its
// own for the parse's scratch memory (prelude.ts GLUE_MODULES).
import { HELPERS_EXPORTS, HELPERS_MODULE, INTRINSICS_EXPORTS, INTRINSICS_MODULE } from './prelude-intrinsics.js'
import { OUTPUT_EXPORTS, OUTPUT_MODULE } from './prelude-output.js'

/** Where PRELUDE_SOURCE is registered; like INTRINSICS_MODULE, no import can reach it. */
export const PRELUDE_MODULE = '/lambkin/prelude'

/** The names PRELUDE_SOURCE exports, for CTX_SOURCE only. */
export const PRELUDE_EXPORTS = Object.freeze(['caps', 'active', 'live', 'running'])

/** Where CTX_SOURCE is registered; out of a function's reach as INTRINSICS_MODULE is. */
export const CTX_MODULE = '/lambkin/ctx'

/** The names CTX_SOURCE exports. */
export const CTX_EXPORTS = Object.freeze(['log', 'publish', 'emit', 'parts'])

/** An ES module of the glue (prelude.ts GLUE_MODULES). */
export const CTX_SOURCE = String.raw`'use strict'
  import { ${INTRINSICS_EXPORTS.join(', ')} } from '${INTRINSICS_MODULE}'
  import { ${HELPERS_EXPORTS.join(', ')} } from '${HELPERS_MODULE}'
  import { ${OUTPUT_EXPORTS.join(', ')} } from '${OUTPUT_MODULE}'
  import { ${PRELUDE_EXPORTS.join(', ')} } from '${PRELUDE_MODULE}'
  function log (level, args) {
    if (!active) return
    const c = live()
    const msg = fmt(args)
    c[LOG_BYTES] += bytesOf(msg) + 24
    if (c[LOG_BYTES] > caps.logBytes) fail('LAMBKIN_OUTPUT_LIMIT', 'logs of this invocation exceed ' + caps.logBytes + ' bytes', 'logBytes')
    const entry = '["' + level + '",' + now() + ',' + stringify(msg) + ']'
    c[LOGS] = c[LOGS] === null ? entry : c[LOGS] + ',' + entry
  }
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
  export { ${CTX_EXPORTS.join(', ')} }
`
