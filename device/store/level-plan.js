// Turns queued writes into the operations of one LevelDB batch, updating a working copy of
// the books: seq/id assignment, quota drops, acks, deletes, TTL purges.
import { encodeValue } from './codec.js';
import { parsePublishKey, parseRecordKey, publishKey, recordKey, seqKey } from './keys.js';
import { selectVictims } from './quota.js';
import { RECORD_KINDS, emptyByKind } from './types.js';
export async function planCommits(ctx, units) {
    const { subs, ledger, ops } = ctx;
    const storedCount = emptyByKind(() => 0);
    for (const k of RECORD_KINDS)
        storedCount[k] = ledger.tally[k].count;
    const storedPublishes = ledger.publishes.count;
    const fresh = [];
    // State and meta keys written by several units of one group: only the last value is put,
    // since a batch is atomic nobody could see the earlier ones (a busy function's calls commit
    // together, and each put costs the LevelDB binding ~1.4 us).
    const state = new Map();
    const meta = new Map();
    const results = units.map((u) => {
        const seqs = u.records.map((r) => {
            const seq = ++ledger.lastSeq;
            fresh.push({ seq, kind: r.kind, bytes: r.value.length, key: recordKey(seq, r.kind, r.value.length), value: r.value, dropped: false });
            ledger.add(r.kind, r.value.length);
            return seq;
        });
        // Units are taken in arrival order, so a later unit's state wins.
        for (const s of u.state) {
            state.delete(s.fn);
            state.set(s.fn, s.value);
        }
        const publishIds = u.publishes.map((value) => {
            const id = ++ledger.lastPublishId;
            ledger.publishes.count++;
            ledger.publishes.bytes += value.length;
            ops.push({ type: 'put', sublevel: subs.publishes, key: publishKey(id, value.length), value });
            return id;
        });
        for (const m of u.meta) {
            meta.delete(m.key);
            meta.set(m.key, m.value);
        }
        return { seqs, publishIds };
    });
    for (const [key, value] of state)
        ops.push(value === null ? { type: 'del', sublevel: subs.state, key } : { type: 'put', sublevel: subs.state, key, value });
    for (const [key, value] of meta)
        ops.push(value === null ? { type: 'del', sublevel: subs.meta, key } : { type: 'put', sublevel: subs.meta, key, value });
    if (ledger.quotaBytes() > ctx.quotaBytes) {
        const victims = await selectVictims(ledger, fresh, storedCount, ctx.quotaBytes, ctx.scan, ctx.scanPublishes, storedPublishes);
        for (const v of victims.stored)
            ops.push({ type: 'del', sublevel: subs.records, key: v.key });
        for (const p of victims.publishes)
            ops.push({ type: 'del', sublevel: subs.publishes, key: p.key });
    }
    for (const e of fresh)
        if (!e.dropped)
            ops.push({ type: 'put', sublevel: subs.records, key: e.key, value: e.value });
    return results;
}
export async function planAck(ctx, seq) {
    const { subs, ledger, ops } = ctx;
    let n = 0;
    for await (const key of subs.records.keys({ lt: seqKey(seq + 1) })) {
        const k = parseRecordKey(key);
        ops.push({ type: 'del', sublevel: subs.records, key });
        ledger.remove(k.kind, k.bytes);
        n++;
    }
    // Nothing of any kind is left at or below seq; never move a cursor past records yet to come.
    const floor = Math.min(seq, ledger.lastSeq) + 1;
    for (const k of RECORD_KINDS)
        ledger.cursor[k] = Math.max(ledger.cursor[k], floor);
    return n;
}
export async function planDelete(ctx, seqs) {
    const { subs, ledger, ops } = ctx;
    const found = await Promise.all(seqs.map(async (s) => await subs.records.keys({ gte: seqKey(s), lt: seqKey(s + 1), limit: 1 }).all()));
    let n = 0;
    for (const keys of found) {
        for (const key of keys) {
            const k = parseRecordKey(key);
            ops.push({ type: 'del', sublevel: subs.records, key });
            ledger.remove(k.kind, k.bytes);
            n++;
        }
    }
    return n;
}
/** Expired records found by a read; some may have been acked or deleted since. */
export async function planPurge(ctx, keys) {
    const { subs, ledger, ops } = ctx;
    const present = await subs.records.hasMany(keys);
    let n = 0;
    keys.forEach((key, i) => {
        if (present[i] !== true)
            return;
        const k = parseRecordKey(key);
        ops.push({ type: 'del', sublevel: subs.records, key });
        ledger.remove(k.kind, k.bytes);
        ledger.expired++;
        n++;
    });
    return n;
}
export async function planUnpublish(ctx, id) {
    const { subs, ledger, ops } = ctx;
    // Acked, or dropped for quota meanwhile: nothing to do.
    const [entry] = await subs.publishes.iterator({ gte: seqKey(id), lt: seqKey(id + 1), limit: 1 }).all();
    if (entry === undefined)
        return 0;
    const [key, value] = entry;
    ops.push({ type: 'del', sublevel: subs.publishes, key });
    ledger.publishes.count--;
    ledger.publishes.bytes -= parsePublishKey(key).bytes ?? value.length;
    return 1;
}
export function encodeCounters(ctx, key) {
    return { type: 'put', sublevel: ctx.subs.sys, key, value: encodeValue(ctx.ledger.counters(), 'the store counters') };
}
/** Stored record keys in seq order from a seq, read in chunks; closes its iterator when left. */
export async function* scanKeys(records, fromSeq) {
    const it = records.keys({ gte: seqKey(fromSeq) });
    try {
        for (;;) {
            const keys = await it.nextv(256);
            if (keys.length === 0)
                return;
            for (const key of keys)
                yield { key, ...parseRecordKey(key) };
        }
    }
    finally {
        await it.close();
    }
}
/** Stored publishes in id order from an id, with their sizes (read from old-style values). */
export async function* scanPublishes(publishes, fromId) {
    const it = publishes.iterator({ gte: seqKey(fromId) });
    try {
        for (;;) {
            const entries = await it.nextv(64);
            if (entries.length === 0)
                return;
            for (const [key, value] of entries) {
                const k = parsePublishKey(key);
                yield { id: k.id, bytes: k.bytes ?? value.length, key };
            }
        }
    }
    finally {
        await it.close();
    }
}
//# sourceMappingURL=level-plan.js.map