// The health gate (docs/architecture.md, "Deployer"): for deploy.healthWindowMs after a swap,
// the new versions' invocations are counted; once deploy.minInvocations have ended, an error
// share above deploy.maxErrorRate fails the gate at once (the deployer rolls back, with or
// without the cloud). A window that ends without failing passes. Errors are the function's
// own: it threw, ran out of time, instructions, memory or stack, crashed its sandbox, or was
// quarantined for that; an agent-wide throttle or shutdown is not the version's fault.
import { ErrorCodes } from '../../src/errors.js'
import type { InvocationRecord } from '../invoke/invoker.js'
import { ageClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'

export interface HealthSettings {
  /** The window after a swap, ms. */
  windowMs: number
  /** Largest share of failed invocations (0..1) the new version may have. */
  maxErrorRate: number
  /** Invocations of the new version that must end before the gate can fail. */
  minInvocations: number
}

/** What the gate saw of one function's window. */
export interface HealthStats { invocations: number, errors: number, timeouts: number, codes: Record<string, number> }

export interface HealthGateOptions {
  clock: Clock
  settings: HealthSettings
  onFail: (fn: string, stats: HealthStats) => void
  onPass: (fn: string, stats: HealthStats) => void
}

/** Outcomes that say nothing about the version itself. */
const NOT_THE_VERSION = new Set<string>([
  ErrorCodes.THROTTLED,
  ErrorCodes.CLOSED,
  ErrorCodes.FUNCTION_NOT_FOUND,
  ErrorCodes.STORE_FULL,
  ErrorCodes.STORE_ERROR,
  ErrorCodes.STORE_FAULT
])
const TIMEOUTS = new Set<string>([ErrorCodes.TIMEOUT])

/** `endsAt`: on the monotonic clock (Clock.monotonic), so what is left is not moved by a step of the wall clock. */
interface Window { versions: Set<string>, stats: HealthStats, timer: unknown, endsAt: number }

export class HealthGate {
  readonly #o: HealthGateOptions
  readonly #windows = new Map<string, Window>()
  readonly #elapsed: () => number

  constructor (o: HealthGateOptions) {
    this.#o = o
    this.#elapsed = ageClock(o.clock).monotonic
  }

  /**
   * Watches `versions` of `fn` until `startedAt + windowMs` (wall ms), with fresh counts.
   * Replaces a window already open for `fn`. (The deployer passes the restart time for a window
   * a restart interrupted, so it runs in full again.)
   */
  watch (fn: string, versions: string[], startedAt: number): void {
    this.stop(fn)
    const left = startedAt + this.#o.settings.windowMs - this.#o.clock.now()
    const w: Window = {
      versions: new Set(versions), stats: { invocations: 0, errors: 0, timeouts: 0, codes: {} }, timer: undefined, endsAt: this.#elapsed() + Math.max(0, left)
    }
    this.#windows.set(fn, w)
    w.timer = this.#o.clock.setTimeout(() => {
      if (this.#windows.get(fn) !== w) return
      this.#windows.delete(fn)
      this.#o.onPass(fn, w.stats)
    }, Math.max(0, left))
  }

  /** True while `fn` has a window open. */
  watching (fn: string): boolean { return this.#windows.has(fn) }

  /** Ms left in `fn`'s open window (what `up/reported` says [W5]), counted on the monotonic clock; undefined when none is open. */
  leftMs (fn: string): number | undefined {
    const w = this.#windows.get(fn)
    return w === undefined ? undefined : Math.max(0, Math.round(w.endsAt - this.#elapsed()))
  }

  /** Counts one ended invocation; fails the gate when the error share is over the threshold. */
  record (rec: InvocationRecord): void {
    const w = this.#windows.get(rec.fn)
    if (w === undefined || rec.version === undefined || !w.versions.has(rec.version)) return
    if (!rec.ok && NOT_THE_VERSION.has(rec.code ?? '')) return
    const s = w.stats
    s.invocations++
    if (!rec.ok) {
      s.errors++
      const code = rec.code ?? ErrorCodes.FUNCTION_ERROR
      if (TIMEOUTS.has(code)) s.timeouts++
      s.codes[code] = (s.codes[code] ?? 0) + 1
    }
    const { minInvocations, maxErrorRate } = this.#o.settings
    if (s.invocations >= minInvocations && s.errors / s.invocations > maxErrorRate) {
      this.stop(rec.fn)
      this.#o.onFail(rec.fn, s)
    }
  }

  stop (fn: string): void {
    const w = this.#windows.get(fn)
    if (w === undefined) return
    this.#o.clock.clearTimeout(w.timer)
    this.#windows.delete(fn)
  }

  close (): void {
    for (const fn of [...this.#windows.keys()]) this.stop(fn)
  }
}

/** The message a failed gate reports, e.g. "4 of 4 invocations failed (LAMBKIN_FUNCTION_ERROR 4) ...". */
export function describeFailure (version: string, stats: HealthStats, settings: HealthSettings): string {
  const codes = Object.entries(stats.codes).map(([c, n]) => `${c} ${n}`).join(', ')
  return `version ${version} failed its health check: ${stats.errors} of ${stats.invocations} invocations failed (${codes}; ${stats.timeouts} timeouts), over the ${settings.maxErrorRate} error rate allowed within ${settings.windowMs} ms of the swap; rolled back`
}
