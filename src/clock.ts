// The time source the agent's and the cloud's parts take (triggers, store, cloud link, rollouts,
// remote invoke): the system clock with unref'd timers. Tests hand them
// test/helpers/fake-clock.ts instead, so schedules, polling, TTL, backoff and rollout timeouts
// run without sleeping. Here in the shared core because device/ and cloud-sync/ both need it.
//
// Two clocks in one (docs/architecture.md, "Durability"): `now()` is the wall clock, which NTP
// may step by years on a board without an RTC; `monotonic()` never jumps, and with `bootId()`
// it says which boot it counts from. Ages and TTLs are measured on the monotonic one.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'

export interface Clock {
  /** Milliseconds since the epoch (wall clock). */
  now: () => number
  /** Runs fn once after ms; the handle goes to clearTimeout. A returned promise is ignored here. */
  setTimeout: (fn: () => unknown, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
  /**
   * Milliseconds on a clock that never jumps: CLOCK_MONOTONIC, counted from the boot and the
   * same in every process of that boot. Absent on a clock that has none (ageClock() then uses now()).
   */
  monotonic?: () => number
  /** Which boot monotonic() counts from: differs after a reboot, the same for every process of one boot. */
  bootId?: () => string
}

/** Where Linux says which boot this is (a random UUID made at each boot). */
export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id'

let bootIdCache: string | undefined
/**
 * This boot's id, read once. Without /proc (not Linux), a random id per process: monotonic
 * times of another process then count as another boot's, which is the safe side.
 */
export function systemBootId (): string {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync(BOOT_ID_PATH, 'utf8').trim()
    } catch {
      bootIdCache = ''
    }
    if (bootIdCache === '') bootIdCache = `process-${randomUUID()}`
  }
  return bootIdCache
}

/**
 * The longest wait Node's setTimeout holds (2^31-1 ms, 24.8 days); past it Node fires after
 * 1 ms with a TimeoutOverflowWarning.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The real clock. Timers are unref'd so an armed trigger or a pending rollout tick never
 * keeps the process alive: the broker connections and servers decide when it lives.
 * A wait past MAX_TIMER_MS (a rollout paced at one device a month) fires at MAX_TIMER_MS,
 * early: the callers with such waits (the rollout engine) look again at what is due then.
 * process.hrtime is CLOCK_MONOTONIC on Linux: since boot, not stepped by NTP.
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => unknown, ms: number): unknown => {
    const t = setTimeout(() => { void fn() }, Math.min(Math.max(0, ms), MAX_TIMER_MS))
    t.unref()
    return t
  },
  clearTimeout: (handle: unknown): void => {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
  monotonic: (): number => Number(process.hrtime.bigint() / 1_000_000n),
  bootId: systemBootId
})

/** 2021-01-01T00:00:00Z: a wall clock reading before it is a clock that was never set. */
export const CLOCK_SET_FLOOR = Date.UTC(2021, 0, 1)

/** The two parts of a clock that ages are measured with. */
export interface AgeClock {
  now: () => number
  monotonic: () => number
  bootId: () => string
}

/**
 * A clock's age parts. One with no monotonic() (a bare { now } in a test) gets its wall clock
 * under a boot id of its own, so it behaves exactly as before: ages on the wall clock.
 */
export function ageClock (clock: Pick<Clock, 'now' | 'monotonic' | 'bootId'>): AgeClock {
  const now = (): number => clock.now()
  if (clock.monotonic === undefined) return { now, monotonic: now, bootId: () => 'wall-clock' }
  const mono = clock.monotonic.bind(clock)
  // A monotonic clock whose boot is not known counts only within this process.
  const own = `unknown-${randomUUID()}`
  const boot = clock.bootId === undefined ? () => own : clock.bootId.bind(clock)
  return { now, monotonic: mono, bootId: boot }
}

/**
 * Interval time that still reads as a date (ms since the epoch): the wall clock as read when
 * this is made plus the monotonic time since, so a step of the wall clock moves nothing timed
 * with it. A wall clock read before CLOCK_SET_FLOOR was never set (a board without an RTC
 * starts at 1970): the anchor is then taken again at the first read once the wall clock is past
 * the floor (NTP set it). Otherwise times stored by an earlier run would be compared with 1970
 * for the process's life: a rollout's silent device never timed out, takeovers an hour old
 * still recent. Times read before that re-anchor keep the old anchor.
 */
export function steadyNow (clock: Pick<Clock, 'now' | 'monotonic' | 'bootId'>): () => number {
  const c = ageClock(clock)
  let wall = c.now()
  let mono = c.monotonic()
  return () => {
    if (wall < CLOCK_SET_FLOOR) {
      const w = c.now()
      if (w >= CLOCK_SET_FLOOR) [wall, mono] = [w, c.monotonic()]
    }
    return wall + (c.monotonic() - mono)
  }
}
