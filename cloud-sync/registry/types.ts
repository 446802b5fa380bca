// The cloud registry's rows, shaped as tables would be (a PostgreSQL backend follows the same
// interface): devices, their outbox streams, records keyed by (device, stream, seq), declared
// gaps, and a high-water mark per stream [W4].
import type { HeartbeatFrame, StatusFrame, WireGap, WireRecordKind } from '../../src/wire/index.js'
import type { DeployRegistry } from './deploy-types.js'
import type { FaultState } from '../../src/store-fault.js'

/** One device (table `devices`). Times are ms since the epoch, the cloud's clock. */
export interface DeviceRow {
  id: string
  group?: string
  /** scrypt hash of the device secret (cloud-sync/broker/secrets.ts); the secret is never stored. */
  secretHash: string
  createdAt: number
  /** Set when revoked: the device's connects are refused from then on. */
  revokedAt?: number
  /** When its secret was last replaced (`lambkin devices rotate`); the old one stopped working then. */
  rotatedAt?: number
  /** Last time anything arrived from the device. */
  lastSeen?: number
  /** The last `up/status` [W3], with when it arrived; an offline one with the last known agent and functions (status-merge.ts). */
  status?: StatusFrame & { at: number }
  /** The last heartbeat, with when it arrived. */
  heartbeat?: HeartbeatFrame & { at: number }
  /** The current stream's highest seq with every seq at or below it stored or declared as a gap [W4]. */
  highWater: number
  /** Ingest counters over all the device's streams: records stored, duplicates ignored, gaps and the seqs they cover. */
  counts: IngestCounts
  /** How many outbox streams the device has sent (a new one per re-flashed card or new store) [W4]. */
  streams?: number
  /** The stream of the last batch stored or refused (LEGACY_STREAM for batches without one). */
  stream?: string
  /** [W4] Batches refused because a seq came with other bytes than stored: two boards on one id. */
  conflict?: ConflictFacts
  /** Connections that took over one still open with the same id (two boards on one id, or a half-open one). */
  takeovers?: TakeoverFacts
}

export interface IngestCounts { stored: number, duplicates: number, gaps: number, gapSeqs: number }

export interface ConflictFacts { count: number, firstAt: number, lastAt: number, stream: string, seq: number }

export interface TakeoverFacts {
  count: number
  lastAt: number
  /** When the last few happened (at most TAKEOVERS_KEPT), oldest first. */
  recent: number[]
}

/** How many takeover times a device row keeps. */
export const TAKEOVERS_KEPT = 10

/** The stream of batches without a stream id: agents older than streams, and their stores [W4]. */
export const LEGACY_STREAM = 'legacy'

/** One outbox stream of a device (table `streams`, primary key (device, id)) [W4]. */
export interface StreamRow {
  device: string
  /** The id the device's store made (STREAM_ID_PATTERN), or LEGACY_STREAM. */
  id: string
  /** 1, 2, 3... in the order the cloud first saw the device's streams: the records' order across streams. */
  ord: number
  firstSeen: number
  lastSeen: number
  /** Highest seq of this stream with every seq at or below it stored or declared as a gap. */
  highWater: number
  counts: IngestCounts
  /** Conflicts on this stream: how many batches were refused, and the last seq that differed. */
  conflicts?: { count: number, lastAt: number, seq: number }
}

/** One ingested record (table `records`, primary key (device, stream, seq)). */
export interface StoredRecord {
  device: string
  /** The outbox stream it came in (LEGACY_STREAM for batches without one). */
  stream: string
  seq: number
  kind: WireRecordKind
  fn?: string
  /** The device's clock when it happened. */
  time: number
  /** The cloud's clock when it was stored. */
  receivedAt: number
  data: unknown
}

/** A declared gap as stored (table `gaps`). */
export interface StoredGap extends WireGap { device: string, stream: string, receivedAt: number }

/** One `up/batch` as ingest hands it over [W4]. */
export interface IngestBatch {
  /** The outbox stream; undefined: the legacy stream. */
  stream?: string
  records: Array<Omit<StoredRecord, 'device' | 'receivedAt' | 'stream'>>
  gaps: WireGap[]
  /**
   * The CBOR frame whose `records` are exactly `records` (sorted), when it is: a backend may
   * keep those bytes instead of encoding the records again.
   */
  raw?: Uint8Array
}

/**
 * What one ingest did [W4]: `highWater` (of `stream`) is what `down/ack` carries. `newStream`:
 * the batch opened a stream the device had not sent before. `conflict`: the batch was refused,
 * nothing of it stored, because the cloud holds other bytes under `seq` of this stream.
 */
export interface IngestResult {
  stored: number
  duplicates: number
  gaps: number
  highWater: number
  stream: string
  newStream: boolean
  conflict?: { seq: number }
}

