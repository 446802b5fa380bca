// The shapes a sensor trigger takes and hands out (docs/architecture.md, "Triggers").
import type { LambkinError } from '../../../src/errors.js'
import type { Clock } from '../../../src/clock.js'
import type { TriggerCounters } from '../counters.js'

export interface SimSpec {
  /** Range of the simulated quantity before `scale`; defaults 15 and 35. */
  min?: number
  max?: number
  /** sim:sine period; default 60000. */
  periodMs?: number
  /** sim:random-walk largest step per reading; default 0.5. */
  step?: number
  /** sim:random-walk seed, for a walk that repeats run to run. */
  seed?: number
}

/** A manifest's sensor trigger (see src/function/manifest.ts). */
export interface SensorSpec {
  sensor: string
  /** A sysfs-style file, or `sim:sine` / `sim:random-walk`. */
  path: string
  /** Poll interval; default 1000. */
  everyMs?: number
  /** Multiplies the reading (thermal zones give millidegrees: 0.001); default 1. */
  scale?: number
  /** Fire only when the value moved at least this far from the last fired value; default 0 (any change). */
  deadband?: number
  /** 'auto' reads `w1_slave` files as 1-Wire and anything else as a number; default 'auto'. */
  format?: 'auto' | 'number' | 'w1'
  sim?: SimSpec
  /**
   * The plausible range of `value` (after all scaling), bounds included: a reading outside
   * it is dropped and counted (reason "out_of_range"). Either bound may be left out.
   */
  valid?: { min?: number, max?: number }
}

export interface SensorEvent {
  source: 'sensor'
  sensor: string
  /** When the reading was taken (clock ms). */
  time: number
  /** The reading after IIO scale/offset and `scale`, rounded to 12 significant digits. */
  value: number
  /** The number as found in the file (or as simulated), before any scaling. */
  raw: number
}

export type ReadFile = (path: string) => Promise<string>

export interface SensorTriggerOptions {
  clock?: Clock
  /** Called for each fired reading; a returned promise holds the next poll until it settles. */
  onEvent: (event: SensorEvent) => Promise<void> | void
  /**
   * LAMBKIN_SENSOR_UNAVAILABLE (failed reads at most once a minute; dropped readings once per
   * streak), and handler failures.
   */
  onError?: (err: LambkinError) => void
  /** Random source for sim:random-walk when the spec has no seed; default Math.random. */
  random?: () => number
  /** Reads a file as text; default fs.promises.readFile(path, 'utf8'). */
  readFile?: ReadFile
  /** Counts readings dropped in `lambkin_sensor_readings_dropped_total`; default none. */
  metrics?: TriggerCounters
  /** The `function` label of those counts; default the sensor's name. */
  functionName?: string
}

export interface SensorStats {
  /** Successful readings. */
  reads: number
  /** Readings passed to onEvent. */
  fired: number
  /** Failed reads: the sensor is unavailable (missing or unreadable file, bad contents). */
  errors: number
  /** Failed reads since the last good one; drives the backoff. */
  consecutiveErrors: number
  /** Readings dropped as not a reading (1-Wire CRC, power-on value, sentinels) or outside `valid`. */
  dropped: number
}
