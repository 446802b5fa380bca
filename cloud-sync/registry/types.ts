// The cloud registry's rows, shaped as tables would be (a PostgreSQL backend follows the same
// interface): devices, records keyed by (device, seq), declared gaps, per-device high-water.
import type { HeartbeatFrame, StatusFrame, WireGap, WireRecordKind } from '../../src/wire/index.js'
import type { DeployRegistry } from './deploy-types.js'

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
  /** The last `up/status` [W3], with when it arrived. */
  status?: StatusFrame & { at: number }
  /** The last heartbeat, with when it arrived. */
  heartbeat?: HeartbeatFrame & { at: number }
  /** Highest seq with every seq at or below it stored or declared as a gap [W4]. */
  highWater: number
  /** Ingest counters: records stored, duplicates ignored, gaps and the seqs they cover. */
  counts: IngestCounts
  /** Seq ranges stored or declared above highWater (out-of-order arrivals), sorted, disjoint. */
  above?: Array<[number, number]>
}

export interface IngestCounts { stored: number, duplicates: number, gaps: number, gapSeqs: number }

/** One ingested record (table `records`, primary key (device, seq)). */
export interface StoredRecord {
  device: string
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
export interface StoredGap extends WireGap { device: string, receivedAt: number }

/** What one ingest did [W4]: `highWater` is what `down/ack` carries. */
export interface IngestResult { stored: number, duplicates: number, gaps: number, highWater: number }

export interface NewDevice { id: string, group?: string, secretHash: string, createdAt: number }

export interface RecordQuery {
  fn?: string
  kinds?: WireRecordKind[]
  /** Newest first (default), up to `limit` (default 100, at most 10,000). */
  limit?: number
  /** Only records with seq > afterSeq, oldest first (for following a log). */
  afterSeq?: number
}

/**
 * The registry contract, devices and records here and deployments in DeployRegistry;
 * `test/cloud-sync/registry/abstract-suite.ts` holds every backend to it.
 */
export interface Registry extends DeployRegistry {
  /** Throws LAMBKIN_DEVICE_EXISTS when the id is taken (also by a revoked device). */
  addDevice: (d: NewDevice) => Promise<DeviceRow>
  getDevice: (id: string) => Promise<DeviceRow | undefined>
  listDevices: () => Promise<DeviceRow[]>
  /** Marks the device revoked; false when there is no such device. */
  revokeDevice: (id: string, at: number) => Promise<boolean>
  /**
   * Replaces the device's secret hash (and sets rotatedAt), keeping everything else: its id,
   * records, gaps, high-water and deployments. Returns the row as it is after (a revoked device
   * is returned unchanged: revocation is final), undefined when there is no such device.
   */
  rotateSecret: (id: string, secretHash: string, at: number) => Promise<DeviceRow | undefined>
  /** Records liveness facts; a device that does not exist is ignored. */
  touch: (id: string, facts: { lastSeen: number, status?: StatusFrame, heartbeat?: HeartbeatFrame }) => Promise<void>
  /**
   * Stores the records and gaps of one batch that are new for the device (dedup by seq), then
   * advances the high-water mark over everything contiguous, all in one atomic write [W4].
   * Calls for one device are applied one at a time, in call order. `raw`, when given, is the
   * CBOR frame whose `records` are exactly `records` (sorted): a backend may keep those bytes
   * instead of encoding the records again.
   */
  ingest: (device: string, records: Array<Omit<StoredRecord, 'device' | 'receivedAt'>>, gaps: WireGap[], receivedAt: number, raw?: Uint8Array) => Promise<IngestResult>
  records: (device: string, q?: RecordQuery) => Promise<StoredRecord[]>
  gaps: (device: string) => Promise<StoredGap[]>
  close: () => Promise<void>
}
