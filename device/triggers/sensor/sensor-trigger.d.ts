import type { SensorSpec, SensorStats, SensorTriggerOptions } from './types.js';
/** Counts readings that never reached the function, by `reason` (a DropReason). */
export declare const SENSOR_DROPPED_METRIC = "lambkin_sensor_readings_dropped_total";
export declare class SensorTrigger {
    #private;
    readonly sensor: string;
    constructor(spec: SensorSpec, opts: SensorTriggerOptions);
    /** Arms the first poll (immediately, through the clock). Starting twice does nothing. */
    start(): void;
    /** Cancels the next poll; the promise settles once a read in progress has finished. */
    stop(): Promise<void>;
    stats(): SensorStats;
    /** The poll interval now: everyMs, doubled per consecutive error up to a minute. */
    intervalMs(): number;
}
