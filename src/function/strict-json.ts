// The one reader for JSON files an operator or a function author writes (function.json, the
// device config): RFC 8259 JSON, plus limits JSON.parse does not have. No library in the
// install refuses duplicate keys, so this is a small recursive parser bounded by maxDepth.

import { jsonErrorReason } from './json-position.js'

export interface StrictJsonLimits {
  /** Largest accepted input, in bytes (as stored on disk). */
  maxBytes: number
  /** Deepest nesting of objects and arrays; the top-level value is depth 1. */
  maxDepth: number
}

export type StrictJsonFault = 'too-large' | 'not-utf8' | 'syntax' | 'too-deep' | 'duplicate-key'

/**
 * Why a text was refused, and where. The message names a position and never quotes the text:
 * a file that is not what it should be (a link to /proc/self/environ, a config holding a
 * password) must not reach a log through its error.
 */
export class StrictJsonError extends SyntaxError {
  readonly fault: StrictJsonFault
  /** Character offset into the decoded text (byte offset for `not-utf8` and `too-large`). */
  readonly position: number
  /** From 1; 0 when the fault has no place in the text (`too-large`). */
  readonly line: number
  readonly column: number
  /** The duplicated key, for `duplicate-key` (a key is the author's own name, not content). */
  readonly key?: string

