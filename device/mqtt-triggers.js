// Routes trigger-broker messages to the functions whose `mqtt` filters match. A QoS 1 message
// settles (and so is acknowledged) only after its invocations committed. Batched triggers keep
// their pending records in the store's meta, written before the message is acknowledged and
// replaced in the same commit as the batch's results, so neither a crash nor a restart loses
// a record that was acknowledged.
import { isValidTopicName, levelsMatch } from '../src/function/index.js';
import { decodePayload } from './trigger-message.js';
export class MqttTriggers {
    #o;
    #routes = [];
    #closed = false;
    constructor(opts) {
        this.#o = opts;
    }
    add(fn, trigger, index) {
        const route = { fn, trigger, levels: trigger.mqtt.split('/') };
        if (trigger.batch !== undefined)
            route.batch = { key: `batch:${fn}:${index}`, pending: [], inflight: [], timer: undefined, flushing: undefined };
        this.#routes.push(route);
    }
    /** Every filter to subscribe to, at the highest QoS any function asks of it. */
    filters() {
        const out = new Map();
        for (const r of this.#routes)
            out.set(r.trigger.mqtt, Math.max(out.get(r.trigger.mqtt) ?? 0, r.trigger.qos));
        return out;
    }
    async subscribe(link) {
        await link.subscribe(this.filters());
    }
    /** Reloads batch records acknowledged before a restart and schedules their flush. */
    async restore() {
        for (const r of this.#routes) {
            if (r.batch === undefined)
                continue;
            const saved = await this.#o.store.getMeta(r.batch.key);
            if (Array.isArray(saved) && saved.length > 0) {
                r.batch.pending.push(...saved);
                this.#arm(r);
            }
        }
    }
    async onMessage({ topic, payload, qos }) {
        const time = this.#o.clock.now();
        const decoded = decodePayload(payload);
        const work = [];
        // A topic that is no valid name (wildcards, empty) matches no filter.
        const levels = isValidTopicName(topic) ? topic.split('/') : undefined;
        for (const r of this.#routes) {
            if (levels === undefined || !levelsMatch(r.levels, levels))
                continue;
            if (r.batch !== undefined) {
                work.push(this.#append(r, { topic, payload: decoded, qos, time }));
            }
            else {
                // QoS 0 may be dropped under overload (counted); QoS 1 waits, holding its ack back.
                work.push(this.#o.invoker.run(r.fn, { source: 'mqtt', time, topic, payload: decoded, qos }, { overload: qos === 0 ? 'throttle' : 'wait' }));
            }
        }
        // QoS 0 carries no acknowledgement to hold back: let the next message in at once.
        if (qos === 0)
            return;
        await Promise.all(work);
    }
    async #append(r, rec) {
        const b = r.batch;
        b.pending.push(rec);
        try {
            await this.#o.store.commit({ meta: [{ key: b.key, value: [...b.inflight, ...b.pending] }] });
        }
        catch (err) {
            // Not durable, so not acknowledged: the broker sends it again, and it must not be here twice.
            const i = b.pending.indexOf(rec);
            if (i >= 0)
                b.pending.splice(i, 1);
            throw err;
        }
        if (b.pending.length >= r.trigger.batch.size)
            void this.#flush(r);
        else
            this.#arm(r);
    }
    #arm(r) {
        const b = r.batch;
        if (b.timer !== undefined || this.#closed)
            return;
        b.timer = this.#o.clock.setTimeout(() => {
            b.timer = undefined;
            void this.#flush(r);
        }, r.trigger.batch.windowMs);
    }
    async #flush(r) {
        const b = r.batch;
        while (b.flushing !== undefined)
            await b.flushing;
        if (b.pending.length === 0 || this.#closed)
            return;
        if (b.timer !== undefined) {
            this.#o.clock.clearTimeout(b.timer);
            b.timer = undefined;
        }
        const size = r.trigger.batch.size;
        b.inflight = b.pending.splice(0, size);
        const records = b.inflight;
        let failed = false;
        b.flushing = (async () => {
            // The meta write is built at commit time, so records appended meanwhile stay durable.
            try {
                await this.#o.invoker.run(r.fn, { source: 'mqtt', time: this.#o.clock.now(), records }, {
                    meta: () => [{ key: b.key, value: [...b.pending] }]
                });
            }
            catch (err) {
                // The commit failed, so the stored batch still holds these records: keep them first in
                // line and try again after the window (the store may work again by then).
                b.pending.unshift(...records);
                failed = true;
                this.#o.log(`batch for ${r.fn} not stored, retrying in ${r.trigger.batch.windowMs} ms: ${err.message}`);
            }
            b.inflight = [];
        })();
        try {
            await b.flushing;
        }
        finally {
            b.flushing = undefined;
        }
        // After a failure wait for the window rather than retry at once: nothing loops hot.
        if (b.pending.length >= size && !failed)
            void this.#flush(r);
        else if (b.pending.length > 0)
            this.#arm(r);
    }
    /** Stops batch timers; pending batch records stay in the store for the next start. */
    async close() {
        this.#closed = true;
        for (const r of this.#routes) {
            if (r.batch?.timer !== undefined)
                this.#o.clock.clearTimeout(r.batch.timer);
            if (r.batch?.flushing !== undefined)
                await r.batch.flushing;
        }
    }
}
//# sourceMappingURL=mqtt-triggers.js.map