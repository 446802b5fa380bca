// The frames device and cloud exchange, and their validation [W2]-[W4]. Validators take a
// decoded frame and return a typed one or throw LAMBKIN_WIRE_INVALID naming the field; unknown
// fields are ignored [W2].
import { isValidId } from '../ids.js'
import { wireError } from './cbor.js'
import { checkEmbedded, embeddedBytes } from './embedded-data.js'
import { dataProblem } from './record-data.js'

/** Record kinds a batch may carry (the device outbox's kinds). */
export const WIRE_RECORD_KINDS = Object.freeze(['result', 'emit', 'log', 'metric', 'dead-letter'] as const)
export type WireRecordKind = (typeof WIRE_RECORD_KINDS)[number]

/**
 * One outbox record on the wire [W4]. `time` is the device's clock, ms since the epoch. `data`
 * is the value, or (embedded-data.ts) tag 24 around the CBOR bytes the device stored.
 */
export interface WireRecord { seq: number, kind: WireRecordKind, fn?: string, time: number, data: unknown }

/**
 * Sequence numbers the device will never send, inclusive [W4]. `dropped`: its outbox quota or
 * a TTL removed them (the device's outbox counters say which); `excluded`: not uploaded by
 * configuration (log upload turned off); `lost`: gone for a reason the device cannot name.
 */
export interface WireGap { from: number, to: number, reason: GapReason }
export const GAP_REASONS = Object.freeze(['dropped', 'excluded', 'lost'] as const)
export type GapReason = (typeof GAP_REASONS)[number]

/**
 * An outbox stream id [W4]: made at random with the device's store (16 hex digits today), so a
 * new store's seqs are never taken for an old store's. A batch without one is of the legacy
 * stream, what stores made before streams existed send.
 */
export const STREAM_ID_PATTERN = /^[0-9a-f]{8,64}$/
export function isStreamId (s: unknown): s is string {
  return typeof s === 'string' && STREAM_ID_PATTERN.test(s)
}

/** `up/batch` [W4]: records and declared gaps covering `first..last` without holes. */
export interface BatchFrame {
  /** The outbox stream the seqs belong to; undefined: the legacy stream. */
  stream?: string
  /** Picked by the device for this batch and echoed in its ack, so a board acts only on its own acks. */
  batchId?: number
  records: WireRecord[]
  gaps: WireGap[]
  first: number
  last: number
  /** True when the frame's records came in seq order (so its bytes list them sorted). */
  sorted: boolean
}

/**
 * `down/ack` [W4]: the highest sequence number the cloud has stored contiguously for this
 * device's `stream` (absent: the legacy stream), the `batchId` of the batch it answers, and
 * `rejected`: the wire rule a refused batch broke (its reason), or `conflict` when the cloud
 * holds other bytes under one of its seqs. `embedded`: true from a cloud that takes record data
 * as embedded CBOR (tag 24, embedded-data.ts); a device sends it only after such an ack.
 */
export interface AckFrame { seq: number, stream?: string, batchId?: number, rejected?: string, embedded?: boolean }

/** `up/status` [W3], retained; the last will carries `offline`. */
export interface StatusFrame {
  state: 'online' | 'offline'
  agent?: string
  functions?: Array<{ name: string, version: string }>
  time?: number
  /** How often the device sends heartbeats, ms; the cloud calls it stale after 3 missed. */
  heartbeatMs?: number
  /** How often the device writes a metric snapshot, ms, so a view with none yet can say when. */
  metricsSnapshotMs?: number
  /**
   * A random id the device's cloud link picks when it starts (docs/wire.md): an `online` from
   * another boot while the last status was `online` is a second client on the id (a takeover).
   */
  boot?: string
}

/** Longest `boot` id a status carries, characters. */
export const STATUS_BOOT_MAX = 32

/** `up/heartbeat`: liveness plus what the operator views show. */
export interface HeartbeatFrame {
  time: number
  backlog: { records: number, bytes: number }
  uploadedToday: number
  lastSeq: number
  /** Present while the device's outbox store is faulted (a failed write; it takes nothing until reopened). */
  storeFault?: { since: number, message: string }
}

/** Longest store fault message a heartbeat carries; longer ones are cut. */
export const STORE_FAULT_MESSAGE_MAX = 300

/** Caps on one batch; a device packs under them and the cloud refuses above them [W8]. */
export const BATCH_LIMITS = Object.freeze({ maxRecords: 5000, maxBytes: 1024 * 1024 })

const isSeq = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0
/** Printable ASCII and no control characters: what the cloud may show an operator's terminal. */
const isPrintable = (s: unknown, max: number): boolean => typeof s === 'string' && s.length <= max && /^[\x20-\x7e]*$/.test(s)
const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n)

function field (ok: boolean, name: string, want: string): void {
  if (!ok) throw wireError('field', `${name} must be ${want}`)
}

