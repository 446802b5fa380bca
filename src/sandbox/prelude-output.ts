// A module of the sandbox glue (prelude.ts has the overview, GLUE_MODULES the order), run
// after prelude-intrinsics.ts's two: the slots of a call's working set, and the checks and
// pieces of an envelope that read nothing of a call but its arguments and the permissions. A
// module of its own because QuickJS's parse touches scratch memory in proportion to the module
// it parses (prelude.ts GLUE_MODULES).
import { HELPERS_EXPORTS, HELPERS_MODULE, INTRINSICS_EXPORTS, INTRINSICS_MODULE } from './prelude-intrinsics.js'

/** The longest correlation data a publish may carry (MQTT 5 section 3.3.2.3.6: binary data, 65535 bytes), as base64. */
export const MAX_CORRELATION_BASE64 = 4 * Math.ceil(65535 / 3)

/** Where OUTPUT_SOURCE is registered; out of a function's reach as INTRINSICS_MODULE is. */
export const OUTPUT_MODULE = '/lambkin/output'

/** The names OUTPUT_SOURCE exports. */
export const OUTPUT_EXPORTS = Object.freeze(['STATE_IN', 'VERSION', 'STATE', 'STATE_READ', 'LOGS', 'PUBS', 'EMITS', 'LOG_BYTES', 'EMIT_BYTES', 'N_PUBS',
  'N_EMITS', 'setPerms', 'fail', 'topicJson', 'NO_OPTS', 'requestProps', 'logsOf', 'limitFail'])

/** An ES module, evaluated after HELPERS_SOURCE (instance.ts prepare()). */
export const OUTPUT_SOURCE = String.raw`'use strict'
  import { ${INTRINSICS_EXPORTS.join(', ')} } from '${INTRINSICS_MODULE}'
  import { ${HELPERS_EXPORTS.join(', ')} } from '${HELPERS_MODULE}'
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
  // The permission filters, split at '/' by the glue's init().
  function setPerms (p) { perms = p }
  function fail (code, message, kind) {
    const e = new MkError(message)
    // code for the function that catches it (as Node's errors carry theirs); lambkinCode is
    // what the envelope reads, so a function that overwrites code cannot change the outcome.
    e.code = code
    e.lambkinCode = code
    if (kind !== undefined) e.lambkinKind = kind
    throw e
  }
  function allowed (topic) {
    for (let k = 0; k < perms.length; k++) if (levelMatch(perms[k], topic)) return true
    return false
  }
  // The topics this instance has already let through, each beside its JSON: checking a topic
  // runs interpreted character loops (about 11 us for "bench/out", the rest of a publish about
  // 5), and the verdict depends only on the string and perms, which init() fixed (setPerms). Matched by
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
  function logsOf (c) { return c[LOGS] === null ? '' : ',"logs":[' + c[LOGS] + ']' }
  function limitFail (c, kind, what, cap) {
    return '{"ok":false' + logsOf(c) + ',"err":' + errJson('LAMBKIN_OUTPUT_LIMIT', kind, 'Error', what + ' is over the ' + cap + ' byte cap (' + kind + ', counted as UTF-8)') + '}'
  }
  export { ${OUTPUT_EXPORTS.join(', ')} }
`
