// Defaults and checks for schedule triggers: a bad spec or option throws a LambkinError
// naming the key, before anything is armed.
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { systemClock } from '../../../src/clock.js'
import type { Clock } from '../../../src/clock.js'
import { isCounters } from '../counters.js'
import type { TriggerCounters } from '../counters.js'
import type { LastRunStore, ScheduleSpec, ScheduleTriggerOptions } from './types.js'

export const SCHEDULE_DEFAULTS = Object.freeze({
  timezone: 'UTC',
  catchUp: 0,
  /** The manifest's cap on catchUp. */
  maxCatchUp: 1000,
  /**
   * A run that cannot start within this of its fire time is missed: made up late (catchUp) or
   * counted. Also what marks a run late.
   */
  lateAfterMs: 1000,
  /** Missed fire times counted one by one per gap; a bigger gap is logged as "at least" this. */
  maxMissedCount: 1000,
  /**
   * The longest single timer. Waking at least this often notices wall-clock jumps (a board
   * without an RTC setting its clock from NTP) and keeps below setTimeout's 24.8-day limit.
   */
  maxTimerMs: 60_000,
  /**
   * While the wall clock reads before the last fire time handled (it was set back), how often
   * it is read again, so a correction (NTP stepping it forward past that time) is noticed
   * within this and the schedule runs on time again, instead of up to maxTimerMs later with
   * the fire times between counted as missed.
   */
  behindPollMs: 1000,
  /**
   * A step back of the wall clock within this of the last step forward's size undoes it (a time
   * source's glitch corrected): the schedule's mark goes back with the clock (schedule-trigger.ts).
   */
  undoSlackMs: 60_000
})

export interface ResolvedScheduleOptions {
  schedule: string
  timezone: string
  catchUp: number
  clock: Clock
  onEvent: ScheduleTriggerOptions['onEvent']
  onError: ScheduleTriggerOptions['onError']
  store: LastRunStore
  key: string
  metrics: TriggerCounters | undefined
  functionName: string
}

function bad (code: typeof ErrorCodes.CONFIG_INVALID | typeof ErrorCodes.SCHEDULE_INVALID, key: string, msg: string): never {
  throw new LambkinError(code, `schedule trigger ${key} ${msg}`, { details: { key } })
}

export function resolveScheduleOptions (spec: ScheduleSpec, opts: ScheduleTriggerOptions): ResolvedScheduleOptions {
  if (typeof spec !== 'object' || spec === null) bad(ErrorCodes.SCHEDULE_INVALID, 'spec', 'must be an object like { "schedule": "0 * * * *" }')
  // An explicit undefined (a manifest field left out) means the default, not a bad value.
  const given = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as Partial<ScheduleSpec>
  const s = { ...SCHEDULE_DEFAULTS, ...given }
  if (typeof s.schedule !== 'string') bad(ErrorCodes.SCHEDULE_INVALID, 'schedule', 'must be a cron string, e.g. "*/10 * * * * *"')
  if (typeof s.timezone !== 'string') bad(ErrorCodes.SCHEDULE_INVALID, 'timezone', 'must be an IANA zone name, e.g. "Europe/Berlin"')
  if (typeof s.catchUp !== 'number' || Number.isNaN(s.catchUp)) bad(ErrorCodes.SCHEDULE_INVALID, 'catchUp', 'must be a number of runs (0 skips missed runs)')
  const catchUp = Math.min(SCHEDULE_DEFAULTS.maxCatchUp, Math.max(0, Math.floor(s.catchUp)))
  const o = { clock: systemClock, ...opts }
  if (typeof o.onEvent !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'onEvent', 'must be a function')
  if (o.onError !== undefined && typeof o.onError !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'onError', 'must be a function when given')
  const st = o.store as Partial<LastRunStore> | undefined
  if (typeof st?.getLastRun !== 'function' || typeof st.setLastRun !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'store', 'must have getLastRun(key) and setLastRun(key, time)')
  if (typeof o.key !== 'string' || o.key === '') bad(ErrorCodes.CONFIG_INVALID, 'key', 'must be a non-empty string naming this schedule in the store')
  const c = o.clock as Partial<Clock> | undefined
  if (typeof c?.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.clearTimeout !== 'function') bad(ErrorCodes.CONFIG_INVALID, 'clock', 'must have now(), setTimeout() and clearTimeout()')
  if (o.metrics !== undefined && !isCounters(o.metrics)) bad(ErrorCodes.CONFIG_INVALID, 'metrics', 'must have register() and inc() (the agent\'s FunctionMetrics) when given')
  const functionName = o.functionName ?? o.key
  if (typeof functionName !== 'string' || functionName === '') bad(ErrorCodes.CONFIG_INVALID, 'functionName', 'must be a non-empty string when given')
  return {
    schedule: s.schedule,
    timezone: s.timezone,
    catchUp,
    clock: o.clock,
    onEvent: o.onEvent,
    onError: o.onError,
    store: o.store,
    key: o.key,
    metrics: o.metrics,
    functionName
  }
}
