// Device ages from the database's clock (docs/postgres.md, "Stale devices"): every write that
// hears a device sets heard_at = clock_timestamp() on the PostgreSQL server, and every device
// read returns its age on that same clock. So each instance computes online / stale / offline
// the same way whatever its own wall clock says, and whichever instance took the heartbeat.
// The API's views stay as they are: nowFor() hands them the "now" that makes
// `now - lastSeen` equal that age (api/server.ts, the LastSeen shape of cloud-sync/last-seen.ts).
import { ageClock } from '../../../src/clock.js'
import type { AgeClock, Clock } from '../../../src/clock.js'

export class DbLastSeen {
  readonly #clock: AgeClock
  /** id -> its age on the database's clock when read, and this process's monotonic time then. */
  readonly #ages = new Map<string, { age: number, at: number }>()

  constructor (clock: Pick<Clock, 'now' | 'monotonic' | 'bootId'>) {
    this.#clock = ageClock(clock)
  }

  /** A device row was read with its age (null: never heard). */
  read (id: string, ageMs: number | null): void {
    if (ageMs === null) this.#ages.delete(id)
    else this.#ages.set(id, { age: Math.max(0, ageMs), at: this.#clock.monotonic() })
  }

  /** The database has the time: nothing to keep here. */
  heard (_id: string): void {}

  forget (id: string): void {
    this.#ages.delete(id)
  }

  /** lastSeen plus its age on the database's clock (plus the time since the row was read), or this instance's now. */
  nowFor (id: string, lastSeen: number | undefined): number {
    const a = this.#ages.get(id)
    if (a === undefined || lastSeen === undefined) return this.#clock.now()
    return lastSeen + a.age + (this.#clock.monotonic() - a.at)
  }
}
