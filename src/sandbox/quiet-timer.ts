// A callback run once a thread has been quiet for a while, with at most one timer armed
// whatever the pace of the activity that postpones it. The sandbox worker marks every batch
// it ends: re-arming a timer there (clearTimeout and setTimeout per batch) cost about 4% of
// that thread's busy time in the relay job (docs/performance.md, "The sandbox thread's other
// microseconds").
import type { Clock } from '../clock.js'

export class QuietTimer {
  readonly #clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  readonly #delayMs: number
  readonly #busy: () => boolean
  readonly #fn: () => void
  #lastTouch = 0
  #timer: unknown
  #armed = false

  /**
   * `fn` runs once `delayMs` (ms on `clock.now()`) have passed since the last touch(), unless
   * `busy()` says the thread has work then (the next touch() arms it again). Timers come from
   * `clock`, which should unref them so a pending one keeps no thread alive.
   */
  constructor (clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>, delayMs: number, busy: () => boolean, fn: () => void) {
    this.#clock = clock
    this.#delayMs = delayMs
    this.#busy = busy
    this.#fn = fn
  }

  /** Whether a run is pending. */
  get armed (): boolean {
    return this.#armed
  }

  /** Marks activity: the run moves to `delayMs` from now. Arms a timer only when none is. */
  touch (): void {
    this.#lastTouch = this.#clock.now()
    if (!this.#armed) this.#arm(this.#delayMs)
  }

  /** Drops a pending run. */
  cancel (): void {
    if (this.#armed) this.#clock.clearTimeout(this.#timer)
    this.#armed = false
  }

  #arm (ms: number): void {
    this.#armed = true
    this.#timer = this.#clock.setTimeout(() => this.#due(), ms)
  }

  #due (): void {
    this.#armed = false
    // Touched since this timer was set: wait out the rest of the quiet period.
    const left = this.#lastTouch + this.#delayMs - this.#clock.now()
    if (left > 0) return this.#arm(left)
    if (this.#busy()) return
    this.#fn()
  }
}
