// One `up/batch` in one PostgreSQL transaction [W4] (docs/postgres.md, "Ingest"): the device
// row is locked (FOR UPDATE), so batches of one device apply one at a time across every
// instance; the stream's cursor (high-water and the ranges it covers above it) is read, the
// batch planned as in the LevelDB backend (coverage.ts, checkPlacement), the new records
// inserted (ON CONFLICT DO NOTHING), and the cursor moved, all before COMMIT. Two instances
// given the same batch store it once: the second finds the seqs covered and counts duplicates,
// comparing them with the stored bytes (a seq with other bytes is a conflict).
import type { PoolClient } from 'pg'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { Coverage, joinRanges, runsOf } from '../coverage.js'
import type { Range } from '../coverage.js'
import { checkPlacement } from '../level-ingest.js'
import { sameRecord } from '../record-compare.js'
import type { ChunkRecord } from '../level-chunks.js'
import { LEGACY_STREAM } from '../types.js'
import type { ConflictFacts, IngestBatch, IngestResult, StoredGap, StreamRow } from '../types.js'
import { recordDataSpans } from './cbor-spans.js'
import { decodeData, encodeData } from './record-data.js'
import { STREAM_COLUMNS, dec, enc, streamRow } from './rows.js'
import type { StreamSql } from './rows.js'

/**
 * The new records' data as one byte string with each record's place in it (1-based, for SQL's
 * substring): the frame itself when its records are exactly these (the bytes the device sent,
 * sent to the server once, as binary), else the data encoded here.
 */
function dataOf (batch: IngestBatch, fresh: ChunkRecord[]): { blob: Buffer, at: number[], len: number[] } {
  const spans = batch.raw !== undefined && fresh.length === batch.records.length ? recordDataSpans(batch.raw) : undefined
  if (batch.raw !== undefined && spans?.length === fresh.length) {
    const raw = batch.raw
    return {
      blob: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
      at: spans.map((x) => x.byteOffset - raw.byteOffset + 1),
      len: spans.map((x) => x.byteLength)
    }
  }
  const parts = fresh.map((r) => encodeData(r.d))
  const at: number[] = []
  let pos = 1
  for (const p of parts) { at.push(pos); pos += p.byteLength }
  return { blob: Buffer.concat(parts), at, len: parts.map((p) => p.byteLength) }
}

/** The seq window a batch touches, widened by one each side (ranges that touch it join it). */
function windowOf (batch: IngestBatch): [number, number] | undefined {
  let lo = Infinity
  let hi = -Infinity
  for (const r of batch.records) { lo = Math.min(lo, r.seq); hi = Math.max(hi, r.seq) }
  for (const g of batch.gaps) { lo = Math.min(lo, g.from); hi = Math.max(hi, g.to) }
  return lo <= hi ? [lo - 1, hi + 1] : undefined
}

/**
 * The stream's row with the ranges above its mark that the batch can touch, and the lowest one
 * (the next the mark may reach), in one statement. Read after the device row's lock was taken,
 * so it sees what the transaction before committed (a join in the locking statement would not).
 */
async function readStream (
  c: PoolClient,
  device: string,
  id: string,
  win: [number, number] | undefined
): Promise<{ row: StreamSql; ranges: Range[] } | undefined> {
  const ranges = (col: string): string => `ARRAY(SELECT r.${col} FROM stream_ranges r WHERE r.device = s.device AND r.ord = s.ord
      AND ((r.to_seq >= $3 AND r.from_seq <= $4) OR r.from_seq = (SELECT min(m.from_seq) FROM stream_ranges m WHERE m.device = s.device AND m.ord = s.ord))
      ORDER BY r.from_seq)`
  const w = win ?? [0, -1]
  const r = (
    await c.query<StreamSql & { rfrom: string[]; rto: string[] }>(
      `SELECT ${STREAM_COLUMNS.split(', ')
        .map((x) => `s.${x}`)
        .join(', ')}, ${ranges('from_seq')} AS rfrom, ${ranges('to_seq')} AS rto
     FROM streams s WHERE s.device = $1 AND s.id = $2`,
      [device, id, w[0], w[1]]
    )
  ).rows[0]
  if (r === undefined) return undefined
  return { row: r, ranges: r.rfrom.map((f, i): Range => [Number(f), Number(r.rto[i])]) }
}

/**
 * The first seq of `dups` (sorted) held with other bytes, or declared `dropped` or `lost` (only
 * another board can send a seq its stream said it never would). A seq with no stored record
 * otherwise (an `excluded` gap, a day retention dropped) is a plain duplicate.
 */