/**
 * Checks an `up/batch` frame [W4]: at most BATCH_LIMITS.maxRecords records, each with a
 * positive integer seq, a known kind and a finite time; gaps with from <= to and a known
 * reason; and records plus gaps covering one contiguous range exactly once. The records are
 * the decoded frame's own objects (unknown fields kept, ignored), sorted by seq.
 */
export function parseBatch (f: Record<string, unknown>): BatchFrame {
  field(Array.isArray(f.records), 'records', 'an array')
  const gapsIn = f.gaps === undefined ? [] : f.gaps
  field(Array.isArray(gapsIn), 'gaps', 'an array')
  const records = f.records as WireRecord[]
  const rawGaps = gapsIn as unknown[]
  if (records.length > BATCH_LIMITS.maxRecords) throw wireError('too-large', `a batch carries at most ${BATCH_LIMITS.maxRecords} records, got ${records.length}`)
  field(records.length + rawGaps.length > 0, 'records', 'non-empty (or gaps given)')
  // Checked in place, messages built only on failure: this runs for every record ingested.
  let ordered = true
  // Records of a batch mostly share a function: a name checked once is not checked again.
  let checkedFn: unknown
  for (let i = 0; i < records.length; i++) {
    const o = records[i] as unknown as Record<string, unknown> | null
    if (o === null || typeof o !== 'object' || Array.isArray(o)) field(false, `records[${i}]`, 'a map')
    const r = o as Record<string, unknown>
    if (!isSeq(r.seq)) field(false, `records[${i}].seq`, 'a positive integer')
    if (!(WIRE_RECORD_KINDS as readonly unknown[]).includes(r.kind)) field(false, `records[${i}].kind`, `one of ${WIRE_RECORD_KINDS.join(', ')}`)
    if (!isTime(r.time)) field(false, `records[${i}].time`, 'a number (ms since the epoch)')
    if (r.fn !== undefined && r.fn !== checkedFn) {
      if (!isValidId(r.fn)) field(false, `records[${i}].fn`, 'a function name')
      checkedFn = r.fn
    }
    // What a JSON API can answer with (record-data.ts): refused here, so no later query fails.
    // Embedded data is checked on its bytes, never decoded here (embedded-data.ts).
    const embedded = embeddedBytes(r.data)
    const p = embedded === undefined ? dataProblem(r.data) : checkEmbedded(embedded)
    if (p !== undefined) throw wireError(`data-${p.reason}`, `records[${i}].data ${p.message}`)
    if (i > 0 && (r.seq as number) !== records[i - 1].seq + 1) ordered = false
  }
  const gaps: WireGap[] = rawGaps.map((g, i) => {
    field(g !== null && typeof g === 'object' && !Array.isArray(g), `gaps[${i}]`, 'a map')
    const o = g as Record<string, unknown>
    field(isSeq(o.from) && isSeq(o.to) && (o.from as number) <= (o.to as number), `gaps[${i}]`, 'from <= to, positive integers')
    field((GAP_REASONS as readonly unknown[]).includes(o.reason), `gaps[${i}].reason`, GAP_REASONS.join(', '))
    return { from: o.from as number, to: o.to as number, reason: o.reason as WireGap['reason'] }
  })
  const head = streamFields(f)
  // The common case, records already in order with no gaps, needs no sort.
  if (ordered && gaps.length === 0) return { ...head, records, gaps, first: records[0].seq, last: records[records.length - 1].seq, sorted: true }
  // Coverage: sort the spans and require each to start right after the previous one.
  const spans = [...records.map((r) => [r.seq, r.seq]), ...gaps.map((g) => [g.from, g.to])].sort((a, b) => a[0] - b[0])
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] !== spans[i - 1][1] + 1) throw wireError('not-contiguous', `batch sequence numbers are not contiguous at ${spans[i - 1][1]} -> ${spans[i][0]} (declare skipped ones as gaps)`)
  }
  if (!ordered) records.sort((a, b) => a.seq - b.seq)
  checkGapBound(records, gaps)
  return { ...head, records, gaps, first: spans[0][0], last: spans[spans.length - 1][1], sorted: ordered }
}

/** A batch's `stream` and `batchId`, each optional [W4]. */
function streamFields (f: Record<string, unknown>): { stream?: string, batchId?: number } {
  field(f.stream === undefined || isStreamId(f.stream), 'stream', 'a stream id (8 to 64 hex digits)')
  field(f.batchId === undefined || isCount(f.batchId), 'batchId', 'an integer of 0 or more')
  const out: { stream?: string, batchId?: number } = {}
  if (f.stream !== undefined) out.stream = f.stream as string
  if (f.batchId !== undefined) out.batchId = f.batchId as number
  return out
}

