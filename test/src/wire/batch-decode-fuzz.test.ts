// [W4][W8] A seeded property test of the cloud's `up/batch` reader (src/wire/batch-decode.ts):
// frames made the way a device makes them (encodeBatch, embedded tag-24 data and plain data),
// then mutated as a hostile device might (bytes flipped, inserted, deleted, cut; heads given
// other major types, lengths, huge lengths, indefinite lengths; items wrapped deep or in tags;
// floats of every width, -0, NaN; `__proto__`, `constructor` and duplicate keys). For every case
// decodeBatchFrame and decodeFrame (cbor-x) must end the same: deep-equal values (prototypes,
// Buffer or Uint8Array, Tag objects, -0 and NaN told apart) or the same error. Deterministic:
// LAMBKIN_FUZZ_SEED picks another seed, LAMBKIN_FUZZ_CASES another count, LAMBKIN_FUZZ_TRACE=1
// writes each frame (hex) to stderr before it is decoded; every failure names the seed and the case.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder, Tag } from 'cbor-x'
import { decodeBatchFrame, decodeFrame, embedData, encodeBatch } from '../../../src/wire/index.js'
import type { BatchRecordOut } from '../../../src/wire/index.js'
import { seededRandom } from '../../../device/triggers/sensor/sim-source.js'

const SEED = Number(process.env.LAMBKIN_FUZZ_SEED ?? 0x5eed1a4b) >>> 0
const CASES = Number(process.env.LAMBKIN_FUZZ_CASES ?? 4000)
const CAP = 2_000_000
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

let rnd = seededRandom(SEED)
const int = (n: number): number => Math.floor(rnd() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]
const chance = (p: number): boolean => rnd() < p

const KEYS = ['a', 'x', 'v', 'seq', 'kind', 'fn', 'time', 'data', 'records', 'gaps', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  'valueOf', '__defineGetter__', 'prototype', '0', '1', '10', '-1', '4294967295', 'ünï', '✓', '日本', '', 'k'.repeat(40)]
const TEXTS = ['', 'plain', 'log', 'result', 'threshold', 'ünïcödé ✓', '日本語', '\u0000', '\u007f', '\ud83d\ude00', 'é', 'z'.repeat(33), 'y'.repeat(300)]
const NUMS = [0, 1, -1, 23, 24, -24, -25, 255, 256, -256, -257, 65535, 65536, -65536, -65537, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1,
  2 ** 32 - 1, 2 ** 32, -(2 ** 32), -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53), 2 ** 53, 2 ** 64, 0.5, -0.5, 1.5, 1e300, -1e-300, 5e-324, -0, NaN,
  Infinity, -Infinity, 65504, 1 / 3, 3.4028234663852886e38, 1.1754943508222875e-38]

/** Frames made while this is on hold only ASCII texts and keys but `__proto__`: most of them stay in the reader's subset. */
let plain = false
const isPlain = (t: string): boolean => /^[\x00-\x7f]*$/.test(t) && t !== '__proto__'
const PLAIN_KEYS = KEYS.filter(isPlain)
const PLAIN_TEXTS = TEXTS.filter(isPlain)
const texts = (): string => pick(plain ? PLAIN_TEXTS : TEXTS)
const keys = (): string => pick(plain ? PLAIN_KEYS : KEYS)

/** A random value of the kinds record data holds, `depth` levels deep at most. */
function value (depth: number): unknown {
  const r = int(depth > 0 ? 10 : 6)
  switch (r) {
    case 0: return pick(NUMS)
    case 1: return int(2) === 0 ? int(1 << int(33)) * (chance(0.5) ? -1 : 1) : (rnd() - 0.5) * 10 ** int(20)
    case 2: return texts()
    case 3: return pick([true, false, null, undefined])
    case 4: return Buffer.from(Array.from({ length: int(6) }, () => int(256)))
    case 5: return keys()
    case 6: case 7: return Array.from({ length: int(5) }, () => value(depth - 1))
    default: {
      // JSON.parse makes `__proto__` an own key, as a device's decoded data could have.
      const o = JSON.parse('{}') as Record<string, unknown>
      for (let i = int(5); i > 0; i--) Object.defineProperty(o, keys(), { value: value(depth - 1), enumerable: true, writable: true, configurable: true })
      return o
    }
  }
}

