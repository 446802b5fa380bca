import type { CronSchedule } from './cron-schedule.js';
export interface DueSlot {
    scheduled: number;
    /** A missed fire time made up late (as opposed to one run on time). */
    catchUp: boolean;
}
export interface DuePlan {
    /** Runs to start now, oldest first. */
    runs: DueSlot[];
    /** Missed fire times that do not run (beyond catchUp). */
    missed: number;
    /** True when counting stopped at maxCount: `missed` is then a lower bound. */
    capped: boolean;
    /** The newest due fire time: everything up to it is handled once the plan is carried out. */
    newest: number | undefined;
}
/** Counts fire times in (after, upTo], stopping at cap (each step costs a next() call). */
export declare function countDue(schedule: CronSchedule, after: number, upTo: number, cap: number): {
    count: number;
    capped: boolean;
};
/**
 * The plan for fire times in (handled, now]. `maxCount` bounds the work of counting a huge gap
 * (a clock that jumped by a year under an every-second schedule): past it the count is a
 * lower bound and `capped` says so.
 */
export declare function planDue(schedule: CronSchedule, handled: number, now: number, o: {
    catchUp: number;
    lateAfterMs: number;
    maxCount: number;
}): DuePlan;
