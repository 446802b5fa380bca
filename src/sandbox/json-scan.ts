// A JSON validator that builds nothing: where one JSON value in a string ends, by the grammar
// of RFC 8259 (as JSON.parse reads it) but without insignificant whitespace, which QuickJS's
// JSON.stringify never writes. It lets the worker check the shape of an envelope the prelude
// made for publishes alone without JSON.parse building the objects it would then drop
// (output-check.ts publishesPass): on a relay call's envelope the scan costs a fraction of
// the parse. Whatever it does not accept is left to JSON.parse, so it may refuse more than the
// grammar does, never less.

/** Nesting deeper than this is left to JSON.parse (the scan keeps its open containers in a fixed array). */
const MAX_DEPTH = 64
const ARRAY = 1
const OBJECT = 2
/** The kinds of the containers open in the current scan (not reentrant: the scan calls nothing). */
const open = new Uint8Array(MAX_DEPTH)

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const ZERO = 0x30
const NINE = 0x39

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)

/**
 * The index just after the JSON string that opens at `i` (s[i] is '"'), or -1. A character
 * below U+0020 must be escaped; an escape is one of \" \\ \/ \b \f \n \r \t or \u and 4 hex digits.
 */
export function jsonStringEnd (s: string, i: number): number {
  const n = s.length
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j)
    if (c === QUOTE) return j + 1
    if (c < 0x20) return -1
    if (c === BACKSLASH) {
      const e = s.charCodeAt(++j)
      if (e === 0x75) {
        if (!(isHex(s.charCodeAt(j + 1)) && isHex(s.charCodeAt(j + 2)) && isHex(s.charCodeAt(j + 3)) && isHex(s.charCodeAt(j + 4)))) return -1
        j += 4
      } else if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1
    }
  }
  return -1
}

/** The index just after the run of digits at `i` (`i` itself when there is none). */
function digitsEnd (s: string, i: number): number {
  while (isDigit(s.charCodeAt(i))) i++
  return i
}

/** The index just after the JSON number at `i` (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), or -1. */
function numberEnd (s: string, i: number): number {
  if (s.charCodeAt(i) === 0x2d) i++
  const c = s.charCodeAt(i)
  if (c === ZERO) i++
  else if (c > ZERO && c <= NINE) i = digitsEnd(s, i + 1)
  else return -1
  if (s.charCodeAt(i) === 0x2e) {
    if (!isDigit(s.charCodeAt(i + 1))) return -1
    i = digitsEnd(s, i + 2)
  }
  const e = s.charCodeAt(i)
  if (e === 0x65 || e === 0x45) {
    const sign = s.charCodeAt(++i)
    if (sign === 0x2b || sign === 0x2d) i++
    if (!isDigit(s.charCodeAt(i))) return -1
    i = digitsEnd(s, i + 1)
  }
  return i
}

/** The index just after the object key and its colon at `i`, or -1. */
function keyEnd (s: string, i: number): number {
  if (s.charCodeAt(i) !== QUOTE) return -1
  const e = jsonStringEnd(s, i)
  return e < 0 || s.charCodeAt(e) !== COLON ? -1 : e + 1
}

/**
 * The index just after the one JSON value that starts at `i`, or -1 when there is none there
 * (or it nests deeper than MAX_DEPTH, or has whitespace between its tokens). Iterative: a
 * deeply nested value cannot overflow the stack.
 */
export function jsonValueEnd (s: string, i: number): number {
  let depth = 0
  for (;;) {
    const c = s.charCodeAt(i)
    if (c === QUOTE) i = jsonStringEnd(s, i)
    else if (c === 0x7b || c === 0x5b) {
      const empty = s.charCodeAt(i + 1) === (c === 0x7b ? 0x7d : 0x5d)
      if (empty) i += 2
      else {
        if (depth === MAX_DEPTH) return -1
        open[depth++] = c === 0x7b ? OBJECT : ARRAY
        i = c === 0x7b ? keyEnd(s, i + 1) : i + 1
        if (i < 0) return -1
        continue
      }
    } else if (c === 0x74) i = s.startsWith('true', i) ? i + 4 : -1
    else if (c === 0x66) i = s.startsWith('false', i) ? i + 5 : -1
    else if (c === 0x6e) i = s.startsWith('null', i) ? i + 4 : -1
    else i = numberEnd(s, i)
    if (i < 0) return -1
    // After a value: close what ends here, then expect the next element or member.
    for (;;) {
      if (depth === 0) return i
      const kind = open[depth - 1]
      const d = s.charCodeAt(i)
      if (d === COMMA) {
        i = kind === OBJECT ? keyEnd(s, i + 1) : i + 1
        if (i < 0) return -1
        break
      }
      if (d !== (kind === OBJECT ? 0x7d : 0x5d)) return -1
      depth--
      i++
    }
  }
}
