// Writes an `up/batch` frame [W4] byte by byte: the map, each record's envelope, and its data
// either copied in as embedded bytes (tag 24, embedded-data.ts) or encoded by cbor-x. The frame
// cbor.ts's encodeFrame writes (fields, their order, numbers as cbor-x writes them; map heads
// at their shortest), without building a value tree: a drain's frame costs a copy of the stored
// bytes, not an encode.
import { Encoder } from 'cbor-x'
import { embeddedBytes, EMBEDDED_CBOR_TAG } from './embedded-data.js'
import { WIRE_VERSION } from './cbor.js'
import type { WireGap } from './frames.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

/** One record to write: `data` is a value, or embedData(bytes). */
export interface BatchRecordOut { seq: number, kind: string, fn?: string, time: number, data: unknown }

export interface BatchOut {
  stream?: string
  batchId?: number
  records: BatchRecordOut[]
  gaps: WireGap[]
}

/** Bytes of a head of major type `major` with argument `n` (< 2^32). */
function headSize (n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

class Out {
  pos = 0
  constructor (readonly b: Buffer) {}

  head (major: number, n: number): void {
    const m = major << 5
    const b = this.b
    if (n < 24) {
      b[this.pos++] = m | n
    } else if (n < 0x100) {
      b[this.pos++] = m | 24
      b[this.pos++] = n
    } else if (n < 0x10000) {
      b[this.pos++] = m | 25
      this.pos = b.writeUInt16BE(n, this.pos)
    } else {
      b[this.pos++] = m | 26
      this.pos = b.writeUInt32BE(n, this.pos)
    }
  }

  /** A number as cbor-x writes one: an integer within 32 bits as an integer, else a float64. */
  num (x: number): void {
    if (x >>> 0 === x) this.head(0, x)
    else if (x >> 0 === x) this.head(1, -1 - x)
    else { this.b[this.pos++] = 0xfb; this.pos = this.b.writeDoubleBE(x, this.pos) }
  }

  raw (bytes: Uint8Array): void {
    const n = bytes.length
    // A loop beats set() for the short items (keys, kinds, names) most of a frame is made of.
    if (n < 32) for (let i = 0; i < n; i++) this.b[this.pos++] = bytes[i]
    else { this.b.set(bytes, this.pos); this.pos += n }
  }
}

const numSize = (x: number): number => x >>> 0 === x ? headSize(x) : x >> 0 === x ? headSize(-1 - x) : 9

/** Text items (head and UTF-8) of the strings frames repeat: keys, kinds, function names, streams. */
const texts = new Map<string, Buffer>()
function textItem (s: string): Buffer {
  let b = texts.get(s)
  if (b === undefined) {
    const u = Buffer.from(s, 'utf8')
    b = Buffer.allocUnsafe(headSize(u.length) + u.length)
    const w = new Out(b)
    w.head(3, u.length)
    w.raw(u)
    // Bounded: a device has a few kinds and functions, but nothing here may grow without end.
    if (texts.size >= 4096) texts.clear()
    texts.set(s, b)
  }
  return b
}
const [V, STREAM, BATCH_ID, RECORDS, GAPS, SEQ, KIND, FN, TIME, DATA] = ['v', 'stream', 'batchId', 'records', 'gaps', 'seq', 'kind', 'fn', 'time', 'data'].map(textItem)

/**
 * The `up/batch` frame for `o` [W4]: `{ v, stream?, batchId?, records, gaps }`. Throws what
 * cbor-x throws for a decoded data value it cannot encode.
 */
export function encodeBatch (o: BatchOut): Buffer {
  const n = o.records.length
  const data: Uint8Array[] = new Array(n)
  const embedded: boolean[] = new Array(n)
  const kinds: Buffer[] = new Array(n)
  const fns: Array<Buffer | undefined> = new Array(n)
  const stream = o.stream === undefined ? undefined : textItem(o.stream)
  const gaps = cbor.encode(o.gaps)
  let size = 1 + V.length + 1 + RECORDS.length + headSize(n) + GAPS.length + gaps.length
  if (stream !== undefined) size += STREAM.length + stream.length
  if (o.batchId !== undefined) size += BATCH_ID.length + 9
  for (let i = 0; i < n; i++) {
    const r = o.records[i]
    const e = embeddedBytes(r.data)
    embedded[i] = e !== undefined
    data[i] = e ?? cbor.encode(r.data)
    kinds[i] = textItem(r.kind)
    const fn = r.fn === undefined ? undefined : textItem(r.fn)
    fns[i] = fn
    size += 1 + SEQ.length + numSize(r.seq) + KIND.length + kinds[i].length + TIME.length + numSize(r.time) + DATA.length
    if (fn !== undefined) size += FN.length + fn.length
    size += embedded[i] ? 2 + headSize(data[i].length) + data[i].length : data[i].length
  }
  const w = new Out(Buffer.allocUnsafe(size))
  w.head(5, 3 + (stream === undefined ? 0 : 1) + (o.batchId === undefined ? 0 : 1))
  w.raw(V)
  w.num(WIRE_VERSION)
  if (stream !== undefined) { w.raw(STREAM); w.raw(stream) }
  if (o.batchId !== undefined) { w.raw(BATCH_ID); w.num(o.batchId) }
  w.raw(RECORDS)
  w.head(4, n)
  for (let i = 0; i < n; i++) {
    const r = o.records[i]
    const fn = fns[i]
    w.head(5, fn === undefined ? 4 : 5)
    w.raw(SEQ)
    w.num(r.seq)
    w.raw(KIND)
    w.raw(kinds[i])
    if (fn !== undefined) { w.raw(FN); w.raw(fn) }
    w.raw(TIME)
    w.num(r.time)
    w.raw(DATA)
    if (embedded[i]) {
      w.b[w.pos++] = 0xd8
      w.b[w.pos++] = EMBEDDED_CBOR_TAG
      w.head(2, data[i].length)
    }
    w.raw(data[i])
  }
  w.raw(GAPS)
  w.raw(gaps)
  return w.pos === size ? w.b : w.b.subarray(0, w.pos)
}
