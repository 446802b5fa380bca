/** Upper bounds in seconds: from half a millisecond (a warm QuickJS call) to ten seconds. */
export declare const DEFAULT_BUCKETS_SECONDS: readonly number[];
export declare function validateBuckets(bounds: readonly number[]): readonly number[];
export interface HistogramData {
    count: number;
    /** Sum of observed values, in seconds. */
    sum: number;
    /** Largest observed value in seconds (0 when empty). */
    max: number;
    /** One count per bound, plus a last one for values above every bound (+Inf). Not cumulative. */
    counts: number[];
}
export declare class Histogram {
    readonly bounds: readonly number[];
    private readonly counts;
    private sum;
    private count;
    private max;
    constructor(bounds: readonly number[]);
    observe(seconds: number): void;
    data(): HistogramData;
    /** Cumulative counts per bound followed by the +Inf count, as Prometheus wants them. */
    cumulative(): number[];
}
