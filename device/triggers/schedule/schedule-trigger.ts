// Fires a callback on a cron schedule in a time zone: one timer armed for the next fire time,
// no overlapping runs, and catch-up of runs missed while stopped, bounded by catchUp.
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { deliver, report } from '../deliver.js'
import { CronSchedule } from './cron-schedule.js'
import { resolveScheduleOptions, SCHEDULE_DEFAULTS } from './options.js'
import type { ResolvedScheduleOptions } from './options.js'
import type { ScheduleEvent, ScheduleSpec, ScheduleStats, ScheduleTriggerOptions } from './types.js'

export class ScheduleTrigger {
  readonly schedule: CronSchedule
  readonly #o: ResolvedScheduleOptions
  readonly #stats: ScheduleStats = { fired: 0, skippedOverlap: 0, caughtUp: 0 }
  /** Bumped by start() and stop(); work begun under an older generation stops quietly. */
  #gen = 0
  #running = false
  #starting: Promise<void> | undefined
  #timer: unknown
  #due: number | undefined
  /** The run in flight (its handler's promise), if any. */
  #inFlight: Promise<void> | undefined
  /** Store writes, chained so last-run values land in order. */
  #writes: Promise<void> = Promise.resolve()

  constructor (spec: ScheduleSpec, opts: ScheduleTriggerOptions) {
    this.#o = resolveScheduleOptions(spec, opts)
    this.schedule = new CronSchedule(this.#o.schedule, this.#o.timezone)
  }

  /**
   * Makes up missed runs (sequentially, oldest first, each awaited), then arms the timer.
   * A store that fails is reported through onError and the schedule runs without catch-up.
   */
  async start (): Promise<void> {
    if (this.#running) return await this.#starting
    this.#running = true
    const gen = ++this.#gen
    this.#starting = this.#start(gen)
    return await this.#starting
  }

  /** Cancels the timer; the promise settles once pending last-run writes have. Handlers in flight are not awaited. */
  async stop (): Promise<void> {
    this.#gen++
    this.#running = false
    this.#starting = undefined
    this.#due = undefined
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#writes
  }

  stats (): ScheduleStats {
    return { ...this.#stats }
  }

  /** The fire time the timer is armed for, or undefined while stopped. */
  nextRun (): number | undefined {
    return this.#due
  }

  async #start (gen: number): Promise<void> {
    const { clock, store, key, catchUp } = this.#o
    let last: number | undefined
    let readOk = true
    try {
      last = await store.getLastRun(key)
    } catch (err) {
      readOk = false
      report(this.#o.onError, new LambkinError(ErrorCodes.STORE_ERROR, `schedule "${key}": could not read its last run, so missed runs are not made up this time: ${(err as Error)?.message ?? String(err)}`, { cause: err, details: { key } }))
    }
    if (gen !== this.#gen) return
    const now = clock.now()
    if (last === undefined && readOk) {
      // A first start records a baseline, so runs missed if the device goes down before the
      // first fire time are caught up on the next start.
      await this.#record(now)
    } else if (last !== undefined && catchUp > 0 && last < now) {
      let missed: number[] = []
      try {
        missed = this.schedule.recent(last, now, catchUp)
      } catch (err) {
        report(this.#o.onError, err as LambkinError)
      }
      for (const scheduled of missed) {
        if (gen !== this.#gen) return
        await this.#fire(scheduled, true)?.settled
      }
    }
    // start() resolves with catch-up recorded, so a crash right after it repeats nothing.
    await this.#writes
    if (gen !== this.#gen) return
    // Arm from the start time: a fire time that passed during catch-up still runs (late).
    this.#arm(gen, now)
  }

  #arm (gen: number, after: number): void {
    let due: number | undefined
    try {
      due = this.schedule.next(after)
    } catch (err) {
      report(this.#o.onError, err as LambkinError)
    }
    this.#due = due
    if (due === undefined) return
    this.#setTimer(gen)
  }

  #setTimer (gen: number): void {
    const { clock } = this.#o
    const wait = Math.min(SCHEDULE_DEFAULTS.maxTimerMs, Math.max(0, (this.#due ?? 0) - clock.now()))
    this.#timer = clock.setTimeout(() => this.#wake(gen), wait)
  }

  /** Timer callback; returns the store write so a FakeClock can wait for it. Never throws. */
  #wake (gen: number): Promise<void> | undefined {
    this.#timer = undefined
    if (gen !== this.#gen || this.#due === undefined) return undefined
    try {
      return this.#runDue(gen, this.#due)
    } catch (err) {
      // Only a schedule no time zone rule can place gets here; report it and stay stopped.
      this.#due = undefined
      report(this.#o.onError, err instanceof LambkinError ? err : new LambkinError(ErrorCodes.SCHEDULE_INVALID, `schedule "${this.#o.key}" failed to compute its next run: ${String(err)}`, { cause: err }))
      return undefined
    }
  }

  #runDue (gen: number, due: number): Promise<void> | undefined {
    const now = this.#o.clock.now()
    let scheduled = due
    if (now < scheduled) {
      // Woke for a re-check (long waits are split) or the wall clock went back.
      this.#setTimer(gen)
      return undefined
    }
    // If the clock jumped or the process stalled past several fire times, run the latest.
    const following = this.schedule.next(scheduled)
    if (following !== undefined && following <= now) scheduled = this.schedule.recent(scheduled, now, 1)[0] ?? scheduled
    const run = this.#fire(scheduled, false)
    this.#arm(gen, Math.max(scheduled, now))
    return run?.written
  }

  /** Starts a run unless the previous one is still in flight. */
  #fire (scheduled: number, catchingUp: boolean): { settled: Promise<void> | undefined, written: Promise<void> } | undefined {
    if (this.#inFlight !== undefined) {
      this.#stats.skippedOverlap++
      return undefined
    }
    const time = this.#o.clock.now()
    this.#stats.fired++
    if (catchingUp) this.#stats.caughtUp++
    const event: ScheduleEvent = { source: 'schedule', time, scheduledTime: scheduled, late: catchingUp || time - scheduled > SCHEDULE_DEFAULTS.lateAfterMs }
    const settled = deliver(this.#o.onEvent, event, this.#o.onError, `handler of schedule "${this.#o.key}"`)
    if (settled !== undefined) {
      this.#inFlight = settled
      void settled.then(() => { if (this.#inFlight === settled) this.#inFlight = undefined })
    }
    return { settled, written: this.#record(scheduled) }
  }

  #record (time: number): Promise<void> {
    const { store, key, onError } = this.#o
    this.#writes = this.#writes.then(async () => { await store.setLastRun(key, time) }).catch((err: unknown) => {
      report(onError, new LambkinError(ErrorCodes.STORE_ERROR, `schedule "${key}": could not record its last run, so a restart may repeat or miss a catch-up: ${(err as Error)?.message ?? String(err)}`, { cause: err, details: { key } }))
    })
    return this.#writes
  }
}
