// Takeovers: a device connecting with an id whose connection is still open (MQTT-3.1.4-2: the
// broker closes the older one). Once is a board coming back over a half-open link; again and
// again is two boards on one id (a cloned card), kicking each other off. Each is counted on the
// device row (the operator views show them) and logged at most once a minute per device.
//
// The window they are counted in is an interval, so their times are taken on takeovers.now():
// the wall clock read at start plus the monotonic time since (as the rollout engine's), and
// the views count against the same. A step of the cloud's wall clock then neither keeps the
// warning for hours nor drops it at once; times stored by an earlier start are compared as
// wall-clock times, the best there is across processes. A wall clock that read before 2021 at
// start was never set: NTP setting it re-anchors (src/clock.ts, steadyNow).
import { steadyNow } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import type { Registry } from '../registry/index.js'
import { TAKEOVER_WINDOW_MS, recentTakeovers } from '../api/views.js'

export interface TakeoverOptions {
  registry: Registry
  /** Its monotonic() (when it has one) times the window; a bare { now } counts on the wall clock. */
  clock: Pick<Clock, 'now' | 'monotonic' | 'bootId'>
  log: (line: string) => void
}

export class Takeovers {
  /** Takeovers since start, all devices (the cloud's stats). */
  count = 0
  readonly #o: TakeoverOptions
  readonly #loggedAt = new Map<string, number>()

  /** Takeover time, ms: the wall clock at start plus the monotonic time since (see the top). */
  readonly now: () => number

  constructor (o: TakeoverOptions) {
    this.#o = o
    this.now = steadyNow(o.clock)
  }

  /** A connection for `id` authenticated while another for it is open. */
  note (id: string): void {
    this.count++
    const now = this.now()
    void (async () => {
      await this.#o.registry.noteTakeover(id, now)
      if ((this.#loggedAt.get(id) ?? -Infinity) + 60_000 > now) return
      this.#loggedAt.set(id, now)
      const row = await this.#o.registry.getDevice(id)
      const n = row === undefined ? 1 : recentTakeovers(row, now)
      this.#o.log(n > 1
        ? `device ${id}: a new connection took over the open one, ${n} times in ${TAKEOVER_WINDOW_MS / 60_000} min: two clients share this id (a cloned card?); give each board its own id (lambkin devices add <new-id>, then a new config)`
        : `device ${id}: a new connection took over the open one (a board back over a half-open link, or a second client with this id)`)
    })().catch((err: Error) => { this.#o.log(`device ${id}: a takeover was not counted: ${err.message}`) })
  }
}