/**
 * [W4] A gap names only seqs the device has handed out: a `dropped` or `lost` gap is followed
 * in its batch by a record or an `excluded` gap (a device learns of a hole from the seq after
 * it), and an `excluded` gap, records the device holds and does not upload, covers at most
 * BATCH_LIMITS.maxRecords seqs. So no batch declares seqs beyond what it covers, up to 2^53-1.
 * Throws LAMBKIN_WIRE_INVALID 'gap-unbounded'.
 */
function checkGapBound (records: WireRecord[], gaps: WireGap[]): void {
  let anchor = records.length === 0 ? 0 : records[records.length - 1].seq
  for (const g of gaps) {
    if (g.reason !== 'excluded') continue
    if (g.to - g.from + 1 > BATCH_LIMITS.maxRecords) throw wireError('gap-unbounded', `an excluded gap covers ${g.to - g.from + 1} seqs (${g.from}..${g.to}), more than the ${BATCH_LIMITS.maxRecords} records a batch may hold`)
    anchor = Math.max(anchor, g.to)
  }
  for (const g of gaps) {
    if (g.reason !== 'excluded' && g.to >= anchor) throw wireError('gap-unbounded', `gap ${g.from}..${g.to} (${g.reason}) reaches past the batch's last record; a gap must be followed by a record or an excluded gap`)
  }
}

/** Checks a `down/ack` frame [W4]. */
export function parseAck (f: Record<string, unknown>): AckFrame {
  field(Number.isSafeInteger(f.seq) && (f.seq as number) >= 0, 'seq', 'a non-negative integer')
  const ack: AckFrame = { seq: f.seq as number, ...streamFields(f) }
  if (typeof f.rejected === 'string') ack.rejected = f.rejected
  if (f.embedded === true) ack.embedded = true
  return ack
}

/** Checks an `up/status` frame [W3]. */
export function parseStatus (f: Record<string, unknown>): StatusFrame {
  field(f.state === 'online' || f.state === 'offline', 'state', 'online or offline')
  field(f.agent === undefined || typeof f.agent === 'string', 'agent', 'a string')
  field(f.time === undefined || isTime(f.time), 'time', 'a number')
  field(f.heartbeatMs === undefined || (Number.isSafeInteger(f.heartbeatMs) && (f.heartbeatMs as number) > 0), 'heartbeatMs', 'a positive integer')
  field(f.metricsSnapshotMs === undefined || (Number.isSafeInteger(f.metricsSnapshotMs) && (f.metricsSnapshotMs as number) > 0), 'metricsSnapshotMs', 'a positive integer')
  const functions = f.functions === undefined ? undefined : f.functions
  field(functions === undefined || (Array.isArray(functions) && functions.length <= 1000 && functions.every((x) => x !== null && typeof x === 'object' && isValidId((x as { name?: unknown }).name) && isPrintable((x as { version?: unknown }).version ?? '', 64))), 'functions', 'an array of at most 1000 { name (a function name), version }')
  field(f.agent === undefined || isPrintable(f.agent, 64), 'agent', 'a version string of printable characters')
  field(f.boot === undefined || (isPrintable(f.boot, STATUS_BOOT_MAX) && (f.boot as string).length > 0), 'boot', `an id of 1 to ${STATUS_BOOT_MAX} printable characters`)
  return {
    state: f.state as StatusFrame['state'],
    agent: f.agent as string | undefined,
    time: f.time as number | undefined,
    heartbeatMs: f.heartbeatMs as number | undefined,
    ...(f.metricsSnapshotMs === undefined ? {} : { metricsSnapshotMs: f.metricsSnapshotMs as number }),
    ...(f.boot === undefined ? {} : { boot: f.boot as string }),
    functions: (functions as Array<{ name: string, version?: unknown }> | undefined)?.map((x) => ({ name: x.name, version: String(x.version ?? '') }))
  }
}

/** Checks an `up/heartbeat` frame. */
export function parseHeartbeat (f: Record<string, unknown>): HeartbeatFrame {
  field(isTime(f.time), 'time', 'a number')
  const b = f.backlog as Record<string, unknown> | undefined
  field(b !== null && typeof b === 'object' && isCount(b.records) && isCount(b.bytes), 'backlog', '{ records, bytes }, counts of 0 or more')
  field(isCount(f.uploadedToday), 'uploadedToday', 'a byte count of 0 or more')
  field(isCount(f.lastSeq), 'lastSeq', 'a seq of 0 or more')
  const sf = f.storeFault as Record<string, unknown> | undefined
  field(sf === undefined || (sf !== null && typeof sf === 'object' && isTime(sf.since) && typeof sf.message === 'string'), 'storeFault', '{ since, message }')
  const out: HeartbeatFrame = {
    time: f.time as number,
    backlog: { records: (b as { records: number }).records, bytes: (b as { bytes: number }).bytes },
    uploadedToday: f.uploadedToday as number,
    lastSeq: f.lastSeq as number
  }
  if (sf !== undefined) out.storeFault = { since: sf.since as number, message: (sf.message as string).slice(0, STORE_FAULT_MESSAGE_MAX) }
  return out
}
