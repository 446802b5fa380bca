// The figures of one function over one span of time (since start, or since the last delta),
// and the rules that turn an invocation report into them.
import { ErrorCodes } from '../../src/errors.js';
import { Histogram } from './histogram.js';
const BYTES_PER_GB = 1024 ** 3;
/** Codes past a function's cap are folded into this one, since a function can choose its own codes. */
export const OTHER_CODE = 'other';
/** A failed report with no code at all. */
export const UNKNOWN_CODE = 'unknown';
/** Reported numbers come from worker messages; a bad one must not turn a sum into NaN. */
function clean(n) {
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}
/**
 * Lambda bills memory (in GB of 1024 MiB) times duration rounded up to the next millisecond;
 * we follow it so figures compare with a Lambda bill.
 */
export function gbSecondsOf(memoryLimitBytes, durationMs) {
    return (clean(memoryLimitBytes) / BYTES_PER_GB) * (Math.ceil(clean(durationMs)) / 1000);
}
export class FunctionStats {
    maxCodes;
    invocations = 0;
    errors = new Map();
    throttles = 0;
    timeouts = 0;
    coldStarts = 0;
    duration;
    instructions = 0;
    memoryHighWaterBytes = 0;
    gbSeconds = 0;
    constructor(bounds, maxCodes) {
        this.maxCodes = maxCodes;
        this.duration = new Histogram(bounds);
    }
    record(r, code) {
        this.invocations++;
        if (!r.ok) {
            const c = code ?? UNKNOWN_CODE;
            const key = this.errors.has(c) || this.errors.size < this.maxCodes ? c : OTHER_CODE;
            this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
            if (c === ErrorCodes.TIMEOUT)
                this.timeouts++;
        }
        if (r.coldStart === true)
            this.coldStarts++;
        const durationMs = clean(r.durationMs);
        this.duration.observe(durationMs / 1000);
        this.instructions += clean(r.instructions);
        this.memoryHighWaterBytes = Math.max(this.memoryHighWaterBytes, clean(r.memoryBytes));
        this.gbSeconds += gbSecondsOf(clean(r.memoryLimitBytes), durationMs);
    }
    figures() {
        return {
            invocations: this.invocations,
            errors: Object.fromEntries([...this.errors].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)),
            throttles: this.throttles,
            timeouts: this.timeouts,
            coldStarts: this.coldStarts,
            durationSeconds: this.duration.data(),
            instructions: this.instructions,
            memoryHighWaterBytes: this.memoryHighWaterBytes,
            gbSeconds: this.gbSeconds
        };
    }
}
//# sourceMappingURL=function-stats.js.map