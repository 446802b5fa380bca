// Agent-wide counters and gauges that other parts bump by name (outbox drops, sensor errors,
// wire rejects). Each metric is registered once with its HELP text, type and label names.
import { ErrorCodes, LambkinError } from '../../src/errors.js';
import { assertLabelNames, assertMetricName, formatLabels, formatValue, headerLines } from './exposition.js';
export const METRIC_PREFIX = 'lambkin_';
/** `outbox_dropped_total` and `lambkin_outbox_dropped_total` name the same metric. */
export function fullName(name) {
    return name.startsWith(METRIC_PREFIX) ? name : METRIC_PREFIX + name;
}
export class AgentSeries {
    reserved;
    maxSeriesPerMetric;
    families = new Map();
    /** Series refused by the cardinality cap, by metric; itself capped by the number of metrics. */
    dropped = new Map();
    constructor(reserved, maxSeriesPerMetric) {
        this.reserved = reserved;
        this.maxSeriesPerMetric = maxSeriesPerMetric;
    }
    register(name, def) {
        const full = fullName(name);
        assertMetricName(full);
        if (this.reserved.has(full)) {
            throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" is a per-function metric kept by FunctionMetrics; pick another name`, { details: { name: full } });
        }
        if (def.type !== 'counter' && def.type !== 'gauge') {
            throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" must be a counter or a gauge, got ${String(def.type)}`, { details: { name: full } });
        }
        const labelNames = Object.freeze([...(def.labelNames ?? [])]);
        assertLabelNames(full, Object.fromEntries(labelNames.map((l) => [l, ''])));
        const existing = this.families.get(full);
        if (existing !== undefined) {
            // Registering again is how two parts share a metric; the first HELP text stays.
            if (existing.type !== def.type || existing.labelNames.join(',') !== labelNames.join(',')) {
                throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" is already registered as a ${existing.type} with labels [${existing.labelNames.join(', ')}]`, { details: { name: full } });
            }
            return;
        }
        this.families.set(full, { name: full, type: def.type, help: def.help, labelNames, series: new Map() });
    }
    inc(name, labels = {}, n = 1) {
        if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
            throw new LambkinError(ErrorCodes.USAGE, `counter "${fullName(name)}" can only go up by a finite amount, got ${String(n)}`, { details: { name: fullName(name) } });
        }
        const s = this.series(name, 'counter', labels);
        if (s !== undefined)
            s.value += n;
    }
    set(name, labels, value) {
        if (typeof value !== 'number') {
            throw new LambkinError(ErrorCodes.USAGE, `gauge "${fullName(name)}" needs a number, got ${typeof value}`, { details: { name: fullName(name) } });
        }
        const s = this.series(name, 'gauge', labels);
        if (s !== undefined)
            s.value = value;
    }
    series(name, type, labels) {
        const full = fullName(name);
        const fam = this.families.get(full);
        if (fam === undefined) {
            throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" is not registered; call register("${name}", { type, help, labelNames }) when the component starts`, { details: { name: full } });
        }
        if (fam.type !== type) {
            throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" is a ${fam.type}; use ${fam.type === 'counter' ? 'inc' : 'set'}()`, { details: { name: full } });
        }
        const keys = Object.keys(labels);
        if (keys.length !== fam.labelNames.length || fam.labelNames.some((l) => typeof labels[l] !== 'string')) {
            throw new LambkinError(ErrorCodes.USAGE, `metric "${full}" takes labels [${fam.labelNames.join(', ')}], got [${keys.join(', ')}]`, { details: { name: full } });
        }
        const values = fam.labelNames.map((l) => labels[l]);
        const key = JSON.stringify(values);
        let s = fam.series.get(key);
        if (s === undefined) {
            if (fam.series.size >= this.maxSeriesPerMetric) {
                this.dropped.set(full, (this.dropped.get(full) ?? 0) + 1);
                return undefined;
            }
            s = { labels: Object.freeze(Object.fromEntries(fam.labelNames.map((l, i) => [l, values[i]]))), value: 0, reported: 0 };
            fam.series.set(key, s);
        }
        return s;
    }
    toText() {
        let out = '';
        for (const fam of this.families.values()) {
            if (fam.series.size === 0)
                continue;
            out += headerLines(fam.name, fam.type, fam.help);
            for (const s of fam.series.values())
                out += `${fam.name}${formatLabels(s.labels)} ${formatValue(s.value)}\n`;
        }
        if (this.dropped.size > 0) {
            const name = `${METRIC_PREFIX}metrics_series_dropped_total`;
            out += headerLines(name, 'counter', 'Label sets refused because a metric reached its series cap (maxSeriesPerMetric), by metric.');
            for (const [metric, n] of this.dropped)
                out += `${name}${formatLabels({ metric })} ${n}\n`;
        }
        return out;
    }
    /** Counters as totals, or as the change since the last delta (zero changes left out). */
    figures(delta) {
        const out = [];
        for (const fam of this.families.values()) {
            for (const s of fam.series.values()) {
                if (fam.type === 'gauge') {
                    out.push({ name: fam.name, type: 'gauge', labels: { ...s.labels }, value: s.value });
                    continue;
                }
                const value = delta ? s.value - s.reported : s.value;
                if (delta)
                    s.reported = s.value;
                if (!delta || value !== 0)
                    out.push({ name: fam.name, type: 'counter', labels: { ...s.labels }, value });
            }
        }
        return out;
    }
}
//# sourceMappingURL=agent-series.js.map