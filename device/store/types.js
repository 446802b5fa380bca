// The outbox store's data shapes: record kinds and their drop priority, commit units,
// what read/stats/pendingPublishes return. Shared by every backend and the abstract suite.
/** What a buffered record is. Order is drop priority: the first is dropped first when full. */
export const RECORD_KINDS = Object.freeze(['log', 'metric', 'emit', 'result', 'dead-letter']);
/** Lower drops first. */
export const KIND_PRIORITY = Object.freeze({
    log: 0, metric: 1, emit: 2, result: 3, 'dead-letter': 4
});
export function isRecordKind(k) {
    return typeof k === 'string' && RECORD_KINDS.includes(k);
}
export function emptyByKind(make) {
    return Object.fromEntries(RECORD_KINDS.map((k) => [k, make()]));
}
//# sourceMappingURL=types.js.map