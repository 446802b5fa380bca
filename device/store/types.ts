// The outbox store's data shapes: record kinds and their drop priority, commit units,
// what read/stats/pendingPublishes return. Shared by every backend and the abstract suite.
import type { FaultState } from '../../src/store-fault.js'

/** What a buffered record is. Order is drop priority: the first is dropped first when full. */
export const RECORD_KINDS = Object.freeze(['log', 'metric', 'emit', 'result', 'dead-letter'] as const)
export type RecordKind = (typeof RECORD_KINDS)[number]

/** Lower drops first. */
export const KIND_PRIORITY: Readonly<Record<RecordKind, number>> = Object.freeze({
  log: 0, metric: 1, emit: 2, result: 3, 'dead-letter': 4
})

export function isRecordKind (k: unknown): k is RecordKind {
  return typeof k === 'string' && (RECORD_KINDS as readonly string[]).includes(k)
}

export interface NewRecord {
  kind: RecordKind
  /** The function that produced it, if any. */
  fn?: string
  /** When it happened (ms since epoch, the producer's clock). */
  time: number
  /** Anything cbor-x can encode: plain objects, arrays, strings, numbers, bytes, bigints. */
  data: unknown
  /** Overrides the store's per-kind TTL; 0 means never expires. Counted from the commit. */
  ttlMs?: number
}

export interface OutboxRecord {
  seq: number
  kind: RecordKind
  fn?: string
  time: number
  data: unknown
  /** Size of the stored (encoded) record; what the quota counts. */
  bytes: number
  expiresAt?: number
}

/**
 * An outbox record with its data left as the CBOR bytes the store holds (OutboxStore.readEncoded),
 * for a sender that passes them on without decoding them (src/wire/embedded-data.ts).
 */
export type EncodedRecord = Omit<OutboxRecord, 'data'> & { dataCbor: Uint8Array }

export interface StateWrite {
  fn: string
  /** null deletes the function's state. */
  value: unknown
}

export interface NewPublish {
  topic: string
  payload: Uint8Array | string
  qos: 0 | 1 | 2
  retain: boolean
  /** MQTT 5 request/response properties (device/links/request-response.ts), kept with the publish. */
  correlationData?: string
  responseTopic?: string
  /**
   * Where the publish sits in a chain of functions [W9] (the shape of device/links/hops.ts Hop),
   * kept so that a publish re-sent after a restart still counts toward invocation.maxHops.
   */
  hop?: { traceId: string, hop: number }
  /** The function that published it (named in a dead letter if the broker refuses it). */
  fn?: string
}

export interface PendingPublish extends NewPublish {
  id: number
}

export interface MetaWrite {
  key: string
  /** null deletes the key. */
  value: unknown
}

/** Everything one invocation (or one trigger batch) writes; lands in one atomic LevelDB batch. */
export interface CommitUnit {
  records?: NewRecord[]
  state?: StateWrite[]
  publishes?: NewPublish[]
  meta?: MetaWrite[]
}

export interface CommitResult {
  /** One per record, in the order given. A record dropped for quota still got its seq. */
  seqs: number[]
  publishIds: number[]
}

export interface ReadOptions {
  /** Only records with seq > afterSeq. */
  afterSeq?: number
  limit?: number
  kinds?: RecordKind[]
}

export interface KindStats { count: number, bytes: number }

export interface StoreStats {
  count: number
  bytes: number
  byKind: Record<RecordKind, KindStats>
  /** Records dropped to stay under the quota, per kind, since the store was created. */
  dropped: Record<RecordKind, number>
  /** Records purged because their TTL passed, since the store was created. */
  expired: number
  /** Highest seq ever assigned (0 before the first record). */
  lastSeq: number
  /** Highest seq known to be fsynced: a power cut may lose records above it. */
  syncedSeq: number
  /** QoS 1 publishes waiting for their broker's PUBACK, and their encoded bytes. */
  pendingPublishes: number
  /**
   * Pending publishes count against the quota with records: `bytes + publishBytes` stays at
   * or under quotaBytes. When over, publishes are dropped after logs, metrics and emits and
   * before results and dead letters (PUBLISH_DROP_AFTER in quota.ts).
   */
  publishBytes: number
  /** Pending publishes dropped to stay under the quota, since the store was created. */
  droppedPublishes: number
  /** Present while the store is faulted: a write failed and it takes nothing until reopened (src/store-fault.ts). */
  fault?: FaultState
}

/**
 * Time and timers, injected so TTL and the sync interval are tested without sleeping. TTLs
 * count on `monotonic` within one boot (expiry.ts); a clock without it ages on the wall clock.
 */
export interface StoreClock {
  now: () => number
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
  monotonic?: () => number
  bootId?: () => string
}

export function emptyByKind<T> (make: () => T): Record<RecordKind, T> {
  // A literal, not Object.fromEntries over RECORD_KINDS: the ledger makes four per group commit
  // (a microsecond each that way). The type names every kind, so a kind added there fails here.
  return { log: make(), metric: make(), emit: make(), result: make(), 'dead-letter': make() }
}
