// When each device was last heard from, on a clock that does not jump (docs/architecture.md,
// "Durability"): a device is stale after three heartbeat intervals of silence, and that age is
// measured on the monotonic clock, so a step of the cloud's wall clock neither marks the whole
// fleet stale nor keeps a dead device "online". The registry keeps lastSeen on the wall
// clock (it outlives this process); a device not heard since this start is aged from the wall
// clock read at start plus monotonic time since (taken again when NTP sets a clock that read
// before 2021 at start: else a device seen before a restart at 1970 stayed online for good).
import { ageClock, steadyNow } from '../src/clock.js'
import type { AgeClock, Clock } from '../src/clock.js'

export class LastSeen {
  readonly #clock: AgeClock
  readonly #heard = new Map<string, number>()
  /** The wall clock read at start plus monotonic time since, re-anchored once NTP sets a clock that read before 2021 (steadyNow). */
  readonly #sinceStart: () => number

  constructor (clock: Pick<Clock, 'now' | 'monotonic' | 'bootId'>) {
    this.#clock = ageClock(clock)
    this.#sinceStart = steadyNow(clock)
  }

  /** Something arrived from the device now. */
  heard (id: string): void {
    this.#heard.set(id, this.#clock.monotonic())
  }

  forget (id: string): void {
    this.#heard.delete(id)
  }

  /**
   * The "now" to age a device's wall-clock lastSeen against: lastSeen plus the monotonic time
   * since it was heard, or, not heard since start, the start's wall clock plus monotonic time.
   */
  nowFor (id: string, lastSeen: number | undefined): number {
    const mono = this.#clock.monotonic()
    const at = this.#heard.get(id)
    if (at !== undefined && lastSeen !== undefined) return lastSeen + (mono - at)
    return this.#sinceStart()
  }
}
