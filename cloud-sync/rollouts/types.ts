// The rollout engine's inputs: requests as the operator API takes them (docs/cloud.md, "The operator API") and
// its defaults. Its clock is src/clock.ts's, the one the agent takes too.
import type { RolloutRow } from '../registry/index.js'

/** `POST /v1/rollouts`: deploy the bundle `sha256` to a device or `group:<name>`. */
export interface DeployRequest {
  sha256: string
  to: string
  alias?: 'live' | 'canary'
  /** Percent of invocations the canary takes, 1-99 (canary only). */
  weight?: number
  /** Devices sent per minute; absent: all at once. */
  ratePerMin?: number
  /** Stop when failed + rolled-back reach this percent of the targets (100: never). */
  abortAtPercent?: number
  /** How long a connected device has to report, ms. */
  timeoutMs?: number
}

/** `POST /v1/rollbacks`: each target goes back to the version it ran before its current one. */
export interface RollbackRequest { fn: string, to: string, timeoutMs?: number }

export const ROLLOUT_DEFAULTS = Object.freeze({
  timeoutMs: 120_000,
  abortAtPercent: 100,
  /** How often the engine checks timeouts and releases paced devices while anything is sent or pending, ms. */
  tickMs: 1000,
  /**
   * How long a finished (done or cancelled) rollout keeps watching its applied devices at least,
   * ms: a device's health gate (deploy.healthWindowMs, 30 s by default) may roll one back after
   * it reported applied. A device still `watching` holds the watch open past this until its
   * report ends the window (health passed, or rolled-back), however long its window is, as a
   * sent or offline device holds it until it reports (engine.ts #step, pace.ts dueAt).
   */
  watchMs: 10 * 60_000,
  /**
   * The slowest pace a rollout takes, devices per minute: one a year. Slower, the next device's
   * due time is so far off (Infinity for 1e-320) that it is never released and the rollout
   * never ends.
   */
  minRatePerMin: 1 / (366 * 24 * 60),
  /** The per-device timeout's bounds, ms. */
  minTimeoutMs: 1000,
  maxTimeoutMs: 3_600_000
})

/** What the API shows of a rollout: the stored row without the engine's own fields. */
export type RolloutView = Omit<RolloutRow, 'open' | 'devices'> & { devices: Array<Omit<RolloutRow['devices'][number], 'sentAt'>> }

/** The API's shape of a rollout (drops `open` and each device's `sentAt`). */
export function rolloutView (r: RolloutRow): RolloutView {
  const { open: _open, devices, ...rest } = r
  return { ...rest, devices: devices.map(({ sentAt: _sentAt, ...d }) => d) }
}