async function firstConflict (c: PoolClient, device: string, ord: number, dups: ChunkRecord[]): Promise<number | undefined> {
  const seqs = dups.map((d) => d.s)
  const rows = await c.query<{ seq: number, kind: string, fn: string | null, time: number, data: Buffer }>(
    'SELECT seq, kind, fn, time, data FROM records WHERE device = $1 AND ord = $2 AND seq = ANY($3::bigint[])', [device, ord, seqs])
  const stored = new Map(rows.rows.map((r) => [r.seq, r]))
  let gaps: Array<{ from_seq: number, to_seq: number, reason: string }> | undefined
  for (const d of dups) {
    const s = stored.get(d.s)
    if (s !== undefined) {
      const held: ChunkRecord = { s: s.seq, k: s.kind as ChunkRecord['k'], t: s.time, d: decodeData(s.data) }
      if (s.fn !== null) held.f = s.fn
      if (!sameRecord(held, d)) return d.s
      continue
    }
    gaps ??= (await c.query<{ from_seq: number, to_seq: number, reason: string }>(
      'SELECT from_seq, to_seq, reason FROM gaps WHERE device = $1 AND ord = $2 AND from_seq <= $4 AND to_seq >= $3', [device, ord, seqs[0], seqs[seqs.length - 1]])).rows
    if (gaps.some((g) => g.from_seq <= d.s && g.to_seq >= d.s && g.reason !== 'excluded')) return d.s
  }
  return undefined
}

/** Writes the stream row and the device row's facts (`set`: extra assignments from $14 on) in one statement. */
async function putRows (
  c: PoolClient,
  s: StreamRow,
  device: { id: string; receivedAt: number; streams: number },
  set: string,
  params: unknown[]
): Promise<void> {
  await c.query(
    `WITH st AS (
       INSERT INTO streams (${STREAM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (device, id) DO UPDATE SET last_seen = EXCLUDED.last_seen, high_water = EXCLUDED.high_water, stored = EXCLUDED.stored,
         duplicates = EXCLUDED.duplicates, gaps = EXCLUDED.gaps, gap_seqs = EXCLUDED.gap_seqs, conflicts = EXCLUDED.conflicts)
     UPDATE devices SET last_seen = GREATEST(coalesce(last_seen, $12), $12), heard_at = clock_timestamp(), stream = $2, streams = $13, high_water = $6${set}
     WHERE id = $1`,
    [
      s.device,
      s.id,
      s.ord,
      s.firstSeen,
      s.lastSeen,
      s.highWater,
      s.counts.stored,
      s.counts.duplicates,
      s.counts.gaps,
      s.counts.gapSeqs,
      s.conflicts === undefined ? null : enc(s.conflicts),
      device.receivedAt,
      device.streams,
      ...params
    ]
  )
}

