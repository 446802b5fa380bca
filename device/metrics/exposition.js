// Prometheus text exposition format 0.0.4: name and label rules, escaping, number formatting.
// Kept apart from the registry so the escaping rules live in one place and are tested once.
import { ErrorCodes, LambkinError } from '../../src/errors.js';
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export function assertMetricName(name) {
    if (!METRIC_NAME.test(name)) {
        throw new LambkinError(ErrorCodes.USAGE, `metric name "${name}" is not a valid Prometheus name; use letters, digits and underscores, not starting with a digit`, { details: { name } });
    }
}
export function assertLabelNames(metric, labels) {
    for (const key of Object.keys(labels)) {
        // Names starting with __ are reserved for Prometheus itself; "le" belongs to histograms.
        if (!LABEL_NAME.test(key) || key.startsWith('__') || key === 'le') {
            throw new LambkinError(ErrorCodes.USAGE, `label "${key}" on metric "${metric}" is not a valid Prometheus label name`, { details: { metric, label: key } });
        }
        if (typeof labels[key] !== 'string') {
            throw new LambkinError(ErrorCodes.USAGE, `label "${key}" on metric "${metric}" must be a string, got ${typeof labels[key]}`, { details: { metric, label: key } });
        }
    }
}
/** Label values escape backslash, double quote and line feed (format 0.0.4). */
export function escapeLabelValue(value) {
    return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
/** HELP text escapes only backslash and line feed. */
export function escapeHelp(text) {
    return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
export function formatValue(v) {
    if (Number.isNaN(v))
        return 'NaN';
    if (v === Infinity)
        return '+Inf';
    if (v === -Infinity)
        return '-Inf';
    return String(v);
}
/** `{a="x",b="y"}` in the labels' own order (the registered order); '' when there are none. */
export function formatLabels(labels, extra) {
    const parts = Object.keys(labels).map((k) => `${k}="${escapeLabelValue(labels[k])}"`);
    if (extra !== undefined)
        parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
    return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}
export function headerLines(name, type, help) {
    return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}
//# sourceMappingURL=exposition.js.map