// Notices when this board's cloud session keeps being taken over. Two boards on one id (a
// cloned card: same id, secret and often data folder) throw each other off: the broker ends the
// older connection whenever the other connects (MQTT-3.1.4-2), and under MQTT 3.1.1 it says
// nothing but closing the socket. So a connection the cloud closes soon after it was made, again
// and again, is the sign; one such close is a blip and says nothing.

export interface TakeoverWatchOptions {
  /** A connection that lasted less than this before the cloud closed it counts, ms. */
  shortMs: number
  /** This many counted closes within `windowMs` make the pattern. */
  closes: number
  windowMs: number
  /** Once said, said again at most this often, ms. */
  repeatMs: number
}

export const TAKEOVER_DEFAULTS: Readonly<TakeoverWatchOptions> = Object.freeze({ shortMs: 30_000, closes: 3, windowMs: 120_000, repeatMs: 600_000 })

export class TakeoverWatch {
  readonly #o: TakeoverWatchOptions
  #connectedAt: number | undefined
  /** When the counted closes happened, oldest first, within the window. */
  #closes: number[] = []
  #saidAt = -Infinity
  /** Counted closes since start (what `counters.takeovers` reports). */
  count = 0

  constructor (o: Partial<TakeoverWatchOptions> = {}) {
    this.#o = { ...TAKEOVER_DEFAULTS, ...o }
  }

  /** True while the window holds the pattern: the link then stops logging every connect and close. */
  flapping (at: number): boolean {
    return this.#closes.filter((t) => at - t < this.#o.windowMs).length >= this.#o.closes
  }

  connected (at: number): void {
    this.#connectedAt = at
  }

  /**
   * The cloud closed a connection that was up. Returns how many counted closes the window now
   * holds when that makes the pattern and it was not said lately; else undefined.
   */
  closed (at: number): number | undefined {
    const since = this.#connectedAt
    this.#connectedAt = undefined
    if (since === undefined || at - since >= this.#o.shortMs) return undefined
    this.count++
    this.#closes = this.#closes.filter((t) => at - t < this.#o.windowMs)
    this.#closes.push(at)
    if (this.#closes.length < this.#o.closes || at - this.#saidAt < this.#o.repeatMs) return undefined
    this.#saidAt = at
    return this.#closes.length
  }
}
