// Fires a callback on a cron schedule in a time zone: one timer armed for the next fire time,
// no overlapping runs, and missed runs (agent down, process stalled, clock jumped forward)
// made up to catchUp and counted beyond it, by the one rule in due-slots.ts.
//
// A wall clock that is stepped (docs/functions.md, "Schedule triggers"): time is real only on the
// monotonic clock. A step forward (NTP setting a board that booted at 1970 or at its image's
// build date) skips a stretch that never passed, so its fire times are neither missed nor made
// up: #rebase moves the mark past them. A step back repeats nothing (unless it undoes the last step
// forward seen: then the mark goes back with it): the mark stays ahead and the
// schedule waits for the clock to pass it, reading it every behindPollMs meanwhile. A mark stored while the clock was unset (before
// CLOCK_SET_FLOOR) says nothing about the time now: it neither holds the schedule back (an
// offline board rebooting at 1970) nor counts the stretch to a set clock as missed.
import { ageClock, CLOCK_SET_FLOOR } from '../../../src/clock.js'
import type { AgeClock } from '../../../src/clock.js'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { counter } from '../counters.js'
import { deliver, report } from '../deliver.js'
import { CronSchedule } from './cron-schedule.js'
import { countDue, planDue } from './due-slots.js'
import type { DuePlan } from './due-slots.js'
import { resolveScheduleOptions, SCHEDULE_DEFAULTS } from './options.js'
import type { ResolvedScheduleOptions } from './options.js'
import type { ScheduleEvent, ScheduleSpec, ScheduleStats, ScheduleTriggerOptions } from './types.js'

/** The counter of fire times that did not run; `reason` is "late" (missed) or "overlap". */
export const SCHEDULE_MISSED_METRIC = 'lambkin_schedule_missed_total'

const iso = (t: number): string => new Date(t).toISOString()

export class ScheduleRunner {
  readonly schedule: CronSchedule
  readonly #o: ResolvedScheduleOptions
  readonly #stats: ScheduleStats = { fired: 0, skippedOverlap: 0, caughtUp: 0, missed: 0 }
  readonly #count: (labels: Record<string, string>, n?: number) => void
  readonly #age: AgeClock
  /** The wall and monotonic clocks as last read together, to see the wall clock step. */
  #seen: { wall: number, mono: number } | undefined
  /** The last step forward seen (ms), which a step back of the same size undoes. */
  #forward = 0
  /** Bumped by start() and stop(); work begun under an older generation stops quietly. */
  #gen = 0
  #running = false
  #starting: Promise<void> | undefined
  #timer: unknown
  #due: number | undefined
  /** The newest fire time handled (run, made up, skipped or counted); none at or before it runs again. */
  #handled = 0
  /** The run in flight (its handler's promise), if any. */
  #inFlight: Promise<void> | undefined
  /** Store writes, chained so last-run values land in order. */
  #writes: Promise<void> = Promise.resolve()

