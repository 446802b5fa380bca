// Polls one sensor (a sysfs-style file or a simulation) and fires a callback when the value
// moves past the deadband. One read at a time, the next poll waits for a slow handler, and a
// failing sensor is retried with backoff and reported at most once a minute.
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { deliver, report } from '../deliver.js'
import { readFileSample, sensorError } from './file-source.js'
import type { Sample } from './file-source.js'
import { resolveSensorOptions, SENSOR_DEFAULTS } from './options.js'
import type { ResolvedSensorOptions } from './options.js'
import { simSource } from './sim-source.js'
import type { SensorEvent, SensorSpec, SensorStats, SensorTriggerOptions } from './types.js'

/** Scaling by 0.001 leaves binary noise (23125 * 0.001 = 23.125000000000004); users should not see it. */
const round12 = (v: number): number => Number(v.toPrecision(12))

export class SensorTrigger {
  readonly sensor: string
  readonly #o: ResolvedSensorOptions
  readonly #read: (now: number) => Promise<Sample> | Sample
  readonly #stats: SensorStats = { reads: 0, fired: 0, errors: 0, consecutiveErrors: 0 }
  /** Bumped by start() and stop(); a poll begun under an older generation ends quietly. */
  #gen = 0
  #running = false
  #timer: unknown
  /** The read in progress, so stop() can wait for it. */
  #cycle: Promise<void> | undefined
  #lastFired: number | undefined
  #lastReportAt: number | undefined
  #suppressed = 0

  constructor (spec: SensorSpec, opts: SensorTriggerOptions) {
    const o = resolveSensorOptions(spec, opts)
    this.#o = o
    this.sensor = o.sensor
    this.#read = o.sim === undefined
      ? async () => await readFileSample({ sensor: o.sensor, path: o.path, format: o.format, readFile: o.readFile })
      : simSource({ ...o.sim, random: o.random })
  }

  /** Arms the first poll (immediately, through the clock). Starting twice does nothing. */
  start (): void {
    if (this.#running) return
    this.#running = true
    this.#lastFired = undefined
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
      if (gen === this.#gen) this.#failed(err, started)
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
    const { sensor, scale, deadband } = this.#o
    const value = round12(sample.scaled * scale)
    if (!Number.isFinite(value)) {
      this.#failed(sensorError(sensor, this.#o.path, 'unparseable', `reading ${sample.raw} scaled to ${value}; the sample was skipped`), now)
      return undefined
    }
    this.#stats.reads++
    const recovered = this.#stats.consecutiveErrors > 0
    this.#stats.consecutiveErrors = 0
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

  #failed (err: unknown, now: number): void {
    const { sensor, path } = this.#o
    this.#stats.errors++
    this.#stats.consecutiveErrors++
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
      details: { ...base.info, consecutiveErrors: this.#stats.consecutiveErrors, suppressed: this.#suppressed }
    }))
    this.#lastReportAt = now
    this.#suppressed = 0
  }
}
