// The shapes a schedule trigger takes and hands out (docs/architecture.md, "Triggers").
import type { LambkinError } from '../../../src/errors.js'
import type { Clock } from '../../../src/clock.js'
import type { TriggerCounters } from '../counters.js'

// A manifest's schedule trigger: { "schedule": "*/10 * * * * *", "timezone": "UTC", "catchUp": 3 }.
export interface ScheduleSpec {
  /** Cron, 5 fields or 6 with seconds first (node-cron syntax, names and L/W/# included). */
  schedule: string
  /** IANA zone the fields are read in; default UTC. */
  timezone?: string
  /**
   * How many missed runs to make up, most recent ones, whenever runs are missed (the agent was
   * down, the process stalled, the wall clock jumped forward); the rest are counted. Default 0.
   */
  catchUp?: number
}

export interface ScheduleEvent {
  source: 'schedule'
  /** When the run started (clock ms). */
  time: number
  /** The fire time it stands for. */
  scheduledTime: number
  /** A missed run made up (catchUp), or one that started more than 1 s after scheduledTime. */
  late: boolean
}

/**
 * Where the last fire time handled of each schedule is kept across restarts (the agent's
 * LevelDB): the last run started, or the newest fire time counted as missed.
 */
export interface LastRunStore {
  getLastRun: (key: string) => Promise<number | undefined>
  setLastRun: (key: string, time: number) => Promise<void>
}

export interface ScheduleTriggerOptions {
  clock?: Clock
  /** Called for each run; a returned promise marks the run in flight until it settles. */
  onEvent: (event: ScheduleEvent) => Promise<void> | void
  /** Handler failures (wrapped as LAMBKIN_FUNCTION_ERROR unless already ours) and store failures. */
  onError?: (err: LambkinError) => void
  store: LastRunStore
  /** This schedule's key in the store, e.g. `${functionName}#${triggerIndex}`. */
  key: string
  /** Counts fire times that did not run in `lambkin_schedule_missed_total`; default none. */
  metrics?: TriggerCounters
  /** The `function` label of those counts; default the key. */
  functionName?: string
}

export interface ScheduleStats {
  /** Runs started, catch-up runs included. */
  fired: number
  /** Fire times skipped because the previous run (or a catch-up) had not settled. */
  skippedOverlap: number
  /** Runs started late for missed fire times (catchUp). */
  caughtUp: number
  /** Missed fire times beyond catchUp: counted, logged, not run. */
  missed: number
}
