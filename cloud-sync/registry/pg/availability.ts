// Whether the cloud's PostgreSQL database answers (docs/postgres.md, "Faults"). A call that
// finds it unreachable marks it down; from then on the registry shows the fault (storeFault:
// /v1/health answers 503 with LAMBKIN_DB_UNAVAILABLE, status shows it) and a probe on the
// injectable clock asks again, 1 s doubling to 10 s, until it answers: with no traffic at all
// the health check still turns green by itself. Any call that succeeds clears it too.
import { ErrorCodes } from '../../../src/errors.js'
import type { Clock } from '../../../src/clock.js'
import type { FaultState } from '../../../src/store-fault.js'

export interface AvailabilityOptions {
  clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  /** Resolves when the database answers; rejects when it does not. */
  probe: () => Promise<void>
  log: (line: string) => void
  firstMs?: number
  maxMs?: number
}

export class Availability {
  readonly #o: Required<AvailabilityOptions>
  #state: FaultState | undefined
  #timer: unknown
  #closed = false

  constructor (o: AvailabilityOptions) {
    this.#o = { firstMs: 1000, maxMs: 10_000, ...o }
  }

  /** Present while the database is known unreachable. */
  get state (): FaultState | undefined { return this.#state === undefined ? undefined : { ...this.#state } }

  /** A call could not reach the database. */
  down (err: unknown): void {
    const message = (err as Error)?.message ?? String(err)
    if (this.#state !== undefined) { this.#state.message = message; return }
    if (this.#closed) return
    this.#state = { code: ErrorCodes.DB_UNAVAILABLE, message, since: this.#o.clock.now(), attempts: 0 }
    this.#o.log(`${ErrorCodes.DB_UNAVAILABLE}: the cloud's PostgreSQL database cannot be reached (${message}); uploads are not acknowledged (devices keep their records) until it answers, asked again every few seconds`)
    this.#arm()
  }

  /** A call reached the database. */
  up (): void {
    const s = this.#state
    if (s === undefined) return
    this.#state = undefined
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#o.log(`the cloud's PostgreSQL database answers again after ${Math.round((this.#o.clock.now() - s.since) / 1000)} s; uploads are acknowledged again`)
  }

  #arm (): void {
    const s = this.#state
    if (s === undefined || this.#closed || this.#timer !== undefined) return
    const wait = Math.min(this.#o.maxMs, this.#o.firstMs * 2 ** s.attempts)
    this.#timer = this.#o.clock.setTimeout(() => { this.#timer = undefined; void this.#attempt() }, wait)
    ;(this.#timer as { unref?: () => void } | null)?.unref?.()
  }

  async #attempt (): Promise<void> {
    const s = this.#state
    if (s === undefined || this.#closed) return
    s.attempts++
    try {
      await this.#o.probe()
      this.up()
    } catch (err) {
      if (this.#state === undefined) return
      this.#state.message = (err as Error)?.message ?? String(err)
      this.#arm()
    }
  }

  close (): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
