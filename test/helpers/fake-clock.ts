// The one FakeClock: a clock tests move by hand, for every part that takes a Clock (triggers,
// store, cloud link), so nothing in a test sleeps.
import type { Clock } from '../../src/clock.js'

interface FakeTimer { id: number, due: number, seq: number, fn: () => unknown }

function isThenable (v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

/**
 * A clock that moves only when told. Like Node's, its timers run on monotonic time, so
 * `jumpTo` (a wall-clock jump) moves now() without making timers due, nor monotonic().
 * `bootId` names the boot its monotonic() counts from (give two clocks different ones to
 * stand for a reboot).
 *
 * `await advance(ms)` runs due timers in due order (ties in the order they were set),
 * including timers set while advancing. A callback that returns a promise (the triggers
 * return their file or store work) is awaited before the next timer runs, and after every
 * callback pending promise chains get a macrotask turn, so a trigger that re-arms once its
 * handler settles is re-armed before time moves on. Always await it.
 */
export class FakeClock implements Clock {
  #mono = 0
  #offset: number
  #timers: FakeTimer[] = []
  #nextId = 1
  #seq = 0
  readonly #boot: string
  readonly #monoStart: number

  constructor (start = 0, opts: { bootId?: string, monotonic?: number } = {}) {
    this.#offset = start
    this.#boot = opts.bootId ?? 'fake-boot'
    this.#monoStart = opts.monotonic ?? 0
  }

  now (): number {
    return this.#mono + this.#offset
  }

  /** Time since this fake boot, untouched by jumpTo. */
  monotonic (): number {
    return this.#monoStart + this.#mono
  }

  bootId (): string {
    return this.#boot
  }

  setTimeout (fn: () => unknown, ms: number): unknown {
    const id = this.#nextId++
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
    this.#timers.push({ id, due: this.#mono + delay, seq: this.#seq++, fn })
    return id
  }

  clearTimeout (handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle)
  }

  /** Timers armed and not yet run or cleared. */
  pending (): number {
    return this.#timers.length
  }

  /** Milliseconds until the earliest armed timer is due, or undefined if none is armed. */
  nextIn (): number | undefined {
    const t = this.#earliest()
    return t === undefined ? undefined : t.due - this.#mono
  }

  /** Moves time forward by ms, running each timer at its due time. */
  async advance (ms: number): Promise<void> {
    const target = this.#mono + Math.max(0, ms)
    for (;;) {
      const next = this.#earliest()
      if (next === undefined || next.due > target) break
      this.#timers = this.#timers.filter((t) => t !== next)
      this.#mono = Math.max(this.#mono, next.due)
      const r = next.fn()
      if (isThenable(r)) await r
      // Work chained on the callback (a trigger re-arming after its handler settled) runs in
      // microtasks; one macrotask turn lets all of it finish before the next timer.
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    this.#mono = Math.max(this.#mono, target)
  }

  /**
   * The process stopped for ms (SIGSTOP, swapped out): both clocks move on and no timer runs;
   * timers that came due meanwhile run, late, at the next advance().
   */
  stall (ms: number): void {
    this.#mono += Math.max(0, ms)
  }

  /** Sets the wall clock without running timers: a clock jump (NTP, a board without RTC). */
  jumpTo (time: number): void {
    this.#offset = time - this.#mono
  }

  #earliest (): FakeTimer | undefined {
    let best: FakeTimer | undefined
    for (const t of this.#timers) {
      if (best === undefined || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t
    }
    return best
  }
}