/** A frame as a device's uploader writes it: encodeBatch over records with plain or embedded data. */
function deviceFrame (): Buffer {
  const records: BatchRecordOut[] = []
  for (let i = int(5); i > 0; i--) {
    const data = value(3)
    let d: unknown = data
    if (chance(0.5)) {
      try { d = embedData(cbor.encode(data)) } catch { d = null }
    }
    const r: BatchRecordOut = { seq: chance(0.8) ? int(100_000) : pick(NUMS), kind: plain ? pick(['log', 'result', 'constructor']) : pick(['log', 'result', 'metric', 'ünï', '__proto__']), time: chance(0.7) ? 1_800_000_000_000 + int(1e6) + (chance(0.5) ? 0.5 : 0) : pick(NUMS), data: d }
    if (chance(0.6)) r.fn = plain ? pick(['threshold', 'f', 'x'.repeat(40)]) : pick(['threshold', 'f', 'ü-fn', 'constructor', '__proto__', 'x'.repeat(40)])
    records.push(r)
  }
  const gaps = chance(0.3) ? [{ from: int(10), to: int(10) + 10, reason: 'excluded' as const }] : []
  return encodeBatch({ stream: chance(0.8) ? '0123456789abcdef' : undefined, batchId: chance(0.8) ? int(2 ** 32) : undefined, records, gaps })
}

/** Offsets of the item heads in a well-formed item at `pos` (a tiny walker over the device's own frames). */
function heads (b: Buffer, pos: number, out: number[]): number {
  // Mutated frames are walked too: stop at their end, whatever they declare.
  if (pos >= b.length || out.length > b.length) throw new RangeError('past the end')
  out.push(pos)
  const ib = b[pos++]
  const major = ib >> 5
  const info = ib & 31
  let arg = info
  if (info >= 24 && info <= 27) {
    const n = 1 << (info - 24)
    if (major === 7) return pos + n
    arg = 0
    for (let i = 0; i < n; i++) arg = arg * 256 + b[pos++]
  }
  if (major === 2 || major === 3) return pos + arg
  if (major === 4) { for (let i = 0; i < arg; i++) pos = heads(b, pos, out); return pos }
  if (major === 5) { for (let i = 0; i < 2 * arg; i++) pos = heads(b, pos, out); return pos }
  if (major === 6) return heads(b, pos, out)
  return pos
}

const u8 = (...xs: number[]): Buffer => Buffer.from(xs)
const head = (major: number, n: number): Buffer => {
  const m = major << 5
  if (n < 24) return u8(m | n)
  if (n < 0x100) return u8(m | 24, n)
  if (n < 0x10000) { const b = Buffer.alloc(3); b[0] = m | 25; b.writeUInt16BE(n, 1); return b }
  if (n < 2 ** 32) { const b = Buffer.alloc(5); b[0] = m | 26; b.writeUInt32BE(n, 1); return b }
  const b = Buffer.alloc(9); b[0] = m | 27; b.writeBigUInt64BE(BigInt(n), 1); return b
}
/** A float16: 0, -0, NaN, Infinity, 1 or any bits. */
const f16 = (): Buffer => pick([u8(0xf9, 0x00, 0x00), u8(0xf9, 0x80, 0x00), u8(0xf9, 0x7e, 0x00), u8(0xf9, 0x7c, 0x00), u8(0xf9, 0x3c, 0x00),
  u8(0xf9, int(256), int(256))])
const f32 = (): Buffer => { const b = Buffer.alloc(5); b[0] = 0xfa; b.writeFloatBE(pick(NUMS), 1); return b }
const f64 = (): Buffer => { const b = Buffer.alloc(9); b[0] = 0xfb; b.writeDoubleBE(pick(NUMS), 1); return b }
const text = (s: string): Buffer => { const u = Buffer.from(s); return Buffer.concat([head(3, u.length), u]) }

