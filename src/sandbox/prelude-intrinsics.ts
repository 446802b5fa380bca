// The first parts of the sandbox glue (prelude.ts): the references it takes before any user
// code runs and a Math.random seeded per sandbox (INTRINSICS_SOURCE), then the helpers built only
// on those (HELPERS_SOURCE). Modules of their own, evaluated before prelude.ts's, which import
// what they export: QuickJS parses each module apart, and the scratch memory a parse touches
// grows with the module's length, so the glue in smaller modules leaves fewer pages of each
// instance's memory resident (docs/performance.md, "What is left, and the targets").
import { reservedTopicProblem, topicProblem } from '../function/topic-filter.js'

/**
 * The module's name inside QuickJS. A function's imports cannot reach it: instance.ts
 * normalizes a bare name to `layer:<name>` and a relative one to a path without a leading
 * `/`, and only then does QuickJS look among the modules already evaluated. It exports
 * nothing a function could not take itself before any code of its own has run.
 */
export const INTRINSICS_MODULE = '/lambkin/intrinsics'

/** The names INTRINSICS_SOURCE exports, which the later glue modules import. */
export const INTRINSICS_EXPORTS = Object.freeze(['G', 'stringify', 'parse', 'now', 'freeze', 'defineProperty', 'isArray', 'toStr', 'MkError', 'MkRangeError',
  'apply', 'zoned', 'codeAt', 'cut', 'encodeUri', 'unesc'])

/** Where HELPERS_SOURCE is registered; out of a function's reach as INTRINSICS_MODULE is. */
export const HELPERS_MODULE = '/lambkin/helpers'

/** The names HELPERS_SOURCE exports. */
export const HELPERS_EXPORTS = Object.freeze(['topicProblem', 'reservedTopicProblem', 'bytesOf', 'overBytes', 'fmt', 'levelMatch', 'show',
  'isBase64', 'errJson', 'errorOf'])

/** Characters of an error's message and of its stack kept in an envelope. */
export const ERROR_TEXT_CHARS = 8192

/** An ES module (QuickJS evaluates it as one, so its bindings are its own). */
export const INTRINSICS_SOURCE = String.raw`'use strict'
  const G = globalThis
  const stringify = JSON.stringify
  const parse = JSON.parse
  const now = Date.now
  const freeze = Object.freeze
  const defineProperty = Object.defineProperty
  const isArray = Array.isArray
  const toStr = String
  const MkError = Error
  const MkRangeError = RangeError
  const apply = Reflect.apply
  const charCodeAt = String.prototype.charCodeAt
  const strSlice = String.prototype.slice
  const encodeUri = encodeURIComponent
  const unesc = unescape
  // Host helpers, installed before this script and taken off the global object here.
  const zoned = G.__lambkin_zoned
  delete G.__lambkin_zoned
  // Math.random: QuickJS seeds its generator from the clock in milliseconds, so sandboxes made
  // in the same millisecond drew the same numbers. Each sandbox adds (mod 1) its own xorshift32
  // stream (Marsaglia 2003), seeded by the host with random bits: the sum of a uniform value
  // and any independent one is uniform, and the native generator still does most of the work.
  const nativeRandom = Math.random
  let x = G.__lambkin_seed | 0
  delete G.__lambkin_seed
  if (x === 0) x = 0x9e3779b9 | 0
  const random = { random () {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    const r = nativeRandom() + (x >>> 0) / 4294967296
    return r >= 1 ? r - 1 : r
  } }.random
  defineProperty(Math, 'random', { value: random, writable: true, configurable: true, enumerable: false })

  function codeAt (s, i) { return apply(charCodeAt, s, [i]) }
  function cut (s, n) { return s.length > n ? apply(strSlice, s, [0, n]) : s }
  export { ${INTRINSICS_EXPORTS.join(', ')} }
`

