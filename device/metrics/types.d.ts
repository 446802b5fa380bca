import type { HistogramData } from './histogram.js';
/**
 * What one invocation reports. A sandbox `Outcome` fits as is: its `error.code` is read when
 * `code` is absent.
 */
export interface InvocationReport {
    ok: boolean;
    code?: string;
    error?: {
        code: string;
    };
    durationMs: number;
    instructions?: number;
    /** The sandbox instance's memory high-water after the call, in bytes. */
    memoryBytes?: number;
    /** The memory the function was given (its instance cap), in bytes: what GB-seconds bill. */
    memoryLimitBytes?: number;
    coldStart?: boolean;
}
export interface FunctionFigures {
    /** Calls that reached a sandbox; throttled calls are not invocations (as in Lambda). */
    invocations: number;
    /** Failed invocations by error code. */
    errors: Record<string, number>;
    throttles: number;
    timeouts: number;
    coldStarts: number;
    durationSeconds: HistogramData;
    instructions: number;
    /** Largest memory high-water seen (in the interval, for a delta), in bytes. */
    memoryHighWaterBytes: number;
    /** Memory limit in GiB x billed duration in seconds, summed (Lambda's GB-second). */
    gbSeconds: number;
}
export interface SeriesFigure {
    name: string;
    type: 'counter' | 'gauge';
    labels: Record<string, string>;
    value: number;
}
export interface MetricsSnapshot {
    v: 1;
    /** 'total': counts since the registry was created; 'delta': counts since the previous delta. */
    kind: 'total' | 'delta';
    /** Start and end of what the figures cover, ms since the epoch (from the injected clock). */
    from: number;
    to: number;
    /** Upper bounds of `durationSeconds.counts`; the last count is above every bound (+Inf). */
    bucketsSeconds: number[];
    functions: Record<string, FunctionFigures>;
    /** Agent-wide series (outbox drops, sensor errors, ...): counters as totals or deltas, gauges as-is. */
    series: SeriesFigure[];
}