/**
 * One page of devices in id order (docs/cloud.md, "Pages"): those whose id sorts after `after`
 * by code unit (bytes, for ids of ID_PATTERN), at most `limit`. Without either, all of them.
 */
export interface DevicePageQuery { after?: string, limit?: number }

export interface NewDevice { id: string, group?: string, secretHash: string, createdAt: number }

export interface RecordQuery {
  fn?: string
  kinds?: WireRecordKind[]
  /** Newest first (default), up to `limit` (default 100, at most 10,000). */
  limit?: number
  /**
   * Only records after (stream, afterSeq), oldest first (for following a log): the rest of
   * that stream and every stream first seen after it. Without `stream`, the device's current one.
   * Records of the newest stream above its high-water are held back until the seqs below them
   * are stored or declared gaps: batches may commit out of order (two instances, a retried
   * batch), and a follower moving its position to the last seq it saw must not pass a seq that
   * commits later [W4].
   */
  afterSeq?: number
  stream?: string
  /**
   * Only records before this position, newest first (paging back from the last record of a
   * page): the earlier part of that stream and every stream first seen before it. A stream the
   * device never sent gives nothing. Not together with `afterSeq`.
   */
  before?: { stream: string, seq: number }
}

/**
 * The registry contract, devices and records here and deployments in DeployRegistry;
 * `test/cloud-sync/registry/abstract-suite.ts` holds every backend to it.
 */
export interface Registry extends DeployRegistry {
  /** Throws LAMBKIN_DEVICE_EXISTS when the id is taken (also by a revoked device). */
  addDevice: (d: NewDevice) => Promise<DeviceRow>
  getDevice: (id: string) => Promise<DeviceRow | undefined>
  /**
   * Devices in id order by code unit, the same on every backend (PostgreSQL compares with
   * COLLATE "C", whatever the database's collation), so a page boundary means the same thing
   * on each; `q` narrows it to one page (DevicePageQuery).
   */
  listDevices: (q?: DevicePageQuery) => Promise<DeviceRow[]>
  /** Marks the device revoked; false when there is no such device. */
  revokeDevice: (id: string, at: number) => Promise<boolean>
  /**
   * Replaces the device's secret hash (and sets rotatedAt), keeping everything else: its id,
   * records, gaps, high-water and deployments. Returns the row as it is after (a revoked device
   * is returned unchanged: revocation is final), undefined when there is no such device.
   */
  rotateSecret: (id: string, secretHash: string, at: number) => Promise<DeviceRow | undefined>
  /**
   * [W4] Forgets the conflict the device row holds (`lambkin devices clear-conflict`), once the
   * operator dealt with its cause, keeping the streams' own conflict counts and every record.
   * A batch refused after this holds a new one, counted from 1. Returns what was held (null:
   * none), or undefined when there is no such device.
   */
  clearConflict: (id: string) => Promise<{ cleared: ConflictFacts | null } | undefined>
  /**
   * Records liveness facts; a device that does not exist is ignored. An `offline` status keeps
   * the agent, functions and intervals the device last gave (status-merge.ts), and the last
   * heartbeat (its backlog) stays until the next one.
   */
  touch: (id: string, facts: { lastSeen: number, status?: StatusFrame, heartbeat?: HeartbeatFrame }) => Promise<void>
  /**
   * Stores the records and gaps of one batch that are new for the device's stream (dedup by
   * (stream, seq)), then advances that stream's high-water over everything contiguous, all in
   * one atomic write [W4]. A seq already stored with other bytes (kind, fn, time, data), or a
   * record under a seq declared `dropped` or `lost`, is a conflict: nothing of the batch is
   * stored and the conflict is counted on the stream and the device. Calls for one device are
   * applied one at a time, in call order.
   * @throws LAMBKIN_DEVICE_NOT_FOUND; LAMBKIN_WIRE_INVALID (`too-far-ahead`, `overlap`).
   */
  ingest: (device: string, batch: IngestBatch, receivedAt: number) => Promise<IngestResult>
  /** The device's streams in the order first seen. */
  streams: (device: string) => Promise<StreamRow[]>
  /** Records in (stream first seen, seq) order: newest first, or oldest first after a position. */
  records: (device: string, q?: RecordQuery) => Promise<StoredRecord[]>
  /** Declared gaps, in (stream first seen, seq) order. */
  gaps: (device: string) => Promise<StoredGap[]>
  /** Counts a connection that took over an open one with the device's id. */
  noteTakeover: (id: string, at: number) => Promise<void>
  /**
   * Present while the backend is faulted: a write failed and it takes none until it has
   * reopened and verified itself, which it retries alone (src/store-fault.ts), or, for the
   * PostgreSQL backend, its database cannot be reached (LAMBKIN_DB_UNAVAILABLE) and it asks
   * again alone (pg/availability.ts). Optional: a backend with neither leaves it out.
   */
  storeFault?: () => FaultState | undefined
  close: () => Promise<void>
}
