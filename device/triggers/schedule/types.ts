// The shapes a schedule trigger takes and hands out (docs/architecture.md, "Triggers").
import type { LambkinError } from '../../../src/errors.js'
import type { Clock } from '../clock.js'

// A manifest's schedule trigger: { "schedule": "*/10 * * * * *", "timezone": "UTC", "catchUp": 3 }.
export interface ScheduleSpec {
  /** Cron, 5 fields or 6 with seconds first (node-cron syntax, names and L/W/# included). */
  schedule: string
  /** IANA zone the fields are read in; default UTC. */
  timezone?: string
  /** How many runs missed while stopped to make up on start, most recent ones; default 0. */
  catchUp?: number
}

export interface ScheduleEvent {
  source: 'schedule'
  /** When the run started (clock ms). */
  time: number
  /** The fire time it stands for. */
  scheduledTime: number
  /** Started more than 1 s after scheduledTime, or a catch-up run. */
  late: boolean
}

/** Where the last started run of each schedule is kept across restarts (the agent's LevelDB). */
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
}

export interface ScheduleStats {
  /** Runs started, catch-up runs included. */
  fired: number
  /** Fire times skipped because the previous run had not settled. */
  skippedOverlap: number
  /** Runs started on start() for fire times missed while stopped. */
  caughtUp: number
}
