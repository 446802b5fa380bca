// The one timer that tries a transiently failed deployment again (transient.ts) on the
// injectable clock: deploy.retryMs after the first failure, doubling per try up to
// RETRY_MAX_FACTOR times. A newer deployment id starts the backoff over; nothing per function.
import type { Clock } from '../../src/clock.js'
import { retryDelayMs } from './transient.js'

export class RetryTimer {
  readonly #clock: Clock
  readonly #retryMs: number
  #timer: unknown
  #deploymentId = 0
  #attempt = 0

  constructor (clock: Clock, retryMs: number) {
    this.#clock = clock
    this.#retryMs = retryMs
  }

  /** Tries of the current deployment so far (0: none scheduled). */
  get attempt (): number { return this.#attempt }

  /** Arms the timer to call `run` for deployment `id` after its backoff; returns the wait, ms. */
  schedule (id: number, run: () => void): number {
    this.cancel()
    if (id !== this.#deploymentId) { this.#deploymentId = id; this.#attempt = 0 }
    this.#attempt++
    const ms = retryDelayMs(this.#retryMs, this.#attempt)
    this.#timer = this.#clock.setTimeout(() => { this.#timer = undefined; run() }, ms)
    return ms
  }

  /** Nothing to try again (applied, or replaced by a newer deployment): the backoff starts over. */
  reset (): void {
    this.cancel()
    this.#deploymentId = 0
    this.#attempt = 0
  }

  cancel (): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
