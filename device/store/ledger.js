// The store's in-memory books: bytes and counts per kind, seq and publish-id high-water marks,
// drop/expiry counters and quota scan cursors. A write works on a copy and swaps it in on
// success, so a failed batch leaves the books as they were.
import { RECORD_KINDS, emptyByKind } from './types.js';
export class Ledger {
    tally = emptyByKind(() => ({ count: 0, bytes: 0 }));
    lastSeq = 0;
    lastPublishId = 0;
    dropped = emptyByKind(() => 0);
    expired = 0;
    /** Publishes waiting for their broker's PUBACK: they count against the quota too. */
    publishes = { count: 0, bytes: 0 };
    droppedPublishes = 0;
    /** The lowest publish id that may still be stored (quota scans start here). */
    publishCursor = 1;
    /** Per kind, the lowest seq that may still hold a record of that kind (quota scans start here). */
    cursor = emptyByKind(() => 1);
    clone() {
        const c = new Ledger();
        c.tally = emptyByKind(() => ({ count: 0, bytes: 0 }));
        for (const k of RECORD_KINDS)
            c.tally[k] = { ...this.tally[k] };
        c.lastSeq = this.lastSeq;
        c.lastPublishId = this.lastPublishId;
        c.dropped = { ...this.dropped };
        c.expired = this.expired;
        c.publishes = { ...this.publishes };
        c.droppedPublishes = this.droppedPublishes;
        c.publishCursor = this.publishCursor;
        c.cursor = { ...this.cursor };
        return c;
    }
    add(kind, bytes) {
        this.tally[kind].count++;
        this.tally[kind].bytes += bytes;
    }
    remove(kind, bytes) {
        this.tally[kind].count--;
        this.tally[kind].bytes -= bytes;
    }
    /** Bytes of records (what `stats().bytes` reports). */
    totalBytes() {
        let n = 0;
        for (const k of RECORD_KINDS)
            n += this.tally[k].bytes;
        return n;
    }
    /** What the quota counts: records and pending publishes. */
    quotaBytes() {
        return this.totalBytes() + this.publishes.bytes;
    }
    totalCount() {
        let n = 0;
        for (const k of RECORD_KINDS)
            n += this.tally[k].count;
        return n;
    }
    counters() {
        return { lastSeq: this.lastSeq, lastPublishId: this.lastPublishId, dropped: { ...this.dropped }, expired: this.expired, droppedPublishes: this.droppedPublishes };
    }
    /** Takes persisted counters, tolerating missing fields from an older or empty store. */
    restore(c) {
        if (c === undefined || c === null || typeof c !== 'object')
            return;
        if (Number.isSafeInteger(c.lastSeq))
            this.lastSeq = c.lastSeq;
        if (Number.isSafeInteger(c.lastPublishId))
            this.lastPublishId = c.lastPublishId;
        if (Number.isSafeInteger(c.expired))
            this.expired = c.expired;
        if (Number.isSafeInteger(c.droppedPublishes))
            this.droppedPublishes = c.droppedPublishes;
        for (const k of RECORD_KINDS) {
            const n = c.dropped?.[k];
            if (Number.isSafeInteger(n))
                this.dropped[k] = n;
        }
    }
}
//# sourceMappingURL=ledger.js.map