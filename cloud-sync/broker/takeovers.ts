// Takeovers: a device connecting with an id whose connection is still open (MQTT-3.1.4-2: the
// broker closes the older one). Once is a board coming back over a half-open link; again and
// again is two boards on one id (a cloned card), kicking each other off. Each is counted on the
// device row (the operator views show them) and logged at most once a minute per device.
import type { Registry } from '../registry/index.js'
import { TAKEOVER_WINDOW_MS, recentTakeovers } from '../api/views.js'

export interface TakeoverOptions {
  registry: Registry
  now: () => number
  log: (line: string) => void
}

export class Takeovers {
  /** Takeovers since start, all devices (the cloud's stats). */
  count = 0
  readonly #o: TakeoverOptions
  readonly #loggedAt = new Map<string, number>()

  constructor (o: TakeoverOptions) {
    this.#o = o
  }

  /** A connection for `id` authenticated while another for it is open. */
  note (id: string): void {
    this.count++
    const now = this.#o.now()
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
