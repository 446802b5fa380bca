// The store's in-memory books: bytes and counts per kind, seq and publish-id high-water marks,
// drop/expiry counters and quota scan cursors. A write works on a copy and swaps it in on
// success, so a failed batch leaves the books as they were.
import { RECORD_KINDS, emptyByKind } from './types.js'
import type { KindStats, RecordKind } from './types.js'

/** The part persisted with every batch, so seqs never repeat and counters survive restarts. */
export interface PersistedCounters {
  lastSeq: number
  lastPublishId: number
  dropped: Record<RecordKind, number>
  expired: number
  /** QoS 1 publishes dropped to stay under the quota (they never reached their broker). */
  droppedPublishes: number
  /**
   * The rest of the books as of this batch, so an open need not rebuild them from every key
   * (level-open.ts loadLedger). Written in the same atomic batch as the keys it counts; absent
   * in stores written before it existed.
   */
  books?: LedgerBooks
}

/** Per-kind totals, pending publishes and scan cursors: what a keys scan would rebuild. */
export interface LedgerBooks {
  tally: Record<RecordKind, KindStats>
  cursor: Record<RecordKind, number>
  publishes: KindStats
  publishCursor: number
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0
const isStats = (v: unknown): v is KindStats => v !== null && typeof v === 'object' && isCount((v as KindStats).count) && isCount((v as KindStats).bytes)

export class Ledger {
  tally: Record<RecordKind, KindStats> = emptyByKind(() => ({ count: 0, bytes: 0 }))
  lastSeq = 0
  lastPublishId = 0
  dropped: Record<RecordKind, number> = emptyByKind(() => 0)
  expired = 0
  /** Publishes waiting for their broker's PUBACK: they count against the quota too. */
  publishes: KindStats = { count: 0, bytes: 0 }
  droppedPublishes = 0
  /** The lowest publish id that may still be stored (quota scans start here). */
  publishCursor = 1
  /** Per kind, the lowest seq that may still hold a record of that kind (quota scans start here). */
  cursor: Record<RecordKind, number> = emptyByKind(() => 1)
  /**
   * Records taken off the books one by one (remove()) in this process: a read-run (read-run.ts)
   * stands for the store's keys only while this has not moved. Not persisted.
   */
  removals = 0

  clone (): Ledger {
    const c = new Ledger()
    for (const k of RECORD_KINDS) c.tally[k] = { ...this.tally[k] }
    c.lastSeq = this.lastSeq
    c.lastPublishId = this.lastPublishId
    c.dropped = { ...this.dropped }
    c.expired = this.expired
    c.publishes = { ...this.publishes }
    c.droppedPublishes = this.droppedPublishes
    c.publishCursor = this.publishCursor
    c.cursor = { ...this.cursor }
    c.removals = this.removals
    return c
  }

  add (kind: RecordKind, bytes: number): void {
    this.tally[kind].count++
    this.tally[kind].bytes += bytes
  }

  remove (kind: RecordKind, bytes: number): void {
    this.tally[kind].count--
    this.tally[kind].bytes -= bytes
    this.removals++
  }

  /**
   * remove() for a key an ack walks (level-plan.ts countOff), leaving `removals` alone: an ack
   * takes off every key up to its seq and moves the cursors past them, so no later ack asks a
   * read run for those keys, and the run's entries above them still stand. Counting it as a
   * removal made every read under way useless to its own ack, which then walked its keys too.
   */
  removeAcked (kind: RecordKind, bytes: number): void {
    this.tally[kind].count--
    this.tally[kind].bytes -= bytes
  }

  /** Bytes of records (what `stats().bytes` reports). */
  totalBytes (): number {
    let n = 0
    for (const k of RECORD_KINDS) n += this.tally[k].bytes
    return n
  }

  /** What the quota counts: records and pending publishes. */
  quotaBytes (): number {
    return this.totalBytes() + this.publishes.bytes
  }

  totalCount (): number {
    let n = 0
    for (const k of RECORD_KINDS) n += this.tally[k].count
    return n
  }

  counters (): PersistedCounters {
    return {
      lastSeq: this.lastSeq,
      lastPublishId: this.lastPublishId,
      dropped: { ...this.dropped },
      expired: this.expired,
      droppedPublishes: this.droppedPublishes,
      books: { tally: this.tally, cursor: this.cursor, publishes: this.publishes, publishCursor: this.publishCursor }
    }
  }

  /**
   * Takes the books persisted with the counters; false (nothing taken) when they are absent or
   * not well formed, and the caller rebuilds them from the keys.
   */
  restoreBooks (b: unknown): boolean {
    if (b === null || typeof b !== 'object') return false
    const books = b as Partial<LedgerBooks>
    if (!isStats(books.publishes) || !isCount(books.publishCursor) || books.tally === undefined || books.cursor === undefined) return false
    for (const k of RECORD_KINDS) {
      if (!isStats(books.tally[k]) || !isCount(books.cursor[k])) return false
    }
    this.tally = emptyByKind(() => ({ count: 0, bytes: 0 }))
    for (const k of RECORD_KINDS) {
      this.tally[k] = { count: books.tally[k].count, bytes: books.tally[k].bytes }
      this.cursor[k] = books.cursor[k]
    }
    this.publishes = { count: books.publishes.count, bytes: books.publishes.bytes }
    this.publishCursor = books.publishCursor
    return true
  }

  /** Takes persisted counters, tolerating missing fields from an older or empty store. */
  restore (c: Partial<PersistedCounters> | undefined): void {
    if (c === undefined || c === null || typeof c !== 'object') return
    if (Number.isSafeInteger(c.lastSeq)) this.lastSeq = c.lastSeq as number
    if (Number.isSafeInteger(c.lastPublishId)) this.lastPublishId = c.lastPublishId as number
    if (Number.isSafeInteger(c.expired)) this.expired = c.expired as number
    if (Number.isSafeInteger(c.droppedPublishes)) this.droppedPublishes = c.droppedPublishes as number
    for (const k of RECORD_KINDS) {
      const n = c.dropped?.[k]
      if (Number.isSafeInteger(n)) this.dropped[k] = n as number
    }
  }
}
