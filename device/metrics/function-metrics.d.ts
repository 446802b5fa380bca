import type { MetricDefinition } from './agent-series.js';
import type { Labels } from './exposition.js';
import type { InvocationReport, MetricsSnapshot } from './types.js';
export interface MetricsOptions {
    /** Upper bounds of the duration histogram, in seconds. */
    bucketsSeconds: readonly number[];
    /** Distinct error codes kept per function; more are counted under "other". */
    maxCodesPerFunction: number;
    /** Label sets kept per agent-wide metric; more are refused and counted. */
    maxSeriesPerMetric: number;
    clock: {
        now: () => number;
    };
}
export declare const METRICS_DEFAULTS: Readonly<MetricsOptions>;
export declare class FunctionMetrics {
    readonly options: Readonly<MetricsOptions>;
    private readonly totals;
    private interval;
    private readonly agent;
    private readonly createdAt;
    private intervalStart;
    constructor(opts?: Partial<MetricsOptions>);
    /** Counts one invocation. A LAMBKIN_THROTTLED report counts as a throttle only. */
    record(fn: string, report: InvocationReport): void;
    /** A call refused because the function's queue or the agent was full; it never ran. */
    throttled(fn: string): void;
    register(name: string, def: MetricDefinition): void;
    inc(name: string, labels?: Labels, n?: number): void;
    set(name: string, labels: Labels, value: number): void;
    /** Function names seen so far, sorted. */
    functions(): string[];
    private stats;
    /** Everything, as Prometheus text exposition format 0.0.4. */
    toPrometheus(): string;
    /** Totals since this registry was created: for `lambkin metrics` and local inspection. */
    snapshot(): MetricsSnapshot;
    /**
     * Figures since the previous call (or creation), then starts a new interval. This is what
     * the agent writes to the outbox: the cloud stores each record exactly once, so it gets
     * totals by adding deltas, with no reset detection after an agent restart, and each record
     * carries the memory high-water of its own interval. Functions with nothing recorded in the
     * interval are left out to keep records small. If the outbox drops a metric record under
     * quota pressure, that interval is lost and the outbox's own drop counter says so.
     */
    snapshotDelta(): MetricsSnapshot;
    private build;
}
