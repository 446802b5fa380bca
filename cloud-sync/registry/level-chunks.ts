// Records in the LevelDB registry: a chunk holds the new records of one batch that form one
// contiguous run of newly covered seqs (records and gaps), keyed by (device, stream ordinal,
// its last record's seq). Runs never interleave, so the chunk holding a seq is the first chunk
// whose key is at or after it: a duplicate is found with one seek and compared (record-compare).
import type { Level } from 'level'
import type { AbstractSublevel } from 'abstract-level'
import { Encoder } from 'cbor-x'
import { dataValue } from '../../src/wire/index.js'
import type { WireRecordKind } from '../../src/wire/index.js'
import { KEYS, keyTail, ordKey } from './level-keys.js'
import type { RecordQuery, StoredRecord } from './types.js'
import { errorMessage } from '../../src/errors.js'

export type Db = Level<string, Uint8Array>
export type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Uint8Array>
export type BatchOp = { type: 'put', key: string, value: Uint8Array, sublevel: Sub } | { type: 'del', key: string, sublevel: Sub }

export const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
export const enc = (v: unknown): Uint8Array => cbor.encode(v)
export const dec = <T>(b: Uint8Array): T => cbor.decode(b) as T

/** A record inside a chunk, with short field names (it is stored once per record). */
export interface ChunkRecord { s: number, k: WireRecordKind, f?: string, t: number, d: unknown }
/** A chunk's value: when it was received, and its records or the wire frame that carried them. */
interface Chunk { r: number, recs?: ChunkRecord[], raw?: Uint8Array }

export interface ChunkSubs { chunks: Sub, byFn: Sub, byKind: Sub }

const MAX_LIMIT = 10_000
/** An index key's value: the key says it all. */
const EMPTY = new Uint8Array(0)

/** The records of a chunk kept as the wire frame that carried them. */
function fromFrame (raw: Uint8Array): ChunkRecord[] {
  const f = cbor.decode(raw) as { records: Array<{ seq: number, kind: WireRecordKind, fn?: string, time: number, data: unknown }> }
  return f.records.map((r) => ({ s: r.seq, k: r.kind, f: r.fn, t: r.time, d: r.data }))
}

function recordsOf (v: Uint8Array): { r: number, recs: ChunkRecord[] } {
  const chunk = dec<Chunk>(v)
  return { r: chunk.r, recs: chunk.recs ?? fromFrame(chunk.raw as Uint8Array) }
}

/**
 * A chunk's records as a query reads them [W8]: one that no longer decodes (a damaged disk)
 * reads as one placeholder record at its last seq, of the kind and function the query asks
 * for, so the query answers, and says those records are unreadable, instead of failing.
 */
function readableOf (v: Uint8Array, last: number, q: RecordQuery): { r: number, recs: ChunkRecord[] } {
  try {
    return recordsOf(v)
  } catch (err) {
    const placeholder: ChunkRecord = { s: last, k: q.kinds?.[0] ?? 'log', t: 0, d: { unreadable: `stored records up to seq ${last} cannot be decoded: ${errorMessage(err)}` } }
    if (q.fn !== undefined) placeholder.f = q.fn
    return { r: 0, recs: [placeholder] }
  }
}

/**
 * Data as a query answers it [W8]: embedded bytes (tag 24, src/wire/embedded-data.ts; kept as
 * the device sent them) decoded here, on read; bytes that no longer decode answer as a placeholder.
 */
function readData (d: unknown): unknown {
  try {
    return dataValue(d)
  } catch (err) {
    return { unreadable: `stored data cannot be decoded: ${errorMessage(err)}` }
  }
}

/**
 * The writes for one run's records: the chunk (the frame's own bytes when given: no encoding
 * on the hot path) and one index key per function and per kind in it.
 */
export function chunkOps (subs: ChunkSubs, device: string, ord: number, receivedAt: number, recs: ChunkRecord[], raw: Uint8Array | undefined): BatchOp[] {
  const last = recs[recs.length - 1].s
  const value = raw !== undefined ? enc({ r: receivedAt, raw }) : enc({ r: receivedAt, recs })
  const ops: BatchOp[] = [{ type: 'put', key: KEYS.chunk(device, ord, last), value, sublevel: subs.chunks }]
  return [...ops, ...indexOps(subs, device, ord, last, recs.map((c) => c.f), recs.map((c) => c.k))]
}

/**
 * chunkOps for records kept as the frame that carried them (`raw`), all of one run: read for
 * their last seq, functions and kinds only, so no ChunkRecord is built for them.
 */
export function frameChunkOps (
  subs: ChunkSubs,
  device: string,
  ord: number,
  receivedAt: number,
  records: Array<{ seq: number, kind: string, fn?: string }>,
  raw: Uint8Array
): BatchOp[] {
  const last = records[records.length - 1].seq
  const fns = new Array<string | undefined>(records.length)
  const kinds = new Array<string>(records.length)
  for (let i = 0; i < records.length; i++) { fns[i] = records[i].fn; kinds[i] = records[i].kind }
  return [{ type: 'put', key: KEYS.chunk(device, ord, last), value: enc({ r: receivedAt, raw }), sublevel: subs.chunks }, ...indexOps(subs, device, ord, last, fns, kinds)]
}

