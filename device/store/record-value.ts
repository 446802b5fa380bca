// A stored record's value (codec.ts StoredRecord, a CBOR map) read without decoding its data:
// the envelope fields as values and `d` as the bytes the store holds, so the cloud link sends
// them embedded (src/wire/embedded-data.ts) and a drain decodes no payload. Walks CBOR heads
// and lengths only; anything of another shape answers undefined and the caller decodes.
import type { StoredRecord } from './codec.js'

/** A stored record with its data left as CBOR bytes (a view into the stored value). */
export type SplitRecord = Omit<StoredRecord, 'd'> & { d: Uint8Array }

const stack: number[] = []

/** Where the item starting at `pos` ends, or -1 when it runs past the end or is not CBOR. */
export function itemEnd (b: Uint8Array, pos: number): number {
  // What cbor-x writes has definite lengths only: a count of the items still to skip is then
  // all the state there is. An indefinite length (or a stray break) takes the general walk.
  const start = pos
  const len = b.length
  let need = 1
  do {
    if (pos >= len) return -1
    const ib = b[pos++]
    need--
    const info = ib & 31
    if (info >= 28) return info === 31 ? nestedEnd(b, start) : -1
    let arg = info
    if (info >= 24) {
      const n = 1 << (info - 24)
      if (pos + n > len) return -1
      arg = 0
      for (let i = 0; i < n; i++) arg = arg * 256 + b[pos++]
    }
    const major = ib >> 5
    if (major === 2 || major === 3) pos += arg
    else if (major === 4) need += arg
    else if (major === 5) need += arg * 2
    else if (major === 6) need++
  } while (need > 0)
  return pos > len ? -1 : pos
}

/** itemEnd for items with indefinite lengths: a stack of what each open container still holds. */
function nestedEnd (b: Uint8Array, pos: number): number {
  // Items still to skip in each open container (-1: indefinite, until a break); one array for
  // every call (this runs once per field of every record a drain reads).
  const left = stack
  left.length = 0
  do {
    if (pos >= b.length) return -1
    const ib = b[pos++]
    if (ib === 0xff) {
      if (left.length === 0 || left[left.length - 1] !== -1) return -1
      left.pop()
    } else {
      if (left.length > 0 && left[left.length - 1] > 0) left[left.length - 1]--
      const major = ib >> 5
      const info = ib & 31
      let arg = info
      if (info >= 24 && info <= 27) {
        const n = 1 << (info - 24)
        if (pos + n > b.length) return -1
        arg = 0
        for (let i = 0; i < n; i++) arg = arg * 256 + b[pos++]
      } else if (info >= 28 && info < 31) {
        return -1
      }
      if (major === 2 || major === 3) {
        if (info === 31) left.push(-1)
        else if ((pos += arg) > b.length) return -1
      } else if (major === 4 || major === 5) {
        if (info === 31) left.push(-1)
        else if (arg > 0) left.push(major === 5 ? arg * 2 : arg)
      } else if (major === 6) {
        left.push(1)
      }
    }
    while (left.length > 0 && left[left.length - 1] === 0) left.pop()
  } while (left.length > 0)
  return pos
}

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** The number at `pos` (an integer or a float head), or undefined. */
function numberAt (b: Uint8Array, pos: number, end: number): number | undefined {
  const ib = b[pos]
  const major = ib >> 5
  if (major === 0 || major === 1) {
    const info = ib & 31
    let arg = info
    if (info >= 24) {
      arg = 0
      for (let i = pos + 1; i < end; i++) arg = arg * 256 + b[i]
    }
    return major === 0 ? arg : -1 - arg
  }
  if (ib === 0xfb && end - pos === 9) {
    // Big-endian on the wire: bytes copied into a scratch float in the machine's order.
    for (let i = 0; i < 8; i++) f64Bytes[LITTLE_ENDIAN ? 7 - i : i] = b[pos + 1 + i]
    return f64[0]
  }
  if (ib === 0xfa && end - pos === 5) return new DataView(b.buffer, b.byteOffset + pos + 1, 4).getFloat32(0)
  return undefined
}

const LAST_MAX = 64
const lastBytes = new Uint8Array(LAST_MAX)
let lastLength = -1
let lastText = ''

/** The text at `pos` (a definite text string ending at `end`), or undefined. */
function textAt (b: Uint8Array, pos: number, end: number): string | undefined {
  const ib = b[pos]
  const info = ib & 31
  if (ib >> 5 !== 3 || info > 27) return undefined
  const start = pos + 1 + (info < 24 ? 0 : 1 << (info - 24))
  // Function names and boot tags are short ASCII: the last one again (a drain reads the same
  // few names over and over), else built directly, no decoder call.
  const n = end - start
  if (n <= LAST_MAX) {
    if (n === lastLength) {
      let same = true
      for (let i = 0; i < n && same; i++) same = b[start + i] === lastBytes[i]
      if (same) return lastText
    }
    let s = ''
    for (let i = start; i < end; i++) {
      if (b[i] > 0x7f) return Buffer.from(b.buffer, b.byteOffset + start, n).toString('utf8')
      s += String.fromCharCode(b[i])
    }
    lastBytes.set(b.subarray(start, end))
    lastLength = n
    lastText = s
    return s
  }
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8')
}

/** A field that is not of its type: the value is decoded the slow way. */
const BAD = '\u0000bad'

/**
 * The stored value `v` split into its envelope and data bytes, or undefined when it is not a
 * map of one-letter text keys with a number `t` and a data item `d` (the caller decodes it).
 */
export function splitRecord (v: Uint8Array): SplitRecord | undefined {
  // cbor-x writes an object's head with a 16-bit count (0xb9) whatever its size.
  const ib = v[0]
  if (ib >> 5 !== 5) return undefined
  let fields = ib & 31
  let pos = 1
  if (fields === 25) { fields = v[1] * 256 + v[2]; pos = 3 } else if (fields > 23) return undefined
  let t: number | undefined
  let f: string | undefined
  let x: number | undefined
  let m: number | undefined
  let b: string | undefined
  let d0 = -1
  let d1 = -1
  for (let i = 0; i < fields; i++) {
    // Keys are one-letter text strings: 0x61 then the letter.
    if (v[pos] !== 0x61 || pos + 2 > v.length) return undefined
    const key = v[pos + 1]
    pos += 2
    const end = itemEnd(v, pos)
    if (end < 0) return undefined
    if (key === 0x64) { d0 = pos; d1 = end } else if (key === 0x74) t = numberAt(v, pos, end)
    else if (key === 0x66) f = textAt(v, pos, end) ?? BAD
    else if (key === 0x62) b = textAt(v, pos, end) ?? BAD
    else if (key === 0x78) x = numberAt(v, pos, end) ?? NaN
    else if (key === 0x6d) m = numberAt(v, pos, end) ?? NaN
    if (f === BAD || b === BAD || Number.isNaN(x) || Number.isNaN(m)) return undefined
    pos = end
  }
  if (t === undefined || d0 < 0 || pos !== v.length) return undefined
  const out: SplitRecord = { t, d: Buffer.from(v.buffer, v.byteOffset + d0, d1 - d0) }
  if (f !== undefined) out.f = f
  if (x !== undefined) out.x = x
  if (m !== undefined) out.m = m
  if (b !== undefined) out.b = b
  return out
}
