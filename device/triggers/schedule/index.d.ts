export { ScheduleTrigger, SCHEDULE_MISSED_METRIC } from './schedule-trigger.js';
export { CronSchedule } from './cron-schedule.js';
export { planDue } from './due-slots.js';
export type { DuePlan, DueSlot } from './due-slots.js';
export { SCHEDULE_DEFAULTS } from './options.js';
export type { LastRunStore, ScheduleEvent, ScheduleSpec, ScheduleStats, ScheduleTriggerOptions } from './types.js';
