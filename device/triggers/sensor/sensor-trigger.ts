// Polls one sensor (a sysfs-style file or a simulation) and fires a callback when the value
// moves past the deadband. One read at a time, the next poll waits for a slow handler, and a
// failing sensor is retried with backoff and reported at most once a minute. Readings that
// are not measurements (non-readings.ts) or fall outside `valid` are dropped, counted and
// reported once per streak, and the next poll comes at the usual interval.
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { counter } from '../counters.js'
import { deliver, report } from '../deliver.js'
import { readFileSample, sensorError } from './file-source.js'
import type { Sample } from './file-source.js'
import { nonReading, NOT_A_READING } from './non-readings.js'
import type { DropReason } from './non-readings.js'
import { resolveSensorOptions, SENSOR_DEFAULTS } from './options.js'
import type { ResolvedSensorOptions } from './options.js'
import { simSource } from './sim-source.js'
import type { SensorEvent, SensorSpec, SensorStats, SensorTriggerOptions } from './types.js'

/** Counts readings that never reached the function, by `reason` (a DropReason). */
export const SENSOR_DROPPED_METRIC = 'lambkin_sensor_readings_dropped_total'

/** Scaling by 0.001 leaves binary noise (23125 * 0.001 = 23.125000000000004); users should not see it. */
const round12 = (v: number): number => Number(v.toPrecision(12))

export class SensorPoller {
  readonly sensor: string
  readonly #o: ResolvedSensorOptions
  readonly #read: (now: number) => Promise<Sample> | Sample
  readonly #stats: SensorStats = { reads: 0, fired: 0, errors: 0, consecutiveErrors: 0, dropped: 0 }
  readonly #count: (labels: Record<string, string>) => void
  /** Bumped by start() and stop(); a poll begun under an older generation ends quietly. */
  #gen = 0
  #running = false
  #timer: unknown
  /** The read in progress, so stop() can wait for it. */
  #cycle: Promise<void> | undefined
  #lastFired: number | undefined
  #lastReportAt: number | undefined
  #suppressed = 0
  /** Raw value of the last accepted reading since start or the last failed read (the 85 °C rule). */
  #lastAcceptedRaw: number | undefined
  /** Set by a failed read; the next accepted reading fires even inside the deadband. */
  #recovering = false
  /** The reason of the drop streak already reported; cleared by an accepted reading. */
  #dropStreak: string | undefined

