// Where a JSON text stops being valid, as line and column, and why ("trailing comma",
// "missing comma", "unquoted key"). Node 20's JSON.parse names a position for only some
// errors ("Unexpected end of JSON input" has none) and never the reason a person would give,
// so we scan for both. Iterative, so a deeply nested file cannot overflow the stack.
// A reason never quotes the text (see StrictJsonError): it names JSON's own characters only.

export interface JsonErrorPosition { position: number, line: number, column: number }
export interface JsonErrorReason extends JsonErrorPosition { reason: string }

type Want = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'after'

interface Fault { at: number, reason: string }

const WS = new Set([' ', '\t', '\n', '\r'])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])
const WORD = /[A-Za-z_$]/
const CLOSER: Record<string, string> = { '{': '}', '[': ']' }

/** The offset of the first character that makes `text` invalid JSON, or -1 when it is valid. */
export function jsonErrorOffset (text: string): number {
  return scan(text)?.at ?? -1
}

/** Line and column (both from 1) of the first error, or undefined when `text` is valid. */
export function jsonErrorPosition (text: string): JsonErrorPosition | undefined {
  const f = scan(text)
  return f === undefined ? undefined : place(text, f.at)
}

/** Where the first error is and what it is, in words, or undefined when `text` is valid. */
export function jsonErrorReason (text: string): JsonErrorReason | undefined {
  const f = scan(text)
  return f === undefined ? undefined : { ...place(text, f.at), reason: f.reason }
}

/** Whether the last character before `i` that is not white space is a comma. */
function afterComma (text: string, i: number): boolean {
  let k = i - 1
  while (k >= 0 && WS.has(text[k])) k--
  return text[k] === ','
}

function place (text: string, position: number): JsonErrorPosition {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < position; i++) {
    if (text[i] === '\n') { line++; lineStart = i + 1 }
  }
  return { position, line, column: position - lineStart + 1 }
}

function scan (text: string): Fault | undefined {
  const stack: string[] = []
  let want: Want = 'value'
  let i = 0
  let lastNumber = -1
  for (;;) {
    while (i < text.length && WS.has(text[i])) i++
    if (i >= text.length) {
      if (want === 'after' && stack.length === 0) return undefined
      if (text.trim() === '') return { at: text.length, reason: 'the file is empty' }
      const open = stack[stack.length - 1]
      return { at: text.length, reason: open === undefined ? 'it ends before a value' : `it ends early: missing '${CLOSER[open]}'` }
    }
    const c = text[i]
    if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) return { at: i, reason: 'comments are not allowed in JSON' }
    switch (want) {
      case 'valueOrClose':
      case 'value': {
        if (want === 'valueOrClose' && c === ']') { stack.pop(); i++; want = 'after'; break }
        if (c === '{' || c === '[') { stack.push(c); i++; want = c === '{' ? 'keyOrClose' : 'valueOrClose'; break }
        if (c === ']' || c === '}') {
          return { at: i, reason: afterComma(text, i) ? `trailing comma before '${c}'` : `expected a value, found '${c}'` }
        }
        if (c === ',') return { at: i, reason: 'expected a value, found \',\' (an extra comma?)' }
        const end = c === '"' ? string(text, i) : c === '-' || (c >= '0' && c <= '9') ? number(text, i) : literal(text, i)
        if (typeof end !== 'number') return end
        if (c === '-' || (c >= '0' && c <= '9')) lastNumber = end
        i = end
        want = 'after'
        break
      }
      case 'keyOrClose':
      case 'key': {
        if (c === '}') {
          if (want === 'keyOrClose') { stack.pop(); i++; want = 'after'; break }
          return { at: i, reason: 'trailing comma before \'}\'' }
        }
        if (c === '\'') return { at: i, reason: 'a key in single quotes: JSON needs double quotes' }
        if (WORD.test(c) || (c >= '0' && c <= '9')) return { at: i, reason: 'unquoted key: a key needs double quotes' }
        if (c === ',') return { at: i, reason: 'expected a key, found \',\' (an extra comma?)' }
        if (c !== '"') return { at: i, reason: `expected a key in double quotes, found '${c}'` }
        const end = string(text, i)
        if (typeof end !== 'number') return end
        i = end
        want = 'colon'
        break
      }
      case 'colon':
        if (c !== ':') return { at: i, reason: c === '=' ? 'expected \':\' after the key, found \'=\'' : 'missing \':\' after the key' }
        i++
        want = 'value'
        break
      case 'after': {
        const top = stack[stack.length - 1]
        if (top === undefined) return { at: i, reason: 'more text after the JSON value' }
        if (c === ',') { i++; want = top === '{' ? 'key' : 'value'; break }
        if ((top === '{' && c === '}') || (top === '[' && c === ']')) { stack.pop(); i++; break }
        if (lastNumber === i && c === '.') return { at: i, reason: 'a number needs digits after \'.\'' }
        if (lastNumber === i && c >= '0' && c <= '9') return { at: i, reason: 'a number may not start with 0 (leading zeros are not allowed)' }
        if (c === '}' || c === ']') return { at: i, reason: `'${c}' does not close the '${top}' that is open; expected '${CLOSER[top]}'` }
        if (c === '"' || c === '{' || c === '[' || c === '-' || (c >= '0' && c <= '9') || WORD.test(c)) {
          return { at: i, reason: `missing comma (expected ',' or '${CLOSER[top]}')` }
        }
        return { at: i, reason: `expected ',' or '${CLOSER[top]}', found '${c}'` }
      }
    }
  }
}

// The scanners return the offset after the token, or the fault.

function string (text: string, start: number): number | Fault {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]
    if (c === '"') return i + 1
    if (c < ' ') return { at: i, reason: c === '\n' || c === '\r' ? 'a line break inside a string (write \\n, or close the string)' : 'a control character inside a string (escape it, e.g. \\t)' }
    if (c !== '\\') continue
    const e = text[i + 1]
    if (e === 'u') {
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { at: i + 1, reason: '\\u needs four hex digits' }
      i += 5
    } else if (e !== undefined && ESCAPES.has(e)) {
      i++
    } else {
      return { at: Math.min(i + 1, text.length), reason: 'not a JSON escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)' }
    }
  }
  return { at: text.length, reason: 'a string is never closed (missing \'"\')' }
}

function number (text: string, start: number): number | Fault {
  NUMBER.lastIndex = start
  const m = NUMBER.exec(text)
  // "1." stops the match after "1", so the caller reports the "." that follows.
  return m === null ? { at: start, reason: '\'-\' must be followed by a digit' } : start + m[0].length
}

function literal (text: string, start: number): number | Fault {
  for (const word of ['true', 'false', 'null']) {
    if (text[start] !== word[0]) continue
    for (let k = 1; k < word.length; k++) {
      if (text[start + k] !== word[k]) return { at: start + k, reason: `not a JSON value (did you mean ${word}?)` }
    }
    return start + word.length
  }
  const c = text[start]
  if (c === '\'') return { at: start, reason: 'a string in single quotes: JSON needs double quotes' }
  if (c === '+' || c === '.') return { at: start, reason: `a number may not start with '${c}'` }
  if (WORD.test(c)) return { at: start, reason: 'not a JSON value: strings need double quotes; the words are true, false and null' }
  return { at: start, reason: `expected a value, found '${c}'` }
}