/** One index key per distinct function and kind of a chunk ending at `last`; one pass, as a run holds few of each. */
function indexOps (subs: ChunkSubs, device: string, ord: number, last: number, fns: Array<string | undefined>, kinds: string[]): BatchOp[] {
  const fnSet: string[] = []
  const kindSet: string[] = []
  let fn: string | undefined
  let kind: string | undefined
  for (let i = 0; i < kinds.length; i++) {
    const f = fns[i]
    const k = kinds[i]
    if (f !== undefined && f !== fn && !fnSet.includes(f)) fnSet.push(f)
    if (k !== kind && !kindSet.includes(k)) kindSet.push(k)
    fn = f
    kind = k
  }
  const ops: BatchOp[] = []
  for (const f of fnSet) ops.push({ type: 'put', key: KEYS.index(device, f, ord, last), value: EMPTY, sublevel: subs.byFn })
  for (const k of kindSet) ops.push({ type: 'put', key: KEYS.index(device, k, ord, last), value: EMPTY, sublevel: subs.byKind })
  return ops
}

/**
 * The stored records of one stream under the given seqs (sorted), found by one seek per chunk.
 * A seq with no record (a declared gap, or a chunk written before runs were kept apart) is absent.
 */
export async function findStored (subs: ChunkSubs, device: string, ord: number, seqs: number[]): Promise<Map<number, ChunkRecord>> {
  const found = new Map<number, ChunkRecord>()
  let covered = -1
  for (const seq of seqs) {
    if (seq <= covered) continue
    const it = subs.chunks.iterator({ gte: KEYS.chunk(device, ord, seq), lt: KEYS.prefix(device, ordKey(ord)).lt, limit: 1 })
    let entry: [string, Uint8Array] | undefined
    try { entry = await it.next() } finally { await it.close() }
    if (entry === undefined) break
    const last = keyTail(entry[0]).seq
    for (const c of recordsOf(entry[1]).recs) found.set(c.s, c)
    covered = last
  }
  return found
}

/**
 * Records in (stream ordinal, seq) order [W4]: newest first, or oldest first after
 * (afterOrd, afterSeq), or newest first before (beforeOrd, beforeSeq). `streamOf` names a
 * stream by its ordinal.
 */
export async function readRecords (
  subs: ChunkSubs,
  device: string,
  q: RecordQuery,
  after: { ord: number; seq: number } | undefined,
  streamOf: (ord: number) => string,
  before?: { ord: number; seq: number }
): Promise<StoredRecord[]> {
  const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_LIMIT)
  const kinds = q.kinds === undefined ? undefined : new Set<string>(q.kinds)
  const forward = after !== undefined
  const one = kinds?.size === 1 ? [...kinds][0] : undefined
  const part = q.fn ?? one
  const index = q.fn !== undefined ? subs.byFn : one !== undefined ? subs.byKind : undefined
  const bounds = part === undefined ? KEYS.prefix(device) : KEYS.prefix(device, part)
  // A chunk keyed (ord, last) holds seqs up to `last`: every chunk after the position can hold a later record.
  const keyAt = (ord: number, seq: number): string => (part === undefined ? KEYS.chunk(device, ord, seq) : KEYS.index(device, part, ord, seq))
  let range: { gt: string; lt?: string; lte?: string } = forward ? { ...bounds, gt: keyAt(after.ord, after.seq) } : bounds
  if (!forward && before !== undefined) {
    // Chunks keyed below the position hold only earlier seqs; the first one at or after it may
    // still hold some (runs never interleave, so only that one), so the range ends there.
    const it = (index ?? subs.chunks).keys({
      gte: keyAt(before.ord, before.seq),
      lt: (part === undefined ? KEYS.prefix(device, ordKey(before.ord)) : KEYS.prefix(device, part, ordKey(before.ord))).lt,
      limit: 1
    })
    let straddling: string | undefined
    try {
      straddling = await it.next()
    } finally {
      await it.close()
    }
    range = straddling === undefined ? { gt: bounds.gt, lt: keyAt(before.ord, before.seq) } : { gt: bounds.gt, lte: straddling }
  }
  const keys = (index ?? subs.chunks).keys({ ...range, reverse: !forward })
  const out: StoredRecord[] = []
  try {
    for await (const key of keys) {
      const { ord, seq } = keyTail(key)
      const v = await subs.chunks.get(KEYS.chunk(device, ord, seq))
      if (v === undefined) continue
      const chunk = readableOf(v, seq, q)
      const recs = forward ? chunk.recs : [...chunk.recs].reverse()
      for (const c of recs) {
        if (
          (after !== undefined && ord === after.ord && c.s <= after.seq) ||
          (before !== undefined && ord === before.ord && c.s >= before.seq) ||
          (q.fn !== undefined && c.f !== q.fn) ||
          (kinds !== undefined && !kinds.has(c.k))
        ) { continue }
        const r: StoredRecord = { device, stream: streamOf(ord), seq: c.s, kind: c.k, time: c.t, receivedAt: chunk.r, data: readData(c.d) }
        if (c.f !== undefined) r.fn = c.f
        out.push(r)
        if (out.length >= limit) return out
      }
    }
  } finally {
    await keys.close()
  }
  return out
}