/** Bytes of one odd item: what batch-encode never writes but a hostile device can. */
function oddItem (): Buffer {
  switch (int(16)) {
    case 0: return f16()
    case 1: return f32()
    case 2: return f64()
    case 3: return Buffer.concat([head(6, pick([0, 1, 2, 24, 25, 27, 28, 55799, 64, 258, 2 ** 32 - 1, int(300)])), Buffer.from(cbor.encode(value(1)))])
    case 4: return Buffer.concat([u8(0xd8, 0x18), pick([head(2, 3), head(3, 1), head(4, 1), u8(0x5f, 0x41, 0x00, 0xff)]), u8(0x01, 0x02, 0x03)])
    case 5: return Buffer.concat([u8(0x9f), Buffer.from(cbor.encode(value(1))), u8(0xff)])
    case 6: return Buffer.concat([u8(0xbf), text(pick(KEYS)), u8(0x01), u8(0xff)])
    case 7: return Buffer.concat([u8(pick([0x5f, 0x7f])), pick([head(2, 1), head(3, 1)]), u8(0x61), u8(0xff)])
    case 8: {
      // A map with duplicate and hostile keys, written by hand (cbor-x would not write duplicates).
      const n = 1 + int(4)
      const parts = [head(5, n)]
      for (let i = 0; i < n; i++) parts.push(text(pick(['a', 'a', '__proto__', 'constructor', 'toString', '__proto_', 'v'])), Buffer.from(cbor.encode(value(1))))
      return Buffer.concat(parts)
    }
    case 9: { // a map keyed by something other than text
      const k = pick([u8(0x01), u8(0x20), u8(0xf4), u8(0xf5), u8(0xf6), u8(0xf7), f64(), head(2, 0), u8(0x80), u8(0xa0)])
      return Buffer.concat([head(5, 1), k, u8(0x00)])
    }
    case 10: return pick([u8(0xf8, int(256)), u8(0xf0 | int(16)), u8(0xfc), u8(0xfd), u8(0xfe), u8(0xff), u8(0x1c), u8(0x3f), u8(0xdf)])
    case 11: {
      // Integers in every head width, shortest or not.
      const major = int(2)
      const w = 24 + int(4)
      const b = Buffer.alloc(1 + (1 << (w - 24)))
      b[0] = (major << 5) | w
      for (let i = 1; i < b.length; i++) b[i] = chance(0.5) ? 0xff : int(256)
      return b
    }
    case 12: return Buffer.concat([Buffer.alloc(int(200), 0x81), u8(0x00)])
    case 13: return Buffer.concat([Buffer.alloc(int(100), 0xa1).map((x, i) => i % 2 === 0 ? 0xa1 : 0x61), u8(0x00)])
    case 14: return Buffer.concat([head(int(2) === 0 ? 3 : 2, int(3)), Buffer.from([0xc3, 0x28, 0xe2, 0x82, 0xed, 0xa0, 0x80].slice(0, int(4)))])
    default: return Buffer.concat([head(pick([2, 3, 4, 5]), pick([2 ** 30, 2 ** 32 - 1, 2 ** 53, 100_000])), u8(0x00, 0x00)])
  }
}

/** One mutation of `b` at a random place (or at an item's head, from `hs`). */
function mutate (b: Buffer, hs: number[]): Buffer {
  const at = int(b.length + 1)
  const h = hs.length > 0 ? pick(hs) : 0
  switch (int(15)) {
    case 13: case 14: { // a scalar replaced by another the reader reads itself (any integer width, float64, simple, ASCII text)
      const ib = b[h]
      const info = ib & 31
      if (ib >> 5 > 1 && ib !== 0xfb && (ib < 0xf4 || ib > 0xf7)) return b
      const w = ib === 0xfb ? 8 : info < 24 ? 0 : info <= 27 ? 1 << (info - 24) : 0
      const n = pick([0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, int(70000)])
      const by = pick([head(0, n), head(1, n), f64(), u8(0xf4), u8(0xf7), text(pick(PLAIN_TEXTS)), u8(0x19, 0, int(256)), u8(0x3a, 0xff, 0xff, 0xff, 0xff),
        u8(0x40)])
      return Buffer.concat([b.subarray(0, h), by, b.subarray(h + 1 + w)])
    }
    case 0: { const c = Buffer.from(b); if (c.length > 0) c[at % c.length] ^= 1 << int(8); return c }
    case 1: { const c = Buffer.from(b); if (c.length > 0) c[at % c.length] = int(256); return c }
    case 2: return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(4) }, () => int(256))), b.subarray(at)])
    case 3: return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(8)))])
    case 4: return b.subarray(0, at)
    case 5: { const c = Buffer.from(b); c[h] = (c[h] & 31) | (int(8) << 5); return c } // another major type
    case 6: { const c = Buffer.from(b); c[h] = (c[h] & 0xe0) | pick([24, 25, 26, 27, 28, 31]); return c } // another width, reserved, indefinite
    case 7: { // another (often huge) length or value in the head
      const ib = b[h]
      const major = ib >> 5
      const info = ib & 31
      const w = info < 24 ? 0 : info <= 27 ? 1 << (info - 24) : 0
      return Buffer.concat([b.subarray(0, h), head(major, pick([0, 1, 23, 24, 2 ** 30, 2 ** 32 - 1, 2 ** 40, int(1000)])), b.subarray(h + 1 + w)])
    }
    case 8: return Buffer.concat([b.subarray(0, h), oddItem(), b.subarray(h)]) // an odd item before an item
    case 9: return Buffer.concat([b.subarray(0, h), Buffer.alloc(int(80), 0x81), b.subarray(h)]) // wrap an item deep
    case 10: return Buffer.concat([b.subarray(0, h), head(6, pick([24, 24, 0, 1, 32, 55799])), b.subarray(h)]) // tag an item
    case 11: { const c = Buffer.from(b); if (c[h] >> 5 === 4 || c[h] >> 5 === 5) c[h] = (c[h] & 0xe0) | ((c[h] & 31) < 23 ? (c[h] & 31) + 1 : 0); return c }
    default: { // an item replaced by an odd item (its head and, when short, its bytes)
      const ib = b[h]
      const skip = ib >> 5 === 7 && (ib & 31) === 27 ? 9 : 1
      return Buffer.concat([b.subarray(0, h), oddItem(), b.subarray(h + skip)])
    }
  }
}

