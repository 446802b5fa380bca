// Reads the memory layout of an emscripten wasm binary and rewrites the minimum of the memory
// it imports. Only the sections needed are walked (WebAssembly core spec 1.0, section 5.5:
// import section 2, global section 6, data section 11; limits 5.3.4; LEB128 integers 5.2.2).
import { WASM_PAGE_BYTES } from './budget.js'

export interface MemoryLayout {
  /** The minimum pages the memory import declares. */
  minPages: number
  /** Pages below which all data segments and the initial stack pointer lie. */
  staticPages: number
}

interface Cursor { b: Uint8Array, p: number }

function u32 (c: Cursor): number {
  let r = 0
  let shift = 0
  for (;;) {
    const x = c.b[c.p++]
    r += (x & 0x7f) * 2 ** shift
    shift += 7
    if ((x & 0x80) === 0) return r
  }
}

function s32 (c: Cursor): number {
  let r = 0
  let shift = 0
  let x
  do {
    x = c.b[c.p++]
    r |= (x & 0x7f) << shift
    shift += 7
  } while ((x & 0x80) !== 0)
  return shift < 32 && (x & 0x40) !== 0 ? r | (-1 << shift) : r
}

function leb (n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n = Math.floor(n / 128)
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

function skipName (c: Cursor): void {
  const length = u32(c)
  c.p += length
}

/** Where the memory import's limits start (flag byte), within the import section. */
function memoryLimitsAt (c: Cursor, end: number): number | undefined {
  const count = u32(c)
  for (let i = 0; i < count && c.p < end; i++) {
    skipName(c)
    skipName(c)
    const kind = c.b[c.p++]
    if (kind === 0) u32(c)
    else if (kind === 1) { c.p++; if ((c.b[c.p++] & 1) !== 0) u32(c); u32(c) } else if (kind === 2) return c.p
    else c.p += 2
  }
  return undefined
}

/** An i32.const initialiser (0x41 value 0x0b), or undefined for any other expression. */
function constExpr (c: Cursor): number | undefined {
  const op = c.b[c.p++]
  let v: number | undefined
  if (op === 0x41) v = s32(c)
  else if (op === 0x42) { s32(c); v = undefined } else if (op === 0x23) { u32(c); v = undefined }
  while (c.b[c.p++] !== 0x0b) { /* skip to end */ }
  return v
}

/** Calls `each` per section with a cursor at its body; `header` is where its id byte is. */
function sections (b: Uint8Array, each: (id: number, c: Cursor, end: number, start: number, header: number) => void): void {
  const c = { b, p: 8 }
  while (c.p < b.length) {
    const header = c.p
    const id = b[c.p++]
    const size = u32(c)
    const start = c.p
    each(id, c, start + size, start, header)
    c.p = start + size
  }
}

/** Throws when the binary imports no memory (it is not an emscripten module built to). */
export function readMemoryLayout (b: Uint8Array): MemoryLayout {
  let minPages: number | undefined
  let top = 0
  sections(b, (id, c, end) => {
    if (id === 2) {
      const at = memoryLimitsAt(c, end)
      if (at !== undefined) { c.p = at + 1; minPages = u32(c) }
    } else if (id === 6) {
      const n = u32(c)
      for (let i = 0; i < n; i++) {
        c.p += 2
        const v = constExpr(c)
        if (v !== undefined && v > top) top = v
      }
    } else if (id === 11) {
      const n = u32(c)
      for (let i = 0; i < n; i++) {
        const flag = u32(c)
        if (flag === 2) u32(c)
        const offset = flag === 1 ? undefined : constExpr(c)
        const len = u32(c)
        c.p += len
        if (offset !== undefined && offset + len > top) top = offset + len
      }
    }
  })
  if (minPages === undefined) throw new Error('the QuickJS wasm binary imports no memory')
  return { minPages, staticPages: Math.ceil(top / WASM_PAGE_BYTES) }
}

/** A copy of the binary whose memory import declares `pages` as its minimum. */
export function withMemoryMinimum (b: Uint8Array, pages: number): Uint8Array {
  let out: Uint8Array | undefined
  sections(b, (id, c, end, start, header) => {
    if (id !== 2 || out !== undefined) return
    const at = memoryLimitsAt(c, end)
    if (at === undefined) return
    c.p = at + 1
    const minStart = c.p
    u32(c)
    const min = Uint8Array.from(leb(pages))
    const bodyLength = (minStart - start) + min.length + (end - c.p)
    out = Buffer.concat([b.subarray(0, header), Uint8Array.from([2, ...leb(bodyLength)]), b.subarray(start, minStart), min, b.subarray(c.p)])
  })
  if (out === undefined) throw new Error('the QuickJS wasm binary imports no memory')
  return out
}
