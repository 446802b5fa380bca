// A hand-driven clock for the store's TTL and sync timer, so tests and the abstract suite
// never sleep. Not exported from index.ts: only tests use it.
import type { StoreClock } from '../../../device/store/types.js'

export class FakeClock implements StoreClock {
  #t: number
  #next = 1
  readonly #timers = new Map<number, { at: number, fn: () => void }>()

  constructor (start = 1_700_000_000_000) { this.#t = start }

  readonly now = (): number => this.#t
  readonly setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#next++
    this.#timers.set(id, { at: this.#t + ms, fn })
    return id
  }

  readonly clearTimeout = (h: unknown): void => { this.#timers.delete(h as number) }

  get pending (): number { return this.#timers.size }

  /** Moves time forward, firing due timers in order (including ones they schedule). */
  advance (ms: number): void {
    const end = this.#t + ms
    for (;;) {
      let due: [number, { at: number, fn: () => void }] | undefined
      for (const e of this.#timers) if (e[1].at <= end && (due === undefined || e[1].at < due[1].at)) due = e
      if (due === undefined) break
      this.#timers.delete(due[0])
      this.#t = Math.max(this.#t, due[1].at)
      due[1].fn()
    }
    this.#t = end
  }
}
