// Decoding `up/batch` frames on the cloud's hot path [W4]: a reader for the plain subset of
// CBOR that batch frames are made of (batch-encode.ts writes only that), which builds the same
// values cbor-x builds (cbor.ts), in a third of its time. Anything outside the subset (another
// tag, a float16 or float32, an indefinite length, a non-ASCII string, a key that is not text,
// `__proto__`, deep nesting, bytes that end early) is handed to decodeFrame whole, so what a
// frame decodes to, and every error, stays cbor-x's.
import { Tag } from 'cbor-x'
import { checkFrameSize, checkVersion, decodeFrame } from './cbor.js'
import { EMBEDDED_CBOR_TAG } from './embedded-data.js'

/** Thrown inside the reader to hand a frame to cbor-x; never escapes. */
const OUTSIDE = Symbol('outside the subset')
/** Deeper than this the frame goes to cbor-x (record data nests at most DATA_MAX_DEPTH). */
const MAX_DEPTH = 64
/** Strings this long or shorter are looked up in (and kept in) the cache of repeated texts. */
const CACHED_TEXT_MAX = 32
/**
 * Texts kept per byte length: keys, kinds and function names repeat and are found in a few
 * compares; a text seen once (a value) is not kept once its length's list is full.
 */
const PER_LENGTH = 8

/** Short ASCII texts seen before, by byte length: a key read again costs a compare, no string. */
const cache: Array<Array<{ bytes: Uint8Array, text: string }>> = []

let src: Buffer = Buffer.alloc(0)
let pos = 0
let end = 0
/**
 * Array items the frame may still declare: its byte count, as cbor-x spends it. Each item takes
 * a byte, so a frame that fits never runs out; arrays nested to declare the bytes left at every
 * level would otherwise be made (8 bytes an item) before their items are found missing.
 */
let budget = 0

function text (n: number): string {
  const start = pos
  if (n > end - start) throw OUTSIDE
  for (let i = start; i < start + n; i++) if (src[i] >= 0x80) throw OUTSIDE
  pos = start + n
  if (n > CACHED_TEXT_MAX) return src.toString('latin1', start, pos)
  const list = (cache[n] ??= [])
  for (const e of list) {
    const b = e.bytes
    let i = 0
    while (i < n && b[i] === src[start + i]) i++
    if (i === n) return e.text
  }
  const t = src.toString('latin1', start, pos)
  if (list.length < PER_LENGTH) list.push({ bytes: Uint8Array.prototype.slice.call(src, start, pos), text: t })
  return t
}

/** The argument of a head with additional info `info` (< 28); lengths and integers up to 2^32-1, else outside. */
function arg (info: number): number {
  if (info < 24) return info
  if (info === 24) { if (pos >= end) throw OUTSIDE; return src[pos++] }
  if (info === 25) { if (pos + 2 > end) throw OUTSIDE; const v = src.readUInt16BE(pos); pos += 2; return v }
  if (info === 26) { if (pos + 4 > end) throw OUTSIDE; const v = src.readUInt32BE(pos); pos += 4; return v }
  throw OUTSIDE
}

function item (depth: number): unknown {
  if (pos >= end) throw OUTSIDE
  const ib = src[pos++]
  const major = ib >> 5
  const info = ib & 31
  switch (major) {
    case 0: return arg(info)
    case 1: return -1 - arg(info)
    case 2: {
      const n = arg(info)
      if (n > end - pos) throw OUTSIDE
      return src.subarray(pos, (pos += n))
    }
    case 3: return text(arg(info))
    case 4: {
      const n = arg(info)
      if (n > end - pos || (budget -= n) < 0 || depth >= MAX_DEPTH) throw OUTSIDE
      const a = new Array(n)
      for (let i = 0; i < n; i++) a[i] = item(depth + 1)
      return a
    }
    case 5: {
      const n = arg(info)
      if (n > (end - pos) / 2 || depth >= MAX_DEPTH) throw OUTSIDE
      if (n === 4 || n === 5) {
        const r = record(n, depth)
        if (r !== undefined) return r
      }
      const o: Record<string, unknown> = {}
      for (let i = 0; i < n; i++) {
        if (pos >= end || src[pos] >> 5 !== 3) throw OUTSIDE
        const k = text(arg(src[pos++] & 31))
        if (k === '__proto__') throw OUTSIDE
        o[k] = item(depth + 1)
      }
      return o
    }
    case 6: {
      // Only tag 24 around a byte string: embedded record data (embedded-data.ts).
      if (info > 24 || arg(info) !== EMBEDDED_CBOR_TAG || pos >= end || src[pos] >> 5 !== 2) throw OUTSIDE
      return new Tag(item(depth + 1), EMBEDDED_CBOR_TAG)
    }
    default:
      if (info === 20) return false
      if (info === 21) return true
      if (info === 22) return null
      if (info === 23) return undefined
      if (info === 27) {
        if (pos + 8 > end) throw OUTSIDE
        const v = src.readDoubleBE(pos)
        pos += 8
        return v
      }
      throw OUTSIDE
  }
}

/** The text items of a record's keys, in the order devices write them (batch-encode.ts). */
const [SEQ, KIND, FN, TIME, DATA] = ['seq', 'kind', 'fn', 'time', 'data'].map((k) => Buffer.concat([Buffer.from([0x60 | k.length]), Buffer.from(k)]))

/** True, past it, when the key `k` comes next. */
function key (k: Buffer): boolean {
  const n = k.length
  if (n > end - pos) return false
  for (let i = 0; i < n; i++) if (src[pos + i] !== k[i]) return false
  pos += n
  return true
}

/**
 * A map of `n` entries keyed as a record is (seq, kind, fn if 5, time, data, in that order),
 * built as one literal, so every record shares one shape; undefined, and nothing read, for any
 * other map. The same object as the generic map's: the same keys in the same order.
 */
function record (n: number, depth: number): Record<string, unknown> | undefined {
  const start = pos
  if (key(SEQ)) {
    const seq = item(depth + 1)
    if (key(KIND)) {
      const kind = item(depth + 1)
      if (n === 4) {
        if (key(TIME)) {
          const time = item(depth + 1)
          if (key(DATA)) return { seq, kind, time, data: item(depth + 1) }
        }
      } else if (key(FN)) {
        const fn = item(depth + 1)
        if (key(TIME)) {
          const time = item(depth + 1)
          if (key(DATA)) return { seq, kind, fn, time, data: item(depth + 1) }
        }
      }
    }
  }
  pos = start
  return undefined
}

/**
 * decodeFrame for an `up/batch` frame: the same value and the same errors (LAMBKIN_WIRE_INVALID
 * 'too-large' | 'malformed' | 'not-a-map' | 'version'), faster on frames of the plain subset.
 * Byte strings are views of `bytes`, as cbor-x gives them: they live as long as the frame.
 */
export function decodeBatchFrame (bytes: Buffer, maxBytes: number): Record<string, unknown> {
  checkFrameSize(bytes, maxBytes)
  let value: unknown
  src = bytes
  pos = 0
  end = bytes.length
  budget = end
  try {
    // A frame is a map, read whole: trailing bytes are cbor-x's to judge.
    if (end > 0 && bytes[0] >> 5 === 5) value = item(0)
    if (pos !== end) value = undefined
  } catch (err) {
    if (err !== OUTSIDE) throw err
    value = undefined
  } finally {
    src = EMPTY
  }
  if (value === undefined) return decodeFrame(bytes, maxBytes)
  return checkVersion(value as Record<string, unknown>)
}

const EMPTY = Buffer.alloc(0)
