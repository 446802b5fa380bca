// Plans one batch's ingest in the LevelDB registry [W4]: which records are new for the stream,
// which were sent before (and whether with the same bytes), which gaps are new, the chunks and
// range keys to write, and how far the stream's high-water moves. Reads only the stream's
// cached coverage, plus one seek per chunk a duplicate lies in; writes nothing itself.
import { wireError } from '../../src/wire/index.js'
import type { WireGap } from '../../src/wire/index.js'
import type { Coverage, Range } from './coverage.js'
import { joinRanges, runsOf } from './coverage.js'
import { chunkOps, dec, enc, findStored, frameChunkOps } from './level-chunks.js'
import type { BatchOp, ChunkRecord, ChunkSubs, Sub } from './level-chunks.js'
import { KEYS, ordKey } from './level-keys.js'
import type { StreamBook } from './level-streams.js'
import { sameRecord } from './record-compare.js'
import type { IngestBatch, StoredGap, StreamRow } from './types.js'

/** How far past its high-water a batch may start (see checkPlacement). */
export const MAX_AHEAD = 1_000_000

export interface IngestSubs extends ChunkSubs { gaps: Sub }

export interface IngestPlan {
  ops: BatchOp[]
  stored: number
  duplicates: number
  newGaps: StoredGap[]
  /** Set when the batch is refused: the first seq stored with other bytes. Nothing else is planned. */
  conflict?: number
}

/**
 * Seqs a batch may claim [W4][W8]: nothing more than MAX_AHEAD past the high-water (a device
 * sends oldest first, so only a broken or hostile one jumps that far), and no gap over seqs
 * already stored above it. Throws LAMBKIN_WIRE_INVALID with reason 'too-far-ahead' or
 * 'overlap'; nothing of the batch is stored.
 */
export function checkPlacement (hw: number, above: Coverage, records: Array<{ seq: number }>, gaps: WireGap[]): void {
  let first = Infinity
  for (const r of records) first = Math.min(first, r.seq)
  for (const g of gaps) first = Math.min(first, g.from)
  if (first > hw + 1 + MAX_AHEAD) throw wireError('too-far-ahead', `batch starts at seq ${first}, more than ${MAX_AHEAD} past the high-water ${hw}`)
  for (const g of gaps) {
    const from = Math.max(g.from, hw + 1)
    if (g.to < from) continue
    const r = above.firstOverlap(from, g.to)
    if (r !== undefined && !(r[0] <= from && r[1] >= g.to)) throw wireError('overlap', `gap ${from}..${g.to} overlaps seqs ${r[0]}..${r[1]} already stored`)
  }
}

/**
 * The first seq of `dups` (sorted) stored with other bytes, or declared `dropped` or `lost`
 * (the stream said it would never send it: only another board can). A seq the cloud holds no
 * record for otherwise (an `excluded` gap, a chunk from before runs were kept apart) is a plain
 * duplicate.
 */
async function firstConflict (subs: IngestSubs, device: string, ord: number, dups: ChunkRecord[]): Promise<number | undefined> {
  const stored = await findStored(subs, device, ord, dups.map((d) => d.s))
  for (const d of dups) {
    const s = stored.get(d.s)
    if (s !== undefined) {
      if (!sameRecord(s, d)) return d.s
      continue
    }
    const it = subs.gaps.values({ lte: KEYS.gap(device, ord, d.s), gt: KEYS.prefix(device, ordKey(ord)).gt, reverse: true, limit: 1 })
    let gap: StoredGap | undefined
    try { const v = await it.next(); gap = v === undefined ? undefined : dec<StoredGap>(v) } finally { await it.close() }
    if (gap !== undefined && gap.to >= d.s && gap.reason !== 'excluded') return d.s
  }
  return undefined
}

/**
 * Plans the batch for `stream` (its row is changed in place: high-water and counts). The
 * chunks follow the runs of seqs this batch newly covers, so runs never interleave.
 */
