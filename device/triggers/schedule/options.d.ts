import type { Clock } from '../clock.js';
import type { TriggerCounters } from '../counters.js';
import type { LastRunStore, ScheduleSpec, ScheduleTriggerOptions } from './types.js';
export declare const SCHEDULE_DEFAULTS: Readonly<{
    timezone: "UTC";
    catchUp: 0;
    /** The manifest's cap on catchUp. */
    maxCatchUp: 1000;
    /**
     * A run that cannot start within this of its fire time is missed: made up late (catchUp) or
     * counted. Also what marks a run late.
     */
    lateAfterMs: 1000;
    /** Missed fire times counted one by one per gap; a bigger gap is logged as "at least" this. */
    maxMissedCount: 1000;
    /**
     * The longest single timer. Waking at least this often notices wall-clock jumps (a board
     * without an RTC setting its clock from NTP) and keeps below setTimeout's 24.8-day limit.
     */
    maxTimerMs: 60000;
}>;
export interface ResolvedScheduleOptions {
    schedule: string;
    timezone: string;
    catchUp: number;
    clock: Clock;
    onEvent: ScheduleTriggerOptions['onEvent'];
    onError: ScheduleTriggerOptions['onError'];
    store: LastRunStore;
    key: string;
    metrics: TriggerCounters | undefined;
    functionName: string;
}
export declare function resolveScheduleOptions(spec: ScheduleSpec, opts: ScheduleTriggerOptions): ResolvedScheduleOptions;
