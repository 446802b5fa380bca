// Table rows of the PostgreSQL registry to the Registry interface's shapes (types.ts) and back:
// NULL columns become absent fields, CBOR columns are decoded. One place knows the columns.
import type { DeviceRow, StreamRow } from '../types.js'
import { cbor } from './record-data.js'

export const DEVICE_COLUMNS = 'id, grp, secret_hash, created_at, revoked_at, rotated_at, last_seen, status, heartbeat, high_water, stored, duplicates, gaps, gap_seqs, streams, stream, conflict, takeovers'
/** The device's age on the database's clock, ms since anything arrived from it (null: never heard). */
export const AGE_COLUMN = '(extract(epoch FROM clock_timestamp() - heard_at) * 1000)::float8 AS age_ms'

export interface DeviceSql {
  id: string
  grp: string | null
  secret_hash: string
  created_at: number
  revoked_at: number | null
  rotated_at: number | null
  last_seen: number | null
  status: Buffer | null
  heartbeat: Buffer | null
  high_water: number
  stored: number
  duplicates: number
  gaps: number
  gap_seqs: number
  streams: number
  stream: string | null
  conflict: Buffer | null
  takeovers: Buffer | null
  age_ms?: number | null
}

export const enc = (v: unknown): Buffer => cbor.encode(v)
export const dec = <T>(b: Buffer): T => cbor.decode(b) as T

export function deviceRow (r: DeviceSql): DeviceRow {
  const row: DeviceRow = {
    id: r.id,
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    highWater: r.high_water,
    counts: { stored: r.stored, duplicates: r.duplicates, gaps: r.gaps, gapSeqs: r.gap_seqs },
    streams: r.streams
  }
  if (r.grp !== null) row.group = r.grp
  if (r.revoked_at !== null) row.revokedAt = r.revoked_at
  if (r.rotated_at !== null) row.rotatedAt = r.rotated_at
  if (r.last_seen !== null) row.lastSeen = r.last_seen
  if (r.status !== null) row.status = dec(r.status)
  if (r.heartbeat !== null) row.heartbeat = dec(r.heartbeat)
  if (r.stream !== null) row.stream = r.stream
  if (r.conflict !== null) row.conflict = dec(r.conflict)
  if (r.takeovers !== null) row.takeovers = dec(r.takeovers)
  return row
}

export const STREAM_COLUMNS = 'device, id, ord, first_seen, last_seen, high_water, stored, duplicates, gaps, gap_seqs, conflicts'

export interface StreamSql {
  device: string
  id: string
  ord: number
  first_seen: number
  last_seen: number
  high_water: number
  stored: number
  duplicates: number
  gaps: number
  gap_seqs: number
  conflicts: Buffer | null
}

export function streamRow (r: StreamSql): StreamRow {
  const row: StreamRow = {
    device: r.device,
    id: r.id,
    ord: r.ord,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    highWater: r.high_water,
    counts: { stored: r.stored, duplicates: r.duplicates, gaps: r.gaps, gapSeqs: r.gap_seqs }
  }
  if (r.conflicts !== null) row.conflicts = dec(r.conflicts)
  return row
}
