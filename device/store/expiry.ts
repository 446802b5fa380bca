// When an outbox record's TTL runs out, on a clock that does not jump (docs/architecture.md,
// "Durability"). A board without an RTC logs at 1970 until NTP steps its wall clock forward by
// years; with TTLs on the wall clock every record would then expire at once and be uploaded as
// a gap. So each record carries its expiry twice:
// - `m`, on the monotonic clock of the boot `b` it was written in: within that boot (also in a
//   restarted agent: CLOCK_MONOTONIC is one per boot) it alone decides, and a wall step changes
//   nothing;
// - `x`, on the wall clock: a record from an earlier boot has no other. It is compared with the
//   wall clock as read when the store opened plus monotonic time since, so a step seen while
//   this store is open changes nothing either; the next open reads the wall clock again.
// A record from an earlier boot whose wall expiry is before CLOCK_SET_FLOOR was stamped by a
// clock that had not been set: its age is unknown, so it never expires (it is kept until the
// cloud has it, or the quota drops it).
import { createHash } from 'node:crypto'
import { CLOCK_SET_FLOOR, ageClock } from '../../src/clock.js'
import type { AgeClock } from '../../src/clock.js'
import type { StoredRecord } from './codec.js'
import type { StoreClock } from './types.js'

/** 2021-01-01T00:00:00Z: a wall clock reading before it is a clock that was never set (src/clock.ts). */
export { CLOCK_SET_FLOOR }

/** What a record with a TTL stores of its expiry. */
export type ExpiryStamp = Required<Pick<StoredRecord, 'x' | 'm' | 'b'>>

export class Expiry {
  readonly #clock: AgeClock
  /** The boot this store runs in, as stored in `b` (8 hex digits of its id: 4 bytes per record). */
  readonly #boot: string
  /** The wall clock and the monotonic one when the store opened. */
  readonly #openWall: number
  readonly #openMono: number

  constructor (clock: StoreClock) {
    this.#clock = ageClock(clock)
    this.#boot = bootTag(this.#clock.bootId())
    this.#openWall = this.#clock.now()
    this.#openMono = this.#clock.monotonic()
  }

  /** The expiry of a record committed now with `ttlMs`. */
  stamp (ttlMs: number): ExpiryStamp {
    return { x: this.#clock.now() + ttlMs, m: this.#clock.monotonic() + ttlMs, b: this.#boot }
  }

  /** Whether a stored record's TTL has run out. */
  expired (v: Pick<StoredRecord, 'x' | 'm' | 'b'>): boolean {
    if (v.x === undefined) return false
    const mono = this.#clock.monotonic()
    if (v.b === this.#boot && v.m !== undefined) return mono >= v.m
    if (v.x < CLOCK_SET_FLOOR) return false
    return this.#openWall + (mono - this.#openMono) >= v.x
  }
}

export function bootTag (bootId: string): string {
  return createHash('sha256').update(bootId).digest('hex').slice(0, 8)
}
