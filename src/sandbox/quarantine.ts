// Keeps a function that keeps faulting (timeouts, memory, stack, crashes: each costs a
// rebuild) out of the sandboxes for a while, doubling the pause while it goes on faulting.
import { ErrorCodes } from '../errors.js'

const FAULTS = new Set<string>([
  ErrorCodes.TIMEOUT,
  ErrorCodes.INSTRUCTION_LIMIT,
  ErrorCodes.MEMORY_LIMIT,
  ErrorCodes.STACK_LIMIT,
  ErrorCodes.SANDBOX_CRASHED
])

export function isFault (code: string): boolean {
  return FAULTS.has(code)
}

export class Quarantine {
  readonly #after: number
  readonly #baseMs: number
  readonly #maxMs: number
  #consecutive = 0
  #until = 0
  /** How many times this function has been put in quarantine. */
  entered = 0

  constructor (after: number, baseMs: number, maxMs: number) {
    this.#after = after
    this.#baseMs = baseMs
    this.#maxMs = maxMs
  }

  /**
   * Milliseconds left in quarantine, or 0. The clock is read only while a quarantine may
   * still run: this is asked on every call.
   */
  remaining (clock: () => number): number {
    if (this.#until === 0) return 0
    const left = this.#until - clock()
    if (left > 0) return left
    this.#until = 0
    return 0
  }

  /** Counts an outcome: undefined for a success, else its error code. */
  record (code: string | undefined, clock: () => number): void {
    if (code === undefined || !isFault(code)) {
      if (code === undefined) this.#consecutive = 0
      return
    }
    this.#consecutive++
    if (this.#consecutive >= this.#after) {
      const n = this.#consecutive - this.#after
      this.#until = clock() + Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(n, 30))
      this.entered++
    }
  }
}
