// Hand-made CBOR (RFC 8949) for tests that play a hostile or foreign device: items an encoder
// of ours would never write (64-bit integers, tags, value sharing, nesting past any limit),
// spliced into frames as raw bytes.

export type Item = Buffer

function head (major: number, n: number | bigint): Buffer {
  const v = BigInt(n)
  if (v < 24n) return Buffer.from([(major << 5) | Number(v)])
  if (v < 0x100n) return Buffer.from([(major << 5) | 24, Number(v)])
  if (v < 0x10000n) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(Number(v), 1); return b }
  if (v < 0x100000000n) { const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(Number(v), 1); return b }
  const b = Buffer.alloc(9); b[0] = (major << 5) | 27; b.writeBigUInt64BE(v, 1); return b
}

export const uint = (n: number | bigint): Item => head(0, n)
/** An unsigned integer in the 8-byte form whatever its size (cbor-x decodes any such as a BigInt). */
export const uint64 = (n: bigint): Item => { const b = Buffer.alloc(9); b[0] = 0x1b; b.writeBigUInt64BE(n, 1); return b }
export const text = (s: string): Item => { const u = Buffer.from(s, 'utf8'); return Buffer.concat([head(3, u.length), u]) }
export const float = (x: number): Item => { const b = Buffer.alloc(9); b[0] = 0xfb; b.writeDoubleBE(x, 1); return b }
export const undef: Item = Buffer.from([0xf7])
export const nil: Item = Buffer.from([0xf6])
export const array = (items: Item[]): Item => Buffer.concat([head(4, items.length), ...items])
export const map = (entries: Array<[Item, Item]>): Item => Buffer.concat([head(5, entries.length), ...entries.flat()])
export const tag = (t: number, inner: Item): Item => Buffer.concat([head(6, t), inner])
/** A byte string holding `b`. */
export const bytes = (b: Uint8Array): Item => Buffer.concat([head(2, b.length), b])
/** Record data sent embedded: tag 24 around a byte string holding `inner` (one item, or any bytes). */
export const embedded = (inner: Uint8Array): Item => tag(24, bytes(inner))
/** Arrays nested `depth` deep around an empty one. */
export const nested = (depth: number): Item => Buffer.concat([Buffer.alloc(depth - 1, 0x81), Buffer.from([0x80])])

/** A map item from a plain object of items (string keys). */
export const obj = (o: Record<string, Item>): Item => map(Object.entries(o).map(([k, v]) => [text(k), v]))

/** An `up/batch` frame ({ v: 1, records }) of records whose fields are given as items. */
export function batchFrame (records: Array<{ seq: number, kind?: string, fn?: string, time?: Item, data: Item }>): Buffer {
  return obj({
    v: uint(1),
    records: array(records.map((r) => obj({ seq: uint(r.seq), kind: text(r.kind ?? 'result'), ...(r.fn === undefined ? {} : { fn: text(r.fn) }), time: r.time ?? float(Date.now()), data: r.data })))
  })
}
