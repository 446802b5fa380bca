// The records table's partitions (docs/postgres.md, "Partitions and retention"): one per UTC
// day a record arrived, named records_YYYY_MM_DD, made ahead (today and tomorrow, at start and
// hourly on the injectable clock) and on demand for a day not made yet; and retention, which
// drops whole partitions once every record in them is older than `retentionDays` (0: never).
// Dropping a partition is one catalog change, not a delete of its rows: no bloat, no vacuum.
// PostgreSQL's own declarative partitioning, as TimescaleDB is not packaged here.
import type { Clock } from '../../../src/clock.js'
import type { PgDb } from './db.js'
import { LOCKS } from './locks.js'
import { errorMessage } from '../../../src/errors.js'

export const DAY_MS = 86_400_000
/** How often partitions are made ahead and old ones dropped, ms. */
export const MAINTAIN_EVERY_MS = 3_600_000
/** Days made ahead of today. */
export const AHEAD_DAYS = 1

/** The UTC day number (days since the epoch) of a time in ms. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS)

/** records_YYYY_MM_DD for a day number. */
export function partitionName (day: number): string {
  return `records_${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '_')}`
}

const NAME = /^records_(\d{4})_(\d{2})_(\d{2})$/

/** The day a partition name stands for, or undefined for a name that is not one of ours. */
export function dayOfName (name: string): number | undefined {
  const m = NAME.exec(name)
  return m === null ? undefined : dayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
}

export interface PartitionOptions {
  clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  /** Days records are kept at least (they go at most a day later); 0 keeps them for ever. */
  retentionDays: number
  log: (line: string) => void
}

export class Partitions {
  readonly #db: PgDb
  readonly #o: PartitionOptions
  /** Days known to have a partition (made here or seen); a dropped one is forgotten. */
  readonly #known = new Set<number>()
  #timer: unknown
  #closed = false

  constructor (db: PgDb, o: PartitionOptions) {
    this.#db = db
    this.#o = o
  }

  /** Makes the partition for `day` unless known to exist. */
  async ensure (day: number): Promise<void> {
    if (this.#known.has(day)) return
    // Under a lock, so two instances making the same day do not race in the catalog; bounded,
    // as making a partition waits for the transactions writing records at that moment.
    await this.#db.tx('making a records partition', async (c) => {
      await c.query("SET LOCAL lock_timeout = '10s'")
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.partitions.toString()])
      await c.query(`CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF records FOR VALUES FROM (${day}) TO (${day + 1})`)
    })
    this.#known.add(day)
  }

  /** A write found no partition for its day (another instance dropped it): make it again. */
  forget (day: number): void {
    this.#known.delete(day)
  }

  /** The partitions there are, by day. */
  async list (): Promise<number[]> {
    const rows = await this.#db.query<{ name: string }>('listing records partitions', "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'records'::regclass")
    return rows.map((r) => dayOfName(r.name)).filter((d): d is number => d !== undefined).sort((a, b) => a - b)
  }

  /** Makes today's and the next days' partitions and drops the ones past retention; returns the days dropped. */
  async maintain (): Promise<number[]> {
    const today = dayOf(this.#o.clock.now())
    for (let d = today; d <= today + AHEAD_DAYS; d++) await this.ensure(d)
    const days = await this.list()
    for (const d of days) this.#known.add(d)
    if (this.#o.retentionDays <= 0) return []
    // A partition goes when its last moment is older than the retention: day d holds [d, d + 1).
    const cutoff = dayOf(this.#o.clock.now() - this.#o.retentionDays * DAY_MS)
    const dropped: number[] = []
    for (const d of days) {
      if (d >= cutoff) continue
      await this.#db.tx('dropping an old records partition', async (c) => {
        await c.query("SET LOCAL lock_timeout = '10s'")
        await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.partitions.toString()])
        await c.query(`DROP TABLE IF EXISTS ${partitionName(d)}`)
      })
      this.#known.delete(d)
      dropped.push(d)
    }
    if (dropped.length > 0) this.#o.log(`retention (${this.#o.retentionDays} days): dropped the records of ${dropped.length} day${dropped.length === 1 ? '' : 's'} (${partitionName(dropped[0])}${dropped.length > 1 ? ` to ${partitionName(dropped[dropped.length - 1])}` : ''})`)
    return dropped
  }

  /** Maintains now, then every MAINTAIN_EVERY_MS on the clock; a failed round is logged and tried at the next. */
  async start (): Promise<void> {
    await this.maintain()
    this.#arm()
  }

  #arm (): void {
    if (this.#closed) return
    this.#timer = this.#o.clock.setTimeout(async () => {
      try {
        await this.maintain()
      } catch (err) {
        this.#o.log(`records partitions not maintained this hour: ${errorMessage(err)}`)
      }
      this.#arm()
    }, MAINTAIN_EVERY_MS)
    ;(this.#timer as { unref?: () => void } | null)?.unref?.()
  }

  close (): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
  }
}
