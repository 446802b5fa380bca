// Where a JSON text stops being valid, as line and column. Node 20's JSON.parse names a
// position for only some errors ("Unexpected end of JSON input" has none), so we scan for it.
// Iterative, so a deeply nested file cannot overflow the stack.

export interface JsonErrorPosition { position: number, line: number, column: number }

type Want = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'after'

const WS = new Set([' ', '\t', '\n', '\r'])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])

/** The offset of the first character that makes `text` invalid JSON, or -1 when it is valid. */
export function jsonErrorOffset (text: string): number {
  const stack: string[] = []
  let want: Want = 'value'
  let i = 0
  for (;;) {
    while (i < text.length && WS.has(text[i])) i++
    if (i >= text.length) return want === 'after' && stack.length === 0 ? -1 : text.length
    const c = text[i]
    switch (want) {
      case 'valueOrClose':
      case 'value':
        if (want === 'valueOrClose' && c === ']') { stack.pop(); i++; want = 'after'; break }
        if (c === '{' || c === '[') { stack.push(c); i++; want = c === '{' ? 'keyOrClose' : 'valueOrClose'; break }
        i = c === '"' ? string(text, i) : c === '-' || (c >= '0' && c <= '9') ? number(text, i) : literal(text, i)
        if (i < 0) return -i - 1
        want = 'after'
        break
      case 'keyOrClose':
      case 'key':
        if (want === 'keyOrClose' && c === '}') { stack.pop(); i++; want = 'after'; break }
        if (c !== '"') return i
        i = string(text, i)
        if (i < 0) return -i - 1
        want = 'colon'
        break
      case 'colon':
        if (c !== ':') return i
        i++
        want = 'value'
        break
      case 'after': {
        const top = stack[stack.length - 1]
        if (top === undefined) return i
        if (c === ',') { i++; want = top === '{' ? 'key' : 'value'; break }
        if ((top === '{' && c === '}') || (top === '[' && c === ']')) { stack.pop(); i++; break }
        return i
      }
    }
  }
}

/** Line and column (both from 1) of the first error, or undefined when `text` is valid. */
export function jsonErrorPosition (text: string): JsonErrorPosition | undefined {
  const position = jsonErrorOffset(text)
  if (position < 0) return undefined
  let line = 1
  let lineStart = 0
  for (let i = 0; i < position; i++) {
    if (text[i] === '\n') { line++; lineStart = i + 1 }
  }
  return { position, line, column: position - lineStart + 1 }
}

// The scanners return the offset after the token, or -(errorOffset + 1).

function string (text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]
    if (c === '"') return i + 1
    if (c < ' ') return -i - 1
    if (c !== '\\') continue
    const e = text[i + 1]
    if (e === 'u') {
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -(i + 1) - 1
      i += 5
    } else if (e !== undefined && ESCAPES.has(e)) {
      i++
    } else {
      return -(Math.min(i + 1, text.length)) - 1
    }
  }
  return -text.length - 1
}

function number (text: string, start: number): number {
  NUMBER.lastIndex = start
  const m = NUMBER.exec(text)
  // "1." stops the match after "1", so the caller reports the "." that follows.
  return m === null ? -start - 1 : start + m[0].length
}

function literal (text: string, start: number): number {
  for (const word of ['true', 'false', 'null']) {
    if (text[start] !== word[0]) continue
    for (let k = 1; k < word.length; k++) {
      if (text[start + k] !== word[k]) return -(start + k) - 1
    }
    return start + word.length
  }
  return -start - 1
}
