// Public surface of schedule triggers: cron in a time zone with no overlap and bounded catch-up.
export { ScheduleRunner, SCHEDULE_MISSED_METRIC } from './schedule-trigger.js'
export { CronSchedule } from './cron-schedule.js'
export { planDue } from './due-slots.js'
export type { DuePlan, DueSlot } from './due-slots.js'
export { SCHEDULE_DEFAULTS } from './options.js'
export type { LastRunStore, ScheduleEvent, ScheduleSpec, ScheduleStats, ScheduleTriggerOptions } from './types.js'