  constructor (spec: SensorSpec, opts: SensorTriggerOptions) {
    const o = resolveSensorOptions(spec, opts)
    this.#o = o
    this.sensor = o.sensor
    this.#read = o.sim === undefined
      ? async () => await readFileSample({ sensor: o.sensor, path: o.path, format: o.format, readFile: o.readFile })
      : simSource({ ...o.sim, random: o.random })
    this.#count = counter(o.metrics, SENSOR_DROPPED_METRIC, {
      type: 'counter',
      help: 'Sensor readings that did not reach the function: reason "unavailable" = the read failed, "not_a_reading" = a known non-reading (1-Wire CRC or power-on value, driver sentinels, busy device), "out_of_range" = outside the trigger\'s valid range.',
      labelNames: ['function', 'sensor', 'reason']
    })
  }

  /**
   * Arms the first poll (immediately, through the clock). Starting twice does nothing. Async
   * like ScheduleRunner.start, so the agent starts every trigger the same way.
   */
  async start (): Promise<void> {
    if (this.#running) return
    this.#running = true
    this.#lastFired = undefined
    this.#lastAcceptedRaw = undefined
    this.#dropStreak = undefined
    this.#arm(++this.#gen, 0)
  }

  /** Cancels the next poll; the promise settles once a read in progress has finished. */
  async stop (): Promise<void> {
    this.#gen++
    this.#running = false
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#cycle
  }

  stats (): SensorStats {
    return { ...this.#stats }
  }

  /** The poll interval now: everyMs, doubled per consecutive error up to a minute. */
  intervalMs (): number {
    const { everyMs } = this.#o
    const n = Math.min(30, this.#stats.consecutiveErrors)
    if (n === 0) return everyMs
    return Math.max(everyMs, Math.min(everyMs * 2 ** n, SENSOR_DEFAULTS.maxBackoffMs))
  }

  #arm (gen: number, delay: number): void {
    this.#timer = this.#o.clock.setTimeout(() => (this.#cycle = this.#poll(gen)), delay)
  }

  /** One read. Resolves when the read is done; the handler's promise is not part of it. */
  async #poll (gen: number): Promise<void> {
    this.#timer = undefined
    if (gen !== this.#gen) return
    const started = this.#o.clock.now()
    let sample: Sample | undefined
    try {
      sample = await this.#read(started)
    } catch (err) {
      if (gen === this.#gen) {
        const reason = (err as LambkinError | undefined)?.details?.reason
        if (err instanceof LambkinError && typeof reason === 'string' && NOT_A_READING.has(reason)) this.#drop('not_a_reading', err)
        else this.#failed(err, started)
      }
    }
    if (gen !== this.#gen) return
    const settled = sample === undefined ? undefined : this.#take(sample, started)
    if (settled === undefined) this.#next(gen, started)
    else void settled.then(() => this.#next(gen, started))
  }

  #next (gen: number, started: number): void {
    if (gen !== this.#gen) return
    const interval = this.intervalMs()
    // Keep the cadence of poll starts; a handler that overran gets the next poll at once.
    const delay = Math.min(interval, Math.max(0, started + interval - this.#o.clock.now()))
    this.#arm(gen, delay)
  }

  #take (sample: Sample, now: number): Promise<void> | undefined {
    const { sensor, path, scale, deadband, valid } = this.#o
    const value = round12(sample.scaled * scale)
    if (!Number.isFinite(value)) {
      this.#failed(sensorError(sensor, path, 'unparseable', `reading ${sample.raw} scaled to ${value}; the sample was skipped`), now)
      return undefined
    }
    const not = nonReading(this.#o.kind, sample, this.#lastAcceptedRaw)
    if (not !== undefined) {
      this.#drop('not_a_reading', sensorError(sensor, path, not.reason, not.message, undefined), sample.raw)
      return undefined
    }
    if (value < valid.min || value > valid.max) {
      this.#drop('out_of_range', sensorError(sensor, path, 'out_of_range', `reading ${value} is outside the trigger's valid range [${valid.min}, ${valid.max}]`), sample.raw)
      return undefined
    }
    this.#stats.reads++
    this.#stats.consecutiveErrors = 0
    this.#lastAcceptedRaw = sample.raw
    this.#dropStreak = undefined
    const recovered = this.#recovering
    this.#recovering = false
    const last = this.#lastFired
    // After a broken spell the first good reading fires even inside the deadband: the
    // function learns the sensor is back.
    if (last !== undefined && !recovered) {
      const moved = Math.abs(value - last)
      if (moved === 0) return undefined
      const slack = 1e-9 * Math.max(1, Math.abs(value), Math.abs(last))
      if (moved + slack < deadband) return undefined
    }
    this.#lastFired = value
    this.#stats.fired++
    const event: SensorEvent = { source: 'sensor', sensor, time: now, value, raw: sample.raw }
    return deliver(this.#o.onEvent, event, this.#o.onError, `handler of sensor "${sensor}"`)
  }

  /**
   * A reading that never reaches the function. The sensor answered, so there is no backoff:
   * the next poll comes at everyMs. Reported once per streak (a streak ends at an accepted
   * reading), so an 85 °C power-on value or a run of CRC errors gives one log line.
   */
  #drop (reason: Exclude<DropReason, 'unavailable'>, err: LambkinError, raw?: number): void {
    const { sensor, functionName } = this.#o
    this.#stats.dropped++
    this.#stats.consecutiveErrors = 0
    this.#count({ function: functionName, sensor, reason })
    const why = String(err.details.reason)
    if (this.#dropStreak === why) return
    this.#dropStreak = why
    report(this.#o.onError, new LambkinError(ErrorCodes.SENSOR_UNAVAILABLE, `${err.message}; the reading was dropped (${reason}) and the sensor is read again in ${Math.round(this.#o.everyMs / 100) / 10} s. Further drops for this reason are counted, not logged, until a reading is accepted.`, {
      cause: err.cause,
      details: { ...err.details, drop: reason, ...(raw === undefined ? {} : { raw }) }
    }))
  }

  #failed (err: unknown, now: number): void {
    const { sensor, path, functionName } = this.#o
    this.#stats.errors++
    this.#stats.consecutiveErrors++
    this.#count({ function: functionName, sensor, reason: 'unavailable' })
    this.#recovering = true
    // The device may have been power-cycled meanwhile: its next 85 °C is a power-on value.
    this.#lastAcceptedRaw = undefined
    this.#dropStreak = undefined
    if (this.#lastReportAt !== undefined && now - this.#lastReportAt < SENSOR_DEFAULTS.reportEveryMs) {
      this.#suppressed++
      return
    }
    const base = err instanceof LambkinError && err.code === ErrorCodes.SENSOR_UNAVAILABLE
      ? err
      : sensorError(sensor, path, 'unreadable', `the reading failed: ${(err as Error)?.message ?? String(err)}`, err)
    const more = this.#suppressed > 0 ? ` (${this.#suppressed} more failed reads since the last report)` : ''
    const retry = ` Retrying every ${Math.round(this.intervalMs() / 1000 * 10) / 10} s.`
    report(this.#o.onError, new LambkinError(ErrorCodes.SENSOR_UNAVAILABLE, `${base.message}${more}.${retry}`, {
      cause: base.cause ?? base,
      details: { ...base.details, consecutiveErrors: this.#stats.consecutiveErrors, suppressed: this.#suppressed }
    }))
    this.#lastReportAt = now
    this.#suppressed = 0
  }
}
