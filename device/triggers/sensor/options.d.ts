import type { Clock } from '../clock.js';
import type { TriggerCounters } from '../counters.js';
import type { SensorKind } from './non-readings.js';
import type { ReadFile, SensorSpec, SensorTriggerOptions } from './types.js';
export declare const SENSOR_DEFAULTS: Readonly<{
    everyMs: 1000;
    scale: 1;
    deadband: 0;
    format: "auto";
    /** Backoff ceiling while a sensor keeps failing. */
    maxBackoffMs: 60000;
    /** At most one onError report per this many ms while a sensor stays broken. */
    reportEveryMs: 60000;
    /** Clamp for everyMs (the manifest's range). */
    minEveryMs: 10;
    maxEveryMs: 86400000;
}>;
export declare const SIM_DEFAULTS: Readonly<{
    min: 15;
    max: 35;
    periodMs: 60000;
    step: 0.5;
}>;
export declare const SIM_KINDS: readonly ["sim:sine", "sim:random-walk"];
export type SimKind = (typeof SIM_KINDS)[number];
export interface ResolvedSensorOptions {
    sensor: string;
    path: string;
    everyMs: number;
    scale: number;
    deadband: number;
    format: 'number' | 'w1';
    /** What the file is, for the non-reading rules (non-readings.ts). */
    kind: SensorKind;
    /** Plausible `value` range, bounds included; ±Infinity when not given. */
    valid: {
        min: number;
        max: number;
    };
    sim?: {
        kind: SimKind;
        min: number;
        max: number;
        periodMs: number;
        step: number;
        seed?: number;
    };
    clock: Clock;
    onEvent: SensorTriggerOptions['onEvent'];
    onError: SensorTriggerOptions['onError'];
    random: () => number;
    readFile: ReadFile;
    metrics: TriggerCounters | undefined;
    functionName: string;
}
export declare function resolveSensorOptions(spec: SensorSpec, opts: SensorTriggerOptions): ResolvedSensorOptions;
