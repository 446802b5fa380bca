// Choosing what to drop when a write would take the outbox over its byte quota: the oldest
// records of the lowest-priority kind first, then the next kind, counting the batch's own new
// records as the newest of their kind. Pending QoS 1 publishes count too, and go after emits.
import { RECORD_KINDS } from './types.js';
/**
 * Pending publishes are dropped right after this record kind, before results and dead
 * letters: a publish still waiting when the outbox is full has waited long, and the
 * invocation's result records that it was made. A commit's own publishes are never dropped.
 */
export const PUBLISH_DROP_AFTER = 'emit';
/**
 * Updates `ledger` (a working copy that already counts `fresh`) until it fits `quotaBytes`.
 * `storedCount` is, per kind, how many records of that kind are in the database.
 */
export async function selectVictims(ledger, fresh, storedCount, quotaBytes, scan, scanPublishes, storedPublishes) {
    const out = { stored: [], fresh: 0, publishes: [] };
    for (const kind of RECORD_KINDS) {
        if (ledger.quotaBytes() <= quotaBytes)
            break;
        let left = storedCount[kind];
        if (left > 0) {
            // for-await closes the scan's iterator on break.
            for await (const e of scan(ledger.cursor[kind])) {
                if (e.kind !== kind)
                    continue;
                out.stored.push(e);
                drop(ledger, kind, e.bytes);
                ledger.cursor[kind] = e.seq + 1;
                left--;
                if (left === 0 || ledger.quotaBytes() <= quotaBytes)
                    break;
            }
        }
        for (const e of fresh) {
            if (ledger.quotaBytes() <= quotaBytes)
                break;
            if (e.kind !== kind || e.dropped)
                continue;
            e.dropped = true;
            out.fresh++;
            drop(ledger, kind, e.bytes);
            ledger.cursor[kind] = e.seq + 1;
        }
        if (kind === PUBLISH_DROP_AFTER)
            await dropPublishes(ledger, quotaBytes, scanPublishes, storedPublishes, out);
    }
    return out;
}
async function dropPublishes(ledger, quotaBytes, scan, stored, out) {
    let left = stored;
    if (left <= 0 || ledger.quotaBytes() <= quotaBytes)
        return;
    for await (const p of scan(ledger.publishCursor)) {
        out.publishes.push(p);
        ledger.publishes.count--;
        ledger.publishes.bytes -= p.bytes;
        ledger.droppedPublishes++;
        ledger.publishCursor = p.id + 1;
        left--;
        if (left === 0 || ledger.quotaBytes() <= quotaBytes)
            break;
    }
}
function drop(ledger, kind, bytes) {
    ledger.remove(kind, bytes);
    ledger.dropped[kind]++;
}
//# sourceMappingURL=quota.js.map