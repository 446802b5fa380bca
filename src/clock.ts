// The time source the agent's and the cloud's parts take (triggers, store, cloud link, rollouts,
// remote invoke): the system clock with unref'd timers. Tests hand them
// test/helpers/fake-clock.ts instead, so schedules, polling, TTL, backoff and rollout timeouts
// run without sleeping. Here in the shared core because device/ and cloud-sync/ both need it.

export interface Clock {
  /** Milliseconds since the epoch (wall clock). */
  now: () => number
  /** Runs fn once after ms; the handle goes to clearTimeout. A returned promise is ignored here. */
  setTimeout: (fn: () => unknown, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
}

/**
 * The real clock. Timers are unref'd so an armed trigger or a pending rollout tick never
 * keeps the process alive: the broker connections and servers decide when it lives.
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => unknown, ms: number): unknown => {
    const t = setTimeout(() => { void fn() }, Math.max(0, ms))
    t.unref()
    return t
  },
  clearTimeout: (handle: unknown): void => {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  }
})
