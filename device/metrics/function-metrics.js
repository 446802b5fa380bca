// The agent's metrics registry: per-function invocation figures plus agent-wide series,
// exposed as Prometheus text and as JSON snapshots for the outbox.
import { ErrorCodes, LambkinError } from '../../src/errors.js';
import { AgentSeries, METRIC_PREFIX } from './agent-series.js';
import { formatLabels, formatValue, headerLines } from './exposition.js';
import { FunctionStats } from './function-stats.js';
import { DEFAULT_BUCKETS_SECONDS, validateBuckets } from './histogram.js';
export const METRICS_DEFAULTS = Object.freeze({
    bucketsSeconds: DEFAULT_BUCKETS_SECONDS,
    maxCodesPerFunction: 32,
    maxSeriesPerMetric: 1000,
    clock: Object.freeze({ now: () => Date.now() })
});
const RANGES = {
    maxCodesPerFunction: [1, 1000],
    maxSeriesPerMetric: [1, 100_000]
};
const P = METRIC_PREFIX;
/** The per-function families, in output order. Agent-wide metrics may not reuse these names. */
const FAMILIES = {
    invocations: `${P}invocations_total`,
    errors: `${P}errors_total`,
    throttles: `${P}throttles_total`,
    timeouts: `${P}timeouts_total`,
    coldStarts: `${P}cold_starts_total`,
    duration: `${P}duration_seconds`,
    instructions: `${P}instructions_total`,
    memory: `${P}memory_high_water_bytes`,
    gbSeconds: `${P}gb_seconds_total`
};
const RESERVED = new Set([
    ...Object.values(FAMILIES),
    `${FAMILIES.duration}_bucket`, `${FAMILIES.duration}_sum`, `${FAMILIES.duration}_count`,
    `${P}metrics_series_dropped_total`
]);
export class FunctionMetrics {
    options;
    totals = new Map();
    interval = new Map();
    agent;
    createdAt;
    intervalStart;
    constructor(opts = {}) {
        // Keys given as undefined keep their defaults, so callers can pass optional settings through.
        const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
        const merged = { ...METRICS_DEFAULTS, ...given };
        for (const [key, [min, max]] of Object.entries(RANGES)) {
            const v = merged[key];
            if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
                throw new LambkinError(ErrorCodes.CONFIG_INVALID, `metrics option "${key}" must be an integer between ${min} and ${max}, got ${String(v)}`, { details: { key } });
            }
        }
        if (typeof merged.clock?.now !== 'function') {
            throw new LambkinError(ErrorCodes.CONFIG_INVALID, 'metrics option "clock" must have a now() function', { details: { key: 'clock' } });
        }
        merged.bucketsSeconds = validateBuckets(merged.bucketsSeconds);
        this.options = Object.freeze(merged);
        this.agent = new AgentSeries(RESERVED, merged.maxSeriesPerMetric);
        this.createdAt = this.intervalStart = merged.clock.now();
    }
    /** Counts one invocation. A LAMBKIN_THROTTLED report counts as a throttle only. */
    record(fn, report) {
        const code = report.ok ? undefined : (report.code ?? report.error?.code);
        if (code === ErrorCodes.THROTTLED) {
            this.throttled(fn);
            return;
        }
        this.stats(this.totals, fn).record(report, code);
        this.stats(this.interval, fn).record(report, code);
    }
    /** A call refused because the function's queue or the agent was full; it never ran. */
    throttled(fn) {
        this.stats(this.totals, fn).throttles++;
        this.stats(this.interval, fn).throttles++;
    }
    register(name, def) { this.agent.register(name, def); }
    inc(name, labels, n) { this.agent.inc(name, labels, n); }
    set(name, labels, value) { this.agent.set(name, labels, value); }
    /** Function names seen so far, sorted. */
    functions() {
        return [...this.totals.keys()].sort();
    }
    stats(map, fn) {
        if (typeof fn !== 'string' || fn.length === 0) {
            throw new LambkinError(ErrorCodes.USAGE, `metrics need a function name, got ${JSON.stringify(fn)}`);
        }
        let s = map.get(fn);
        if (s === undefined) {
            s = new FunctionStats(this.options.bucketsSeconds, this.options.maxCodesPerFunction);
            map.set(fn, s);
        }
        return s;
    }
    /** Everything, as Prometheus text exposition format 0.0.4. */
    toPrometheus() {
        const fns = this.functions().map((name) => [name, this.totals.get(name)]);
        let out = '';
        const simple = (name, type, help, pick) => {
            if (fns.length === 0)
                return;
            out += headerLines(name, type, help);
            for (const [fn, s] of fns)
                out += `${name}${formatLabels({ function: fn })} ${formatValue(pick(s))}\n`;
        };
        simple(FAMILIES.invocations, 'counter', 'Invocations that reached a sandbox, by function (throttled calls are not invocations).', (s) => s.invocations);
        const failing = fns.filter(([, s]) => s.errors.size > 0);
        if (failing.length > 0) {
            out += headerLines(FAMILIES.errors, 'counter', 'Failed invocations, by function and lambkin error code.');
            for (const [fn, s] of failing) {
                for (const code of [...s.errors.keys()].sort()) {
                    out += `${FAMILIES.errors}${formatLabels({ function: fn, code })} ${s.errors.get(code)}\n`;
                }
            }
        }
        simple(FAMILIES.throttles, 'counter', 'Calls refused because the function or the agent was at its concurrency or queue limit.', (s) => s.throttles);
        simple(FAMILIES.timeouts, 'counter', 'Invocations stopped at their timeoutMs (also counted in lambkin_errors_total).', (s) => s.timeouts);
        simple(FAMILIES.coldStarts, 'counter', 'Invocations that had to build a fresh sandbox runtime.', (s) => s.coldStarts);
        if (fns.length > 0) {
            const h = FAMILIES.duration;
            out += headerLines(h, 'histogram', 'Invocation duration in seconds, by function.');
            for (const [fn, s] of fns) {
                const cum = s.duration.cumulative();
                const bounds = s.duration.bounds;
                for (let i = 0; i < bounds.length; i++) {
                    out += `${h}_bucket${formatLabels({ function: fn }, ['le', formatValue(bounds[i])])} ${cum[i]}\n`;
                }
                const data = s.duration.data();
                out += `${h}_bucket${formatLabels({ function: fn }, ['le', '+Inf'])} ${data.count}\n`;
                out += `${h}_sum${formatLabels({ function: fn })} ${formatValue(data.sum)}\n`;
                out += `${h}_count${formatLabels({ function: fn })} ${data.count}\n`;
            }
        }
        simple(FAMILIES.instructions, 'counter', 'Sandbox instructions used, by function (counted in interrupt polls; see the sandbox budget docs).', (s) => s.instructions);
        simple(FAMILIES.memory, 'gauge', 'Largest sandbox memory high-water seen, in bytes, by function.', (s) => s.memoryHighWaterBytes);
        simple(FAMILIES.gbSeconds, 'counter', 'Memory limit in GB (1024 MiB) times duration in seconds rounded up to 1 ms, summed (Lambda\'s billing unit).', (s) => s.gbSeconds);
        return out + this.agent.toText();
    }
    /** Totals since this registry was created: for `lambkin metrics` and local inspection. */
    snapshot() {
        return this.build('total', this.createdAt, this.totals, false);
    }
    /**
     * Figures since the previous call (or creation), then starts a new interval. This is what
     * the agent writes to the outbox: the cloud stores each record exactly once, so it gets
     * totals by adding deltas, with no reset detection after an agent restart, and each record
     * carries the memory high-water of its own interval. Functions with nothing recorded in the
     * interval are left out to keep records small. If the outbox drops a metric record under
     * quota pressure, that interval is lost and the outbox's own drop counter says so.
     */
    snapshotDelta() {
        const snap = this.build('delta', this.intervalStart, this.interval, true);
        this.interval = new Map();
        this.intervalStart = snap.to;
        return snap;
    }
    build(kind, from, map, delta) {
        const names = [...map.keys()].sort();
        return {
            v: 1,
            kind,
            from,
            to: this.options.clock.now(),
            bucketsSeconds: [...this.options.bucketsSeconds],
            functions: Object.fromEntries(names.map((n) => [n, map.get(n).figures()])),
            series: this.agent.figures(delta)
        };
    }
}
//# sourceMappingURL=function-metrics.js.map