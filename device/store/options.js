// Defaults and validation of the outbox store's options (one frozen object, clamped ranges).
import { ErrorCodes, LambkinError } from '../../src/errors.js';
import { RECORD_KINDS } from './types.js';
export const SYSTEM_CLOCK = Object.freeze({
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => { clearTimeout(h); }
});
export const STORE_DEFAULTS = Object.freeze({
    quotaBytes: 64 * 1024 * 1024,
    ttlMs: Object.freeze({}),
    syncIntervalMs: 200,
    createIfMissing: true,
    clock: SYSTEM_CLOCK
});
export const MAX_TTL_MS = 10 * 365 * 86_400_000;
const QUOTA_RANGE = [1024, 2 ** 40];
const SYNC_RANGE = [1, 3_600_000];
function bad(key, message) {
    return new LambkinError(ErrorCodes.CONFIG_INVALID, `outbox store option "${key}" ${message}`, { details: { key } });
}
function intIn(key, v, [min, max]) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        throw bad(key, `must be an integer between ${min} and ${max}, got ${String(v)}`);
    }
}
export function resolveStoreOptions(opts) {
    const o = { ...STORE_DEFAULTS, ...opts };
    if (typeof o.dir !== 'string' || o.dir === '')
        throw bad('dir', 'must name the agent data directory');
    intIn('quotaBytes', o.quotaBytes, QUOTA_RANGE);
    intIn('syncIntervalMs', o.syncIntervalMs, SYNC_RANGE);
    if (typeof o.createIfMissing !== 'boolean')
        throw bad('createIfMissing', 'must be true or false');
    if (o.ttlMs === null || typeof o.ttlMs !== 'object')
        throw bad('ttlMs', 'must be an object of per-kind TTLs, e.g. { "log": 86400000 }');
    for (const [kind, ttl] of Object.entries(o.ttlMs)) {
        if (!RECORD_KINDS.includes(kind))
            throw bad(`ttlMs.${kind}`, `is not a record kind (${RECORD_KINDS.join(', ')})`);
        if (ttl !== undefined)
            intIn(`ttlMs.${kind}`, ttl, [0, MAX_TTL_MS]);
    }
    const c = o.clock;
    if (c === null || typeof c !== 'object' || typeof c.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.clearTimeout !== 'function') {
        throw bad('clock', 'must have now(), setTimeout() and clearTimeout()');
    }
    return { ...o, ttlMs: { ...o.ttlMs } };
}
//# sourceMappingURL=options.js.map