export async function planIngest (subs: IngestSubs, book: StreamBook, stream: StreamRow, batch: IngestBatch, receivedAt: number): Promise<IngestPlan> {
  const { device, ord } = stream
  const hw = stream.highWater
  const above = await book.coverage(device, ord)
  checkPlacement(hw, above, batch.records, batch.gaps)
  const fresh: ChunkRecord[] = []
  const dups: ChunkRecord[] = []
  // A batch as devices send it is already in seq order without repeats: then no copy, sort or set.
  let ascending = true
  const recs = batch.records
  for (let i = 1; i < recs.length && ascending; i++) ascending = recs[i].seq > recs[i - 1].seq
  const some = above.size > 0
  // The common case: one run of new seqs right after the high-water, nothing covered above
  // it, the frame's bytes kept: its chunk needs only its last seq, functions and kinds.
  const n = recs.length
  if (ascending && n > 0 && batch.raw !== undefined && batch.gaps.length === 0 && !some && recs[0].seq === hw + 1 && recs[n - 1].seq - recs[0].seq === n - 1) {
    const last = recs[n - 1].seq
    const ops = frameChunkOps(subs, device, ord, receivedAt, recs, batch.raw)
    ops.push(...book.rangeOps(device, ord, above.add(recs[0].seq, last)))
    return advance(book, stream, above, ops, n, 0, [], receivedAt)
  }
  const seen = ascending ? undefined : new Set<number>()
  for (const r of ascending ? recs : [...recs].sort((a, b) => a.seq - b.seq)) {
    if (seen !== undefined) {
      if (seen.has(r.seq)) continue
      seen.add(r.seq)
    }
    const c: ChunkRecord = r.fn === undefined ? { s: r.seq, k: r.kind, t: r.time, d: r.data } : { s: r.seq, k: r.kind, t: r.time, d: r.data, f: r.fn }
    if (r.seq <= hw || (some && above.covers(r.seq))) dups.push(c)
    else fresh.push(c)
  }
  const duplicates = batch.records.length - fresh.length
  if (dups.length > 0) {
    const conflict = await firstConflict(subs, device, ord, dups)
    if (conflict !== undefined) return { ops: [], stored: 0, duplicates: 0, newGaps: [], conflict }
  }
  const ops: BatchOp[] = []
  // A gap counts once: the part above the high-water not already covered.
  const newGaps: StoredGap[] = []
  for (const g of batch.gaps) {
    const from = Math.max(g.from, hw + 1)
    if (g.to < from || above.covers(from) || newGaps.some((n) => n.from === from)) continue
    const gap: StoredGap = { device, stream: stream.id, from, to: g.to, reason: g.reason, receivedAt }
    newGaps.push(gap)
    ops.push({ type: 'put', key: KEYS.gap(device, ord, from), value: enc(gap), sublevel: subs.gaps })
  }
  const runs = joinRanges([...runsOf(fresh.map((c) => c.s)), ...newGaps.map((g): Range => [g.from, g.to])])
  let i = 0
  for (const [a, b] of runs) {
    const start = i
    while (i < fresh.length && fresh[i].s <= b) i++
    if (i > start) {
      // When the batch's records are all new and in one run, the frame's own bytes are kept.
      const whole = start === 0 && i === fresh.length && fresh.length === batch.records.length
      ops.push(...chunkOps(subs, device, ord, receivedAt, start === 0 && i === fresh.length ? fresh : fresh.slice(start, i), whole ? batch.raw : undefined))
    }
    ops.push(...book.rangeOps(device, ord, above.add(a, b)))
  }
  return advance(book, stream, above, ops, fresh.length, duplicates, newGaps, receivedAt)
}

/** The end of a plan: the high-water moved over what is now contiguous, the stream row's counts. */
function advance (
  book: StreamBook,
  stream: StreamRow,
  above: Coverage,
  ops: BatchOp[],
  stored: number,
  duplicates: number,
  newGaps: StoredGap[],
  receivedAt: number
): IngestPlan {
  const moved = above.advance(stream.highWater)
  ops.push(...book.rangeOps(stream.device, stream.ord, moved.change))
  stream.highWater = moved.hw
  stream.lastSeen = receivedAt
  stream.counts.stored += stored
  stream.counts.duplicates += duplicates
  stream.counts.gaps += newGaps.length
  for (const g of newGaps) stream.counts.gapSeqs += g.to - g.from + 1
  return { ops, stored, duplicates, newGaps }
}
