// How much the cloud link may upload now: a token bucket for `cloud.uploadBytesPerSec` and a
// per-UTC-day byte cap for metered links (`cloud.dailyUploadBytes`). Over either, records wait
// in the outbox; nothing is dropped here.
import { CLOCK_SET_FLOOR } from '../../src/clock.js'

export interface BudgetOptions {
  /** 0: no bandwidth limit. */
  bytesPerSec: number
  /** 0: no daily cap. */
  dailyBytes: number
  /** The wall clock, ms: which UTC day it is. */
  now: () => number
  /**
   * A clock that never jumps, ms (Clock.monotonic; default now): what refills the bucket, so a
   * wall clock stepped back by hours does not hold uploads for as long.
   */
  elapsed?: () => number
  /** Bytes already sent today when the agent started (kept in the store's meta). */
  today?: { day: string, bytes: number }
}

/** The UTC calendar day of `ms`, as YYYY-MM-DD. */
export function utcDay (ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

export class UploadBudget {
  readonly #o: BudgetOptions
  #tokens: number
  #refilledAt: number
  #day: string
  #sentToday: number

  constructor (o: BudgetOptions) {
    this.#o = o
    this.#tokens = o.bytesPerSec
    this.#refilledAt = this.#elapsed()
    this.#day = utcDay(o.now())
    this.#sentToday = o.today?.day === this.#day ? o.today.bytes : 0
  }

  get sentToday (): number { this.#rollDay(); return this.#sentToday }
  get day (): string { this.#rollDay(); return this.#day }

  /**
   * Bytes today's cap still takes (Infinity without a cap). The uploader cuts a batch to this,
   * so a backlog larger than a whole day's cap goes a day's worth at a time.
   */
  dailyRoom (): number {
    this.#rollDay()
    return this.#o.dailyBytes > 0 ? Math.max(0, this.#o.dailyBytes - this.#sentToday) : Infinity
  }

  /**
   * Ms to wait before `bytes` may go: 0 when it may go now, else the time until the next UTC
   * day while today's cap cannot take them. A batch larger than one second's worth waits for a
   * full bucket and then goes, so a large batch is slowed, never stuck; likewise one larger
   * than a whole day's cap (a single record) goes first thing in a day, alone, rather than
   * holding everything behind it for ever.
   */
  waitMs (bytes: number): number {
    this.#rollDay()
    const now = this.#o.now()
    if (this.#o.dailyBytes > 0 && this.#sentToday + bytes > this.#o.dailyBytes && this.#sentToday > 0) {
      return Date.parse(`${this.#day}T00:00:00Z`) + 86_400_000 - now
    }
    if (this.#o.bytesPerSec <= 0) return 0
    const at = this.#elapsed()
    this.#tokens = Math.min(this.#o.bytesPerSec, this.#tokens + (Math.max(0, at - this.#refilledAt) / 1000) * this.#o.bytesPerSec)
    this.#refilledAt = at
    const need = Math.min(bytes, this.#o.bytesPerSec)
    return this.#tokens >= need ? 0 : Math.ceil(((need - this.#tokens) / this.#o.bytesPerSec) * 1000)
  }

  /** Records bytes sent. */
  spend (bytes: number): void {
    this.#rollDay()
    this.#sentToday += bytes
    if (this.#o.bytesPerSec > 0) this.#tokens -= bytes
  }

  #elapsed (): number { return (this.#o.elapsed ?? this.#o.now)() }

  /**
   * A new UTC day starts at 0 bytes. Leaving a day before 2021 is NTP setting a clock that was
   * never set (a board without an RTC starts at 1970): what went meanwhile counts on the day it
   * set, with what the store kept for that day, else a reboot took up to two more days' caps.
   */
  #rollDay (): void {
    const d = utcDay(this.#o.now())
    if (d === this.#day) return
    const unset = Date.parse(`${this.#day}T00:00:00Z`) < CLOCK_SET_FLOOR
    this.#sentToday = unset ? this.#sentToday + (this.#o.today?.day === d ? this.#o.today.bytes : 0) : 0
    this.#day = d
  }
}
