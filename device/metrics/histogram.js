// A fixed-bucket histogram of durations in seconds. Counts are kept per bucket (not
// cumulative) so two intervals add up by plain addition; Prometheus output makes them cumulative.
import { ErrorCodes, LambkinError } from '../../src/errors.js';
/** Upper bounds in seconds: from half a millisecond (a warm QuickJS call) to ten seconds. */
export const DEFAULT_BUCKETS_SECONDS = Object.freeze([
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
]);
export function validateBuckets(bounds) {
    if (!Array.isArray(bounds) || bounds.length === 0 || bounds.length > 64) {
        throw new LambkinError(ErrorCodes.CONFIG_INVALID, 'metrics option "bucketsSeconds" must be a list of 1 to 64 upper bounds in seconds', { details: { key: 'bucketsSeconds' } });
    }
    for (let i = 0; i < bounds.length; i++) {
        const b = bounds[i];
        if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= bounds[i - 1])) {
            throw new LambkinError(ErrorCodes.CONFIG_INVALID, `metrics option "bucketsSeconds" must be positive, finite and strictly increasing; entry ${i} is ${String(b)}`, { details: { key: 'bucketsSeconds', index: i } });
        }
    }
    return Object.freeze([...bounds]);
}
export class Histogram {
    bounds;
    counts;
    sum = 0;
    count = 0;
    max = 0;
    constructor(bounds) {
        this.bounds = bounds;
        this.counts = new Array(bounds.length + 1).fill(0);
    }
    observe(seconds) {
        let i = 0;
        // Linear scan: 14 buckets, and most calls land in the first few.
        while (i < this.bounds.length && seconds > this.bounds[i])
            i++;
        this.counts[i] = this.counts[i] + 1;
        this.sum += seconds;
        this.count++;
        if (seconds > this.max)
            this.max = seconds;
    }
    data() {
        return { count: this.count, sum: this.sum, max: this.max, counts: [...this.counts] };
    }
    /** Cumulative counts per bound followed by the +Inf count, as Prometheus wants them. */
    cumulative() {
        let acc = 0;
        return this.counts.map((c) => (acc += c));
    }
}
//# sourceMappingURL=histogram.js.map