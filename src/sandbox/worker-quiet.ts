// What a sandbox thread (worker.ts) does with its quiet moments. A load builds one instance to
// check the module; unless `provisioned` keeps it warm, it waits here for the function's first
// call (most often right behind the load), so that call does not build a second one and the
// first is not left to V8 as a dropped memory. One not claimed is dropped by the next load, or
// at the thread's next quiet second (CHECK_KEEP_MS at most), and the full GC that follows
// loads, unloads and such drops gives the memories back (docs/performance.md, "The cold
// start").
import { performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Quiet (ms) after loads, unloads or dropped checks before the thread's full GC. */
export const COLLECT_DELAY_MS = 1000
/**
 * How long at most a load's check instance waits for its function's first call (ms), even
 * while calls to other functions keep the thread from ever being quiet for COLLECT_DELAY_MS.
 */
export const CHECK_KEEP_MS = 2000
/**
 * Checks kept at most per thread: the latest load's, for the first call right behind it. A
 * deploy of 50 functions that kept the last 8 left the V8 heaps 2-5 MiB larger at idle (their
 * objects outlived scavenges and were promoted, and the old space kept its pages after the
 * GC); with one, idle is where it was (docs/performance.md, "The cold start").
 */
export const MAX_CHECKS = 1

/** What is kept: an instance that can be freed. */
export interface Droppable {
  dispose: () => void
}

let collectGarbage: (() => void) | undefined

/**
 * V8's gc(): the thread's own when Node runs with --expose-gc (the flag is then left alone),
 * else the flag is set for one new context only, then unset.
 */
function fullGc (): void {
  collectGarbage ??= (globalThis as { gc?: () => void }).gc
  if (collectGarbage === undefined) {
    setFlagsFromString('--expose-gc')
    try {
      collectGarbage = runInNewContext('gc') as () => void
    } finally {
      setFlagsFromString('--no-expose-gc')
    }
  }
  collectGarbage()
}

/**
 * The check instances kept per function (key: the thread's record of a loaded function) and
 * the GC after changes. `busy()` tells whether the thread has work running or waiting.
 */
export class QuietWork<K, I extends Droppable> {
  readonly #busy: () => boolean
  /** Kept checks, oldest first, with when each was kept (performance.now()). */
  readonly #checks = new Map<K, { instance: I, at: number }>()
  #changes = 0
  #collectTimer: NodeJS.Timeout | undefined
  #checkTimer: NodeJS.Timeout | undefined

  constructor (busy: () => boolean) {
    this.#busy = busy
  }

  /** Keeps `instance`, the load's check of `key`, for its first call. */
  keep (key: K, instance: I): void {
    this.#checks.get(key)?.instance.dispose()
    this.#checks.delete(key)
    this.#checks.set(key, { instance, at: performance.now() })
    if (this.#checks.size > MAX_CHECKS) {
      const [oldest, kept] = this.#checks.entries().next().value as [K, { instance: I }]
      this.#checks.delete(oldest)
      kept.instance.dispose()
    }
    this.#armCheckTimer(CHECK_KEEP_MS)
  }

  /** The check kept for `key`, now the caller's (undefined when none is). */
  take (key: K): I | undefined {
    const kept = this.#checks.get(key)
    if (kept === undefined) return undefined
    this.#checks.delete(key)
    return kept.instance
  }

  /** A load or unload happened: the next quiet moment collects. */
  changed (): void {
    this.#changes++
  }

  /**
   * The thread's work ran out: once it stays quiet COLLECT_DELAY_MS after changes, every kept
   * check is dropped and one full GC runs (a few ms once per deploy, never per call).
   */
  settle (): void {
    if (this.#changes === 0) return
    if (this.#collectTimer !== undefined) clearTimeout(this.#collectTimer)
    this.#collectTimer = setTimeout(() => {
      this.#collectTimer = undefined
      if (this.#busy()) return
      this.#changes = 0
      this.#drop(0)
      try {
        fullGc()
      } catch {
        // A Node without the flag: the memories go at V8's own next collection.
      }
    }, COLLECT_DELAY_MS)
    this.#collectTimer.unref()
  }

  #armCheckTimer (ms: number): void {
    if (this.#checkTimer !== undefined) return
    this.#checkTimer = setTimeout(() => {
      this.#checkTimer = undefined
      if (this.#drop(CHECK_KEEP_MS) > 0) {
        this.#changes++
        // While the thread works, its own end of work settles.
        if (!this.#busy()) this.settle()
      }
    }, ms)
    this.#checkTimer.unref()
  }

  /** Drops the checks kept `olderThanMs` ago or earlier (0: all); re-arms for the rest. */
  #drop (olderThanMs: number): number {
    const t = performance.now()
    let dropped = 0
    for (const [key, kept] of this.#checks) {
      const left = kept.at + olderThanMs - t
      if (left > 0) {
        this.#armCheckTimer(left + 1)
        break
      }
      this.#checks.delete(key)
      kept.instance.dispose()
      dropped++
    }
    return dropped
  }
}
