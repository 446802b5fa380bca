// Decides what happens to the fire times that came due since the last one handled: one rule
// for every way a run can be missed (the agent was down, the process stalled, the wall clock
// jumped forward), so a restart and a SIGSTOP give the same runs and the same counts.
//
// The rule: a fire time whose run can start within `lateAfterMs` of it is on time and runs.
// Every other due fire time is missed. The `catchUp` most recent missed ones run, late and
// oldest first; the rest are counted as missed, never dropped silently. Fire times at or
// before the last one handled never run again, so a clock set back repeats nothing.
import type { CronSchedule } from './cron-schedule.js'

export interface DueSlot {
  scheduled: number
  /** A missed fire time made up late (as opposed to one run on time). */
  catchUp: boolean
}

export interface DuePlan {
  /** Runs to start now, oldest first. */
  runs: DueSlot[]
  /** Missed fire times that do not run (beyond catchUp). */
  missed: number
  /** True when counting stopped at maxCount: `missed` is then a lower bound. */
  capped: boolean
  /** The newest due fire time: everything up to it is handled once the plan is carried out. */
  newest: number | undefined
}

/** Counts fire times in (after, upTo], stopping at cap (each step costs a next() call). */
export function countDue (schedule: CronSchedule, after: number, upTo: number, cap: number): { count: number, capped: boolean } {
  let count = 0
  let t = schedule.next(after)
  while (t !== undefined && t <= upTo) {
    if (count === cap) return { count, capped: true }
    count++
    t = schedule.next(t)
  }
  return { count, capped: false }
}

/**
 * The plan for fire times in (handled, now]. `maxCount` bounds the work of counting a huge gap
 * (a clock that jumped by a year under an every-second schedule): past it the count is a
 * lower bound and `capped` says so.
 */
export function planDue (schedule: CronSchedule, handled: number, now: number, o: { catchUp: number, lateAfterMs: number, maxCount: number }): DuePlan {
  const newest = now > handled ? schedule.recent(handled, now, 1)[0] : undefined
  if (newest === undefined) return { runs: [], missed: 0, capped: false, newest: undefined }
  const onTime = now - newest <= o.lateAfterMs
  // Missed fire times lie in (handled, missedUpTo]: every due one but an on-time newest.
  const missedUpTo = onTime ? newest - 1 : newest
  const { count, capped } = countDue(schedule, handled, missedUpTo, o.maxCount)
  const made = Math.min(o.catchUp, count)
  const runs: DueSlot[] = made > 0 ? schedule.recent(handled, missedUpTo, made).map((scheduled) => ({ scheduled, catchUp: true })) : []
  if (onTime) runs.push({ scheduled: newest, catchUp: false })
  return { runs, missed: count - runs.filter((r) => r.catchUp).length, capped, newest }
}