  constructor (fault: StrictJsonFault, message: string, at: { position: number, line: number, column: number }, key?: string) {
    super(message)
    this.name = 'StrictJsonError'
    this.fault = fault
    this.position = at.position
    this.line = at.line
    this.column = at.column
    if (key !== undefined) this.key = key
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
const WS = new Set([0x20, 0x09, 0x0a, 0x0d])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/**
 * Parses UTF-8 bytes (or an already decoded string) as JSON with `limits`. A leading byte
 * order mark is dropped (editors on Windows write one). Objects get their keys as own
 * properties, `__proto__` included, as JSON.parse does.
 * @throws StrictJsonError for input over `maxBytes`, bytes that are not UTF-8 (never replaced
 *   by U+FFFD), invalid JSON (RFC 8259), nesting deeper than `maxDepth`, or an object naming
 *   the same key twice (RFC 8259 section 4 leaves that to the reader; we refuse it, since the
 *   last value silently winning let `"permissions"` be granted twice with the wider grant).
 */
export function parseStrictJson (input: Uint8Array | string, limits: StrictJsonLimits): unknown {
  const bytes = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength
  if (bytes > limits.maxBytes) {
    throw new StrictJsonError('too-large', `is ${bytes} bytes, more than the ${limits.maxBytes} allowed`, { position: limits.maxBytes, line: 0, column: 0 })
  }
  let text: string
  if (typeof input === 'string') {
    text = input
  } else {
    try {
      text = utf8.decode(input)
    } catch {
      const at = invalidUtf8Offset(input)
      throw new StrictJsonError('not-utf8', `is not valid UTF-8 (byte offset ${at}); save it as UTF-8`, { position: at, ...lineColumn(utf8.decode(input.subarray(0, at)), Infinity) })
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  return new Parser(text, limits.maxDepth).document()
}

/** Line and column (from 1) of a character offset. */
export function lineColumn (text: string, position: number): { line: number, column: number } {
  let line = 1
  let lineStart = 0
  const end = Math.min(position, text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 0x0a) { line++; lineStart = i + 1 }
  }
  return { line, column: end - lineStart + 1 }
}

class Parser {
  #i = 0
  readonly #text: string
  readonly #maxDepth: number

  constructor (text: string, maxDepth: number) {
    this.#text = text
    this.#maxDepth = maxDepth
  }

  document (): unknown {
    const v = this.#value(1)
    this.#ws()
    if (this.#i < this.#text.length) this.#syntax()
    return v
  }

  #value (depth: number): unknown {
    this.#ws()
    const t = this.#text
    const c = t[this.#i]
    if (c === '{' || c === '[') {
      if (depth > this.#maxDepth) this.#fail('too-deep', `nests deeper than ${this.#maxDepth} levels`, this.#i)
      return c === '{' ? this.#object(depth) : this.#array(depth)
    }
    if (c === '"') return this.#string()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = this.#i
      const m = NUMBER.exec(t)
      if (m === null) this.#syntax()
      this.#i += m[0].length
      return Number(m[0])
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (t.startsWith(word, this.#i)) { this.#i += word.length; return v }
    }
    return this.#syntax()
  }

  #object (depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    this.#i++
    this.#ws()
    if (this.#text[this.#i] === '}') { this.#i++; return out }
    for (;;) {
      this.#ws()
      if (this.#text[this.#i] !== '"') this.#syntax()
      const at = this.#i
      const key = this.#string()
      if (Object.hasOwn(out, key)) this.#fail('duplicate-key', `names key ${JSON.stringify(key)} twice in one object`, at, key)
      this.#ws()
      if (this.#text[this.#i] !== ':') this.#syntax()
      this.#i++
      // defineProperty, so "__proto__" becomes an own key instead of setting the prototype.
      Object.defineProperty(out, key, { value: this.#value(depth + 1), enumerable: true, writable: true, configurable: true })
      this.#ws()
      const c = this.#text[this.#i++]
      if (c === '}') return out
      if (c !== ',') { this.#i--; this.#syntax() }
    }
  }

  #array (depth: number): unknown[] {
    const out: unknown[] = []
    this.#i++
    this.#ws()
    if (this.#text[this.#i] === ']') { this.#i++; return out }
    for (;;) {
      out.push(this.#value(depth + 1))
      this.#ws()
      const c = this.#text[this.#i++]
      if (c === ']') return out
      if (c !== ',') { this.#i--; this.#syntax() }
    }
  }

  /** A string token, checked by hand (a regex over a long string can exhaust its backtrack stack). */
  #string (): string {
    const t = this.#text
    const start = this.#i
    for (let i = start + 1; i < t.length; i++) {
      const c = t.charCodeAt(i)
      if (c === 0x22) {
        this.#i = i + 1
        return JSON.parse(t.slice(start, i + 1)) as string
      }
      if (c < 0x20) break
      if (c === 0x5c) {
        const e = t[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) break
          i += 5
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i++
        } else {
          break
        }
      }
    }
    return this.#syntax()
  }

  #ws (): void {
    while (this.#i < this.#text.length && WS.has(this.#text.charCodeAt(this.#i))) this.#i++
  }

  /** The json-position scanner is the one authority on where a syntax error is. */
  #syntax (): never {
    const found = jsonErrorReason(this.#text)
    const at = found ?? { position: this.#i, ...lineColumn(this.#text, this.#i) }
    const why = found === undefined ? '' : `: ${found.reason}`
    throw new StrictJsonError('syntax', `is not valid JSON at line ${at.line}, column ${at.column} (position ${at.position})${why}`, { position: at.position, line: at.line, column: at.column })
  }

  #fail (fault: StrictJsonFault, what: string, position: number, key?: string): never {
    const lc = lineColumn(this.#text, position)
    throw new StrictJsonError(fault, `${what} at line ${lc.line}, column ${lc.column} (position ${position})`, { position, ...lc }, key)
  }
}

/** Offset of the first byte that breaks UTF-8 (Unicode 15, table 3-7), or -1. */
export function invalidUtf8Offset (b: Uint8Array): number {
  let i = 0
  while (i < b.length) {
    const c = b[i]
    if (c < 0x80) { i++; continue }
    let n: number
    let lo = 0x80
    let hi = 0xbf
    if (c >= 0xc2 && c <= 0xdf) n = 1
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2
      if (c === 0xe0) lo = 0xa0
      if (c === 0xed) hi = 0x9f
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3
      if (c === 0xf0) lo = 0x90
      if (c === 0xf4) hi = 0x8f
    } else return i
    for (let k = 1; k <= n; k++) {
      const x = b[i + k]
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i
    }
    i += n + 1
  }
  return -1
}