/** `b` mutated once, at an item's head found by walking it as far as it is well formed. */
function mutateOnce (b: Buffer): Buffer {
  const hs: number[] = []
  try { heads(b, 0, hs) } catch {}
  return mutate(b, hs.filter((p) => p < b.length))
}

/** A frame built by hand: { v, records: [records with odd data], gaps } with keys in any order, repeated, or hostile. */
function handFrame (): Buffer {
  const entries: Buffer[][] = [[text('v'), pick([u8(0x01), u8(0x01), u8(0x02), u8(0xf9, 0x3c, 0x00), u8(0xfa, 0x3f, 0x80, 0x00, 0x00), u8(0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0), u8(0x18, 0x01), u8(0xf6)])]]
  const recs: Buffer[] = []
  for (let i = int(4); i > 0; i--) {
    const five = chance(0.5)
    const data = chance(0.6) ? oddItem() : Buffer.from(cbor.encode(value(2)))
    const fields: Buffer[] = [text('seq'), head(0, int(1000)), text('kind'), text(pick(['log', 'ünï', 'result'])), ...(five ? [text('fn'), text('f')] : []), text('time'), f64(), text('data'), data]
    recs.push(Buffer.concat([head(5, five ? 5 : 4), ...fields]))
  }
  entries.push([text('records'), head(4, recs.length), ...recs])
  entries.push([text('gaps'), u8(0x80)])
  if (chance(0.3)) entries.push([text(pick(['__proto__', 'constructor', 'v', 'records', 'toString'])), chance(0.5) ? u8(0xa1, 0x61, 0x78, 0x01) : oddItem()])
  for (let i = entries.length - 1; i > 0 && chance(0.3); i--) { const j = int(i + 1); [entries[i], entries[j]] = [entries[j], entries[i]] }
  return Buffer.concat([head(5, entries.length), ...entries.flat()])
}

/** Strict deep equality: prototypes, constructors, key order, -0 and NaN, bytes, Tag objects. The path of the first difference, or ''. */
function differ (a: unknown, b: unknown, path = '$'): string {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`
  if (a === null || b === null || typeof a !== 'object') return Object.is(a, b) ? '' : `${path}: ${String(a)} vs ${String(b)}`
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${path}: prototype ${x.constructor?.name} vs ${y.constructor?.name}`
  if (x instanceof Uint8Array) return Buffer.compare(x, y as unknown as Uint8Array) === 0 ? '' : `${path}: bytes differ`
  if (x instanceof Tag) {
    const t = (x as Tag).tag === (y as unknown as Tag).tag ? '' : `${path}: tag ${(x as Tag).tag} vs ${(y as unknown as Tag).tag}`
    return t !== '' ? t : differ((x as Tag).value, (y as unknown as Tag).value, `${path}.tag`)
  }
  const kx = Reflect.ownKeys(x)
  const ky = Reflect.ownKeys(y)
  if (kx.join('\u0001') !== ky.join('\u0001')) return `${path}: keys [${kx.map(String).join(',')}] vs [${ky.map(String).join(',')}]`
  for (const k of kx) {
    if (k === 'length' && Array.isArray(x)) continue
    // cbor-x's tag 27 builds an Error, whose stack names the caller.
    if (k === 'stack' && x instanceof Error) continue
    const d = differ(x[k as string], y[k as string], `${path}.${String(k)}`)
    if (d !== '') return d
  }
  return ''
}

