import type { Labels } from './exposition.js';
import type { SeriesFigure } from './types.js';
export declare const METRIC_PREFIX = "lambkin_";
export interface MetricDefinition {
    type: 'counter' | 'gauge';
    help: string;
    /** The label names every sample of this metric carries, in output order. */
    labelNames?: readonly string[];
}
/** `outbox_dropped_total` and `lambkin_outbox_dropped_total` name the same metric. */
export declare function fullName(name: string): string;
export declare class AgentSeries {
    private readonly reserved;
    private readonly maxSeriesPerMetric;
    private readonly families;
    /** Series refused by the cardinality cap, by metric; itself capped by the number of metrics. */
    private readonly dropped;
    constructor(reserved: ReadonlySet<string>, maxSeriesPerMetric: number);
    register(name: string, def: MetricDefinition): void;
    inc(name: string, labels?: Labels, n?: number): void;
    set(name: string, labels: Labels, value: number): void;
    private series;
    toText(): string;
    /** Counters as totals, or as the change since the last delta (zero changes left out). */
    figures(delta: boolean): SeriesFigure[];
}
