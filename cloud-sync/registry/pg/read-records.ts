// Record queries on the PostgreSQL registry (RecordQuery in types.ts): in (stream first seen,
// seq) order, newest first (before a position when paging back), or oldest first after a position; by function and kinds through the
// per-partition indexes. Data is decoded on read, safely (record-data.ts).
import { LEGACY_STREAM } from '../types.js'
import type { RecordQuery, StoredRecord } from '../types.js'
import type { PgDb } from './db.js'
import { decodeData } from './record-data.js'

const MAX_LIMIT = 10_000

interface RecordSql { ord: number, seq: number, kind: StoredRecord['kind'], fn: string | null, time: number, received_at: number, data: Buffer }

export async function readRecords (db: PgDb, device: string, q: RecordQuery): Promise<StoredRecord[]> {
  const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_LIMIT)
  const streams = await db.query<{ id: string, ord: number, high_water: number }>('reading streams', 'SELECT id, ord, high_water FROM streams WHERE device = $1', [device])
  const byOrd = new Map(streams.map((s) => [s.ord, s.id]))
  const params: unknown[] = [device]
  const where = ['device = $1']
  if (q.fn !== undefined) { params.push(q.fn); where.push(`fn = $${params.length}`) }
  if (q.kinds !== undefined) { params.push(q.kinds); where.push(`kind = ANY($${params.length}::text[])`) }
  const forward = q.afterSeq !== undefined
  if (forward) {
    let id = q.stream
    if (id === undefined) id = (await db.query<{ stream: string | null }>('reading a device', 'SELECT stream FROM devices WHERE id = $1', [device]))[0]?.stream ?? undefined
    // A stream the device never sent is before all of them.
    const ord = streams.find((s) => s.id === id)?.ord ?? 0
    params.push(ord, q.afterSeq)
    where.push(`(ord, seq) > ($${params.length - 1}::int, $${params.length}::bigint)`)
    // Held back from a follower: the newest stream's records above its high-water (RecordQuery.afterSeq).
    const newest = streams.reduce<{ ord: number, high_water: number } | undefined>((m, st) => (m === undefined || st.ord > m.ord ? st : m), undefined)
    if (newest !== undefined) {
      params.push(newest.ord, newest.high_water)
      where.push(`(ord <> $${params.length - 1}::int OR seq <= $${params.length}::bigint)`)
    }
  }
  if (!forward && q.before !== undefined) {
    // Paging back: a stream the device never sent has nothing before it.
    const ord = streams.find((s) => s.id === q.before?.stream)?.ord
    if (ord === undefined) return []
    params.push(ord, q.before.seq)
    where.push(`(ord, seq) < ($${params.length - 1}::int, $${params.length}::bigint)`)
  }
  params.push(limit)
  const dir = forward ? 'ASC' : 'DESC'
  const rows = await db.query<RecordSql>('reading records',
    `SELECT ord, seq, kind, fn, time, received_at, data FROM records WHERE ${where.join(' AND ')} ORDER BY ord ${dir}, seq ${dir} LIMIT $${params.length}`, params)
  return rows.map((r) => {
    const out: StoredRecord = {
      device,
      stream: byOrd.get(r.ord) ?? LEGACY_STREAM,
      seq: r.seq,
      kind: r.kind,
      time: r.time,
      receivedAt: r.received_at,
      data: decodeData(r.data)
    }
    if (r.fn !== null) out.fn = r.fn
    return out
  })
}