/** An ES module of the glue: helpers that use nothing but what INTRINSICS_SOURCE captured. */
export const HELPERS_SOURCE = String.raw`'use strict'
  import { ${INTRINSICS_EXPORTS.join(', ')} } from '${INTRINSICS_MODULE}'
  ${topicProblem.toString()}
  ${reservedTopicProblem.toString()}
  // UTF-8 bytes of s as it will be stored and sent (a lone surrogate becomes U+FFFD, 3 bytes).
  function bytesOf (s) {
    try {
      return unesc(encodeUri(s)).length
    } catch (e) {
      let b = 0
      for (let i = 0; i < s.length; i++) {
        const ch = s[i]
        if (ch < '\u0080') b += 1
        else if (ch < '\u0800') b += 2
        else if (ch >= '\ud800' && ch <= '\udbff' && i + 1 < s.length && s[i + 1] >= '\udc00' && s[i + 1] <= '\udfff') { b += 4; i++ } else b += 3
      }
      return b
    }
  }
  // A UTF-16 unit is 1 to 3 UTF-8 bytes, so most strings need no count.
  function overBytes (s, cap) {
    if (s.length > cap) return true
    if (s.length * 3 <= cap) return false
    return bytesOf(s) > cap
  }
  const ERR_CHARS = ${ERROR_TEXT_CHARS}
  function fmt (args) {
    let s = ''
    for (let i = 0; i < args.length; i++) {
      const a = args[i]
      let p
      if (typeof a === 'string') p = a
      else if (a instanceof MkError) p = toStr(a.name) + ': ' + toStr(a.message)
      else { try { p = stringify(a) } catch (e) { p = undefined } if (typeof p !== 'string') p = toStr(a) }
      s += (i > 0 ? ' ' : '') + p
    }
    return s
  }
  // f: a permission filter split at '/' by __lambkin_init; t: the topic, walked in place.
  function levelMatch (f, t) {
    const n = t.length
    let pos = 0
    for (let k = 0; k < f.length; k++) {
      const lv = f[k]
      if (lv === '#') return true
      if (pos > n) return false
      let end = pos
      while (end < n && t[end] !== '/') end++
      if (lv !== '+') {
        if (end - pos !== lv.length) return false
        for (let j = 0; j < lv.length; j++) if (lv[j] !== t[pos + j]) return false
      }
      pos = end + 1
    }
    return pos > n
  }
  function show (v) {
    return typeof v === 'string' ? stringify(cut(v, 200)) : typeof v
  }
  function isBase64 (v) {
    if (v.length % 4 !== 0) return false
    for (let i = 0; i < v.length; i++) {
      const ch = v[i]
      const ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '+' || ch === '/' || (ch === '=' && i >= v.length - 2 && (i === v.length - 1 || v[v.length - 1] === '='))
      if (!ok) return false
    }
    return true
  }
  function field (name, v) { return typeof v === 'string' ? ',"' + name + '":' + stringify(v) : '' }
  function errJson (code, kind, name, message, stack) {
    return '{"name":' + stringify(name) + field('code', code) + field('kind', kind) + ',"message":' + stringify(message) + field('stack', stack) + '}'
  }
  function errorOf (e) {
    try {
      if (e !== null && typeof e === 'object') {
        const code = e.lambkinCode
        const kind = e.lambkinKind
        const stack = e.stack
        return errJson(typeof code === 'string' ? code : undefined, typeof kind === 'string' ? kind : undefined, cut(toStr(e.name), 200),
          cut(toStr(e.message), ERR_CHARS), typeof stack === 'string' ? cut(stack, ERR_CHARS) : undefined)
      }
      return errJson(undefined, undefined, 'Error', 'the handler threw a non-error value: ' + cut(fmt([e]), ERR_CHARS))
    } catch (inner) {
      return errJson(undefined, undefined, 'Error', 'the handler threw a value that could not be described')
    }
  }
  export { ${HELPERS_EXPORTS.join(', ')} }
`
