// The invoker's admission (invoker.ts): slots for calls running in the sandboxes, a cap on
// outcomes waiting for their commit, the callers waiting for a slot, and the count of calls in
// flight that drain() waits on.

/**
 * Outcomes waiting for their commit at once; past this, no new invocation starts until the
 * store catches up (a stalled disk then throttles triggers instead of filling memory).
 */
export const MAX_COMMITTING = 4096

export class Admission {
  readonly #maxConcurrent: number
  readonly #waiting: Array<() => void> = []
  #running = 0
  #committing = 0
  #inflight = 0
  #idle: Array<() => void> = []

  /** @param maxConcurrent calls in the sandboxes at once (invocation.maxConcurrent) */
  constructor (maxConcurrent: number) {
    this.#maxConcurrent = maxConcurrent
  }

  /** Calls entered and not yet left: running, waiting for a slot, or committing. */
  get inflight (): number {
    return this.#inflight
  }

  /** No slot is free and `queueDepth` callers already wait: a 'throttle' caller is refused. */
  full (queueDepth: number): boolean {
    return !this.#free() && this.#waiting.length >= queueDepth
  }

  enter (): void {
    this.#inflight++
  }

  leave (): void {
    if (--this.#inflight === 0) for (const done of this.#idle.splice(0)) done()
  }

  /** Takes a slot now if one is free and nobody waits for one; false otherwise (then acquire()). */
  tryAcquire (): boolean {
    if (this.#waiting.length > 0 || !this.#free()) return false
    this.#running++
    return true
  }

  /** Resolves with a slot held, in the order callers asked. */
  acquire (): Promise<void> {
    if (this.#waiting.length === 0 && this.#free()) {
      this.#running++
      return Promise.resolve()
    }
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.#running++
        resolve()
      })
    )
  }

  /** Gives a slot back (the call ended before its commit). */
  release (): void {
    this.#running--
    this.#admit()
  }

  /**
   * The call's sandbox part is over: its slot goes to the next caller while its effects are
   * written. Holding it through the commit would leave the sandboxes idle for a LevelDB round
   * trip per call; outcomes waiting for their commit are capped by MAX_COMMITTING instead.
   */
  toCommit (): void {
    this.#committing++
    this.release()
  }

  /** The commit begun by toCommit() ended (written or failed). */
  committed (): void {
    this.#committing--
    this.#admit()
  }

  /** Resolves true when nothing is in flight, or false after `timeoutMs`. */
  drain (timeoutMs: number): Promise<boolean> {
    if (this.#inflight === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs)
      t.unref()
      this.#idle.push(() => {
        clearTimeout(t)
        resolve(true)
      })
    })
  }

  #free (): boolean {
    return this.#running < this.#maxConcurrent && this.#committing < MAX_COMMITTING
  }

  #admit (): void {
    while (this.#waiting.length > 0 && this.#free()) (this.#waiting.shift() as () => void)()
  }
}