  constructor (spec: ScheduleSpec, opts: ScheduleTriggerOptions) {
    this.#o = resolveScheduleOptions(spec, opts)
    this.schedule = new CronSchedule(this.#o.schedule, this.#o.timezone)
    this.#age = ageClock(this.#o.clock)
    this.#count = counter(this.#o.metrics, SCHEDULE_MISSED_METRIC, {
      type: 'counter',
      help: 'Schedule fire times that did not run, by function: reason "late" = missed by more than 1 s (agent down, process stalled, clock jumped forward) and beyond catchUp; "overlap" = the previous run was still in flight.',
      labelNames: ['function', 'reason']
    })
  }

  /**
   * Handles fire times missed since the last recorded one (catch-up runs sequentially, oldest
   * first, each awaited; the rest counted), then arms the timer. A store that fails is
   * reported through onError and the schedule runs without catch-up.
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
    const { clock, store, key } = this.#o
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
    // A last run ahead of the clock (set back since) stays the mark: its runs do not repeat.
    // One stored on an unset clock does not (see the top of this file).
    const kept = typeof last === 'number' && Number.isFinite(last) && !(last < CLOCK_SET_FLOOR && (now >= CLOCK_SET_FLOOR || now < last))
    this.#handled = kept ? last as number : now
    this.#seen = undefined
    // A first start records a baseline, so runs missed if the device goes down before the
    // first fire time are caught up on the next start.
    if (!kept && readOk) await this.#record(now)
    // start() resolves with catch-up recorded, so a crash right after it repeats nothing.
    await this.#settle(gen)
  }

  #arm (gen: number): void {
    let due: number | undefined
    try {
      due = this.schedule.next(this.#handled)
    } catch (err) {
      report(this.#o.onError, err as LambkinError)
    }
    this.#due = due
    if (due === undefined) return
    this.#setTimer(gen)
  }

  #setTimer (gen: number): void {
    const { clock } = this.#o
    const now = clock.now()
    // A clock behind the mark was set back: look again soon, so its correction is seen at once.
    const most = now < this.#handled ? SCHEDULE_DEFAULTS.behindPollMs : SCHEDULE_DEFAULTS.maxTimerMs
    const wait = Math.min(most, Math.max(0, (this.#due ?? 0) - now))
    this.#timer = clock.setTimeout(() => this.#wake(gen), wait)
  }

  /**
   * Timer callback; returns the work (and store writes) so a FakeClock can wait for it. Never
   * rejects. Catch-up runs are awaited in it, so under a FakeClock a catch-up handler must not
   * wait for that clock's own timers (it would wait for itself); move the wall clock instead.
   */
  #wake (gen: number): Promise<void> | undefined {
    this.#timer = undefined
    if (gen !== this.#gen || this.#due === undefined) return undefined
    if (this.#o.clock.now() < this.#due) {
      // Woke for a re-check (long waits are split) or the wall clock went back; a step the
      // clock took meanwhile may have moved the mark (#rebase), and so the next fire time.
      const before = this.#handled
      this.#rebase()
      if (this.#handled !== before) this.#arm(gen)
      else this.#setTimer(gen)
      return undefined
    }
    return this.#settle(gen)
  }

  /** Runs, makes up or counts every fire time due now, then arms for the next one. */
  async #settle (gen: number): Promise<void> {
    try {
      const now = this.#rebase()
      const plan = planDue(this.schedule, this.#handled, now, {
        catchUp: this.#o.catchUp,
        lateAfterMs: SCHEDULE_DEFAULTS.lateAfterMs,
        maxCount: SCHEDULE_DEFAULTS.maxMissedCount
      })
      await this.#carryOut(gen, plan)
    } catch (err) {
      // Only a schedule no time zone rule can place gets here; report it and stay stopped.
      this.#due = undefined
      report(this.#o.onError, err instanceof LambkinError ? err : new LambkinError(ErrorCodes.SCHEDULE_INVALID, `schedule "${this.#o.key}" failed to compute its next run: ${String(err)}`, { cause: err }))
      return
    }
    await this.#writes
    if (gen !== this.#gen) return
    this.#arm(gen)
  }

  /**
   * Reads the clock; when the wall clock moved more than the monotonic one since the last read
   * (by over lateAfterMs: a step forward), moves the mark to where the wall clock stood the
   * real time ago, so fire times in the skipped stretch are neither missed nor made up. A step
   * back changes nothing (the mark stays ahead: no repeats), unless it undoes the last step
   * forward seen (the same size within SCHEDULE_DEFAULTS.undoSlackMs: a time source's glitch
   * corrected): then the mark goes back with the clock, since what ran on the wrong clock ran in
   * real time before now. Returns the wall clock read.
   */
  #rebase (): number {
    const wall = this.#age.now()
    const mono = this.#age.monotonic()
    const seen = this.#seen
    this.#seen = { wall, mono }
    if (seen === undefined) return wall
    const real = mono - seen.mono
    const step = wall - seen.wall - real
    if (step > SCHEDULE_DEFAULTS.lateAfterMs) {
      this.#handled = Math.max(this.#handled, wall - real)
      this.#forward = step
    } else if (step < -SCHEDULE_DEFAULTS.lateAfterMs && this.#forward > 0 && Math.abs(this.#forward + step) <= SCHEDULE_DEFAULTS.undoSlackMs) {
      this.#handled += step
      this.#forward = 0
    }
    return wall
  }

  async #carryOut (gen: number, plan: DuePlan): Promise<void> {
    if (plan.newest === undefined) return
    const before = this.#handled
    this.#handled = plan.newest
    if (plan.missed > 0) this.#missed(plan, before)
    if (plan.runs.length === 0) void this.#record(plan.newest)
    if (plan.runs.some((r) => r.catchUp)) await this.#catchUp(gen, plan)
    else if (plan.runs.length > 0) void this.#fire(plan.runs[0].scheduled, false)
  }

  /**
   * Runs a plan's runs one at a time, each awaited, after any run still in flight: no overlap.
   * Fire times that came due meanwhile are skipped as overlap, as they are behind a slow run,
   * so a handler slower than the schedule cannot keep the trigger catching up for ever.
   */
  async #catchUp (gen: number, plan: DuePlan): Promise<void> {
    if (this.#inFlight !== undefined) await this.#inFlight
    for (const run of plan.runs) {
      if (gen !== this.#gen) return
      await this.#fire(run.scheduled, run.catchUp)
    }
    if (gen !== this.#gen) return
    const now = this.#o.clock.now()
    const busy = countDue(this.schedule, this.#handled, now, SCHEDULE_DEFAULTS.maxMissedCount)
    if (busy.count === 0) return
    this.#stats.skippedOverlap += busy.count
    this.#count({ function: this.#o.functionName, reason: 'overlap' }, busy.count)
    this.#handled = this.schedule.recent(this.#handled, now, 1)[0] ?? this.#handled
  }

  #missed (plan: DuePlan, before: number): void {
    const { key, catchUp, functionName, onError } = this.#o
    this.#stats.missed += plan.missed
    this.#count({ function: functionName, reason: 'late' }, plan.missed)
    const first = this.schedule.next(before) ?? plan.newest ?? before
    const made = plan.runs.filter((r) => r.catchUp).length
    const n = `${plan.capped ? 'at least ' : ''}${plan.missed} run${plan.missed === 1 ? '' : 's'}`
    const why = catchUp === 0 ? 'catchUp is 0' : `catchUp is ${catchUp}, so ${made} ${made === 1 ? 'was' : 'were'} made up`
    report(onError, new LambkinError(ErrorCodes.SCHEDULE_MISSED, `schedule "${key}" did not run ${n} due between ${iso(first)} and ${iso(plan.newest ?? first)} (the agent was down, the process stalled or the clock jumped forward); ${why}. Raise catchUp to make up more.`, {
      details: { key, missed: plan.missed, capped: plan.capped, caughtUp: made, from: first, to: plan.newest }
    }))
  }

  /**
   * Starts a run unless the previous one is still in flight (then counts an overlap skip).
   * Returns the handler's promise (undefined for a synchronous handler or a skip).
   */
  #fire (scheduled: number, catchingUp: boolean): Promise<void> | undefined {
    if (this.#inFlight !== undefined) {
      this.#stats.skippedOverlap++
      this.#count({ function: this.#o.functionName, reason: 'overlap' })
      return undefined
    }
    const time = this.#o.clock.now()
    this.#stats.fired++
    if (catchingUp) this.#stats.caughtUp++
    const event: ScheduleEvent = { source: 'schedule', time, scheduledTime: scheduled, late: catchingUp || time - scheduled > SCHEDULE_DEFAULTS.lateAfterMs }
    const settled = deliver(this.#o.onEvent, event, this.#o.onError, `handler of schedule "${this.#o.key}"`)
    void this.#record(scheduled)
    if (settled !== undefined) {
      this.#inFlight = settled
      void settled.then(() => { if (this.#inFlight === settled) this.#inFlight = undefined })
    }
    return settled
  }

  #record (time: number): Promise<void> {
    const { store, key, onError } = this.#o
    this.#writes = this.#writes.then(async () => { await store.setLastRun(key, time) }).catch((err: unknown) => {
      report(onError, new LambkinError(ErrorCodes.STORE_ERROR, `schedule "${key}": could not record its last run, so a restart may repeat or miss a catch-up: ${(err as Error)?.message ?? String(err)}`, { cause: err, details: { key } }))
    })
    return this.#writes
  }
}