type Outcome = { value: unknown } | { error: string }
function outcome (fn: () => unknown): Outcome {
  try {
    return { value: fn() }
  } catch (err) {
    const e = err as { name?: string, code?: string, message: string, details?: { reason?: string } }
    return { error: `${e.name ?? ''} ${e.code ?? ''} ${e.details?.reason ?? ''} ${e.message}` }
  }
}

/** '' when both decoders end the same on `bytes`, else what differs. */
function compare (bytes: Buffer): string {
  const mine = outcome(() => decodeBatchFrame(bytes, CAP))
  const theirs = outcome(() => decodeFrame(bytes, CAP))
  if ('error' in mine || 'error' in theirs) {
    return 'error' in mine && 'error' in theirs && mine.error === theirs.error ? '' : `batch-decode ${JSON.stringify('error' in mine ? mine.error : 'a value')} vs cbor-x ${JSON.stringify('error' in theirs ? theirs.error : 'a value')}`
  }
  return differ(mine.value, theirs.value)
}

test(`[W8] ${CASES} device frames, mutated, decode or fail alike in batch-decode and cbor-x (seed ${SEED})`, () => {
  rnd = seededRandom(SEED)
  const kinds = { device: 0, mutated: 0, hand: 0, read: 0 }
  for (let i = 0; i < CASES; i++) {
    let bytes: Buffer
    const r = int(10)
    plain = chance(0.5)
    if (r < 2) { bytes = deviceFrame(); kinds.device++ } else if (r < 8) {
      bytes = deviceFrame()
      for (let m = 1 + int(3); m > 0; m--) bytes = mutateOnce(bytes)
      kinds.mutated++
    } else {
      bytes = handFrame()
      if (chance(0.5)) bytes = mutateOnce(bytes)
      kinds.hand++
    }
    if (process.env.LAMBKIN_FUZZ_TRACE !== undefined) process.stderr.write(`${i} ${bytes.toString('hex')}\n`)
    const d = compare(bytes)
    assert.is(d, '', `seed ${SEED} case ${i}: frame ${bytes.toString('hex')}: ${d}`)
    if ('value' in outcome(() => decodeFrame(bytes, CAP))) kinds.read++
  }
  // The generator must reach both sides: frames that decode and frames that fail, of each kind.
  assert.ok(kinds.read > CASES / 10 && kinds.read < CASES * 0.9, `seed ${SEED}: ${kinds.read} of ${CASES} frames decode`)
})

/** Heap and buffer bytes in use, after a collection when --expose-gc gives one. */
function used (collect: boolean): number {
  if (collect) (globalThis as { gc?: () => void }).gc?.()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

test('[W8] lengths declared beyond the bytes make neither decoder allocate them', () => {
  const prefix = Buffer.concat([head(5, 2), text('v'), u8(0x01), text('records')])
  const GB = 2 ** 30
  const frames: Array<[string, Buffer]> = [
    ['a 1 GiB byte string', Buffer.concat([prefix, head(2, GB), u8(0x00)])],
    ['a 1 GiB text', Buffer.concat([prefix, head(3, GB), u8(0x61)])],
    ['an array of 2^30 items', Buffer.concat([prefix, head(4, GB), u8(0x00)])],
    ['a map of 2^30 entries', Buffer.concat([prefix, head(5, GB), u8(0x61, 0x61, 0x00)])],
    ['tag 24 over a 1 GiB byte string', Buffer.concat([prefix, u8(0xd8, 0x18), head(2, GB), u8(0x00)])]
  ]
  // Arrays nested 60 deep, each declaring nearly all the bytes left (so each passes a check
  // against the bytes left): a reader that made each array before reading its items would hold
  // some 60 x 8 bytes per byte of the frame (cbor-x spends one budget of the frame's bytes).
  const nested: Buffer[] = [prefix]
  const pad = 200_000
  for (let i = 0; i < 60; i++) nested.push(head(4, pad - 6 * i))
  frames.push(['60 nested arrays of 200,000 declared items in a 200 kB frame', Buffer.concat([...nested, Buffer.alloc(pad, 0x00)])])
  for (const [what, bytes] of frames) {
    assert.is(compare(bytes), '', what)
    // The values a decode makes stay referenced until it returns: heap in use right after it
    // holds them (a collection in between would only lower the figure).
    const before = used(true)
    try { decodeBatchFrame(bytes, CAP) } catch {}
    const grew = used(false) - before
    assert.ok(grew < 32 * 2 ** 20, `${what}: ${Math.round(grew / 2 ** 20)} MiB more in use after one decode`)
  }
})

test.run()