/** Ingests one batch inside the open transaction of `c`; `day` is receivedAt's partition, made already. */
export async function ingestTx (c: PoolClient, device: string, batch: IngestBatch, receivedAt: number, day: number): Promise<IngestResult> {
  const dev = (await c.query<{ streams: number, conflict: Buffer | null }>('SELECT streams, conflict FROM devices WHERE id = $1 FOR UPDATE', [device])).rows[0]
  if (dev === undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `device ${device} is not registered`)
  const id = batch.stream ?? LEGACY_STREAM
  const win = windowOf(batch)
  const read = await readStream(c, device, id, win)
  const known = read?.row
  const streams = known === undefined ? dev.streams + 1 : dev.streams
  const stream: StreamRow =
    known !== undefined
      ? streamRow(known)
      : {
          device,
          id,
          ord: streams,
          firstSeen: receivedAt,
          lastSeen: receivedAt,
          highWater: 0,
          counts: { stored: 0, duplicates: 0, gaps: 0, gapSeqs: 0 }
        }
  const { ord } = stream
  const hw = stream.highWater
  const loaded = read?.ranges ?? []
  const above = new Coverage(loaded)
  checkPlacement(hw, above, batch.records, batch.gaps)

  const fresh: ChunkRecord[] = []
  const dups: ChunkRecord[] = []
  const seen = new Set<number>()
  for (const r of [...batch.records].sort((a, b) => a.seq - b.seq)) {
    if (seen.has(r.seq)) continue
    seen.add(r.seq)
    const ch: ChunkRecord = { s: r.seq, k: r.kind, t: r.time, d: r.data }
    if (r.fn !== undefined) ch.f = r.fn
    if (r.seq <= hw || above.covers(r.seq)) dups.push(ch)
    else fresh.push(ch)
  }
  const conflict = dups.length > 0 ? await firstConflict(c, device, ord, dups) : undefined
  const facts = { id: device, receivedAt, streams }
  if (conflict !== undefined) {
    const was = stream.conflicts
    stream.conflicts = { count: (was?.count ?? 0) + 1, lastAt: receivedAt, seq: conflict }
    const prev = dev.conflict === null ? undefined : dec<ConflictFacts>(dev.conflict)
    const held: ConflictFacts = { count: (prev?.count ?? 0) + 1, firstAt: prev?.firstAt ?? receivedAt, lastAt: receivedAt, stream: id, seq: conflict }
    await putRows(c, stream, facts, ', conflict = $14', [enc(held)])
    return { stored: 0, duplicates: 0, gaps: 0, highWater: stream.highWater, stream: id, newStream: known === undefined, conflict: { seq: conflict } }
  }

  // A gap counts once: the part above the mark not already covered.
  const newGaps: StoredGap[] = []
  for (const g of batch.gaps) {
    const from = Math.max(g.from, hw + 1)
    if (g.to < from || above.covers(from) || newGaps.some((n) => n.from === from)) continue
    newGaps.push({ device, stream: id, from, to: g.to, reason: g.reason, receivedAt })
  }
  for (const [a, b] of joinRanges([...runsOf(fresh.map((r) => r.s)), ...newGaps.map((g): Range => [g.from, g.to])])) above.add(a, b)
  stream.highWater = above.advance(hw).hw

  let inserted = 0
  if (fresh.length > 0) {
    const { blob, at, len } = dataOf(batch, fresh)
    const res = await c.query(
      `INSERT INTO records (device, ord, seq, day, received_at, kind, fn, time, data)
       SELECT $1, $2, u.seq, $3, $4, u.kind, u.fn, u.time, substring($9::bytea FROM u.at FOR u.len)
       FROM unnest($5::bigint[], $6::text[], $7::text[], $8::float8[], $10::int[], $11::int[]) AS u(seq, kind, fn, time, at, len)
       ON CONFLICT DO NOTHING`,
      [device, ord, day, receivedAt, fresh.map((r) => r.s), fresh.map((r) => r.k), fresh.map((r) => r.f ?? null), fresh.map((r) => r.t), blob, at, len])
    inserted = res.rowCount ?? 0
  }
  if (newGaps.length > 0) {
    await c.query(
      `INSERT INTO gaps (device, ord, from_seq, to_seq, reason, received_at)
       SELECT $1, $2, u.f, u.t, u.r, $3 FROM unnest($4::bigint[], $5::bigint[], $6::text[]) AS u(f, t, r) ON CONFLICT DO NOTHING`,
      [device, ord, receivedAt, newGaps.map((g) => g.from), newGaps.map((g) => g.to), newGaps.map((g) => g.reason)])
  }
  // The cursor: ranges as loaded against ranges as they are now, by (from, to).
  const final = above.list()
  const same = (x: Range) => (y: Range): boolean => x[0] === y[0] && x[1] === y[1]
  const gone = loaded.filter((r) => !final.some(same(r)))
  const made = final.filter((r) => !loaded.some(same(r)))
  if (gone.length > 0) await c.query('DELETE FROM stream_ranges WHERE device = $1 AND ord = $2 AND from_seq = ANY($3::bigint[])', [device, ord, gone.map((r) => r[0])])
  if (made.length > 0) {
    await c.query('INSERT INTO stream_ranges (device, ord, from_seq, to_seq) SELECT $1, $2, u.f, u.t FROM unnest($3::bigint[], $4::bigint[]) AS u(f, t)',
      [device, ord, made.map((r) => r[0]), made.map((r) => r[1])])
  }
  // Only a broken serialization could leave a fresh seq already stored; counted as a duplicate.
  const duplicates = batch.records.length - inserted
  const gapSeqs = newGaps.reduce((n, g) => n + g.to - g.from + 1, 0)
  stream.lastSeen = receivedAt
  stream.counts.stored += inserted
  stream.counts.duplicates += duplicates
  stream.counts.gaps += newGaps.length
  stream.counts.gapSeqs += gapSeqs
  await putRows(c, stream, facts, ', stored = stored + $14, duplicates = duplicates + $15, gaps = gaps + $16, gap_seqs = gap_seqs + $17', [inserted, duplicates, newGaps.length, gapSeqs])
  return { stored: inserted, duplicates, gaps: newGaps.length, highWater: stream.highWater, stream: id, newStream: known === undefined }
}
