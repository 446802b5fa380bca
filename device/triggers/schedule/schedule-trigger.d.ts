import { CronSchedule } from './cron-schedule.js';
import type { ScheduleSpec, ScheduleStats, ScheduleTriggerOptions } from './types.js';
/** The counter of fire times that did not run; `reason` is "late" (missed) or "overlap". */
export declare const SCHEDULE_MISSED_METRIC = "lambkin_schedule_missed_total";
export declare class ScheduleTrigger {
    #private;
    readonly schedule: CronSchedule;
    constructor(spec: ScheduleSpec, opts: ScheduleTriggerOptions);
    /**
     * Handles fire times missed since the last recorded one (catch-up runs sequentially, oldest
     * first, each awaited; the rest counted), then arms the timer. A store that fails is
     * reported through onError and the schedule runs without catch-up.
     */
    start(): Promise<void>;
    /** Cancels the timer; the promise settles once pending last-run writes have. Handlers in flight are not awaited. */
    stop(): Promise<void>;
    stats(): ScheduleStats;
    /** The fire time the timer is armed for, or undefined while stopped. */
    nextRun(): number | undefined;
}
