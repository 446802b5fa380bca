/**
 * QoS 1 publishes handed to the client and not yet acknowledged. MQTT.js keeps these in
 * memory (and sends them again after a reconnect), so this bounds that memory: at most
 * WINDOW x the 128 KiB publish cap.
 */
export const PUBLISH_WINDOW = 64;
export class DurablePublishes {
    #store;
    #window;
    #sink;
    /** Ids handed to the sink and not yet acknowledged. */
    #inflight = new Set();
    /** Ids acknowledged whose removal from the store has not finished. */
    #removing = new Set();
    #removals = new Set();
    /** The store may hold publishes not yet handed over (true at start: a previous run's). */
    #backlog = true;
    /** Ids up to here have been handed over since the backlog began (0: read from the start). */
    #cursor = 0;
    #pumping;
    #again = false;
    #closed = false;
    #onInflight;
    /** `onInflight` hears the number of publishes handed over and not yet acknowledged, on each change. */
    constructor(store, onInflight = () => { }, window = PUBLISH_WINDOW) {
        this.#store = store;
        this.#window = window;
        this.#onInflight = onInflight;
    }
    /** Connects the sink; call kick() when it becomes ready. */
    attach(sink) {
        this.#sink = sink;
    }
    get inflight() { return this.#inflight.size; }
    /**
     * A publish just committed with store id `p.id`. It goes out at once if the window has
     * room and nothing older waits in the store; otherwise it waits there (not in memory).
     */
    offer(p) {
        const sink = this.#sink;
        if (this.#closed || sink === undefined)
            return;
        if (!this.#backlog && this.#pumping === undefined && sink.ready() && this.#inflight.size < this.#window) {
            this.#send(sink, p);
            return;
        }
        this.#backlog = true;
        this.kick();
    }
    /** Sends what waits in the store, while the sink is ready and the window has room. */
    kick() {
        if (this.#pumping !== undefined) {
            this.#again = true;
            return;
        }
        if (!this.#backlog || this.#closed || this.#sink?.ready() !== true)
            return;
        this.#pumping = this.#pump().catch(() => {
            // The store failed to read: leave the backlog flagged; the next ack or connect tries again.
        }).finally(() => {
            this.#pumping = undefined;
            if (this.#again) {
                this.#again = false;
                this.kick();
            }
        });
    }
    async #pump() {
        for (;;) {
            this.#again = false;
            const sink = this.#sink;
            const room = this.#window - this.#inflight.size;
            if (!this.#backlog || this.#closed || !sink.ready() || room <= 0)
                return;
            // Reads only what lies past the cursor: payloads in flight are not loaded a second time.
            const pending = await this.#store.pendingPublishes({ afterId: this.#cursor, limit: room });
            let sent = 0;
            for (const p of pending) {
                if (!sink.ready()) {
                    this.#again = false;
                    return;
                }
                this.#cursor = p.id;
                // Sent directly by offer() before the backlog began, or acknowledged and being removed.
                if (this.#inflight.has(p.id) || this.#removing.has(p.id))
                    continue;
                this.#send(sink, { topic: p.topic, payload: p.payload, qos: 1, retain: p.retain, id: p.id });
                sent++;
            }
            // Everything the store holds has been handed over: new publishes may go out directly.
            if (pending.length < room && !this.#again) {
                this.#backlog = false;
                return;
            }
            if (sent === 0 && pending.length === 0 && !this.#again)
                return;
        }
    }
    #send(sink, p) {
        this.#inflight.add(p.id);
        this.#onInflight(this.#inflight.size);
        sink.send(p, (err) => {
            this.#inflight.delete(p.id);
            this.#onInflight(this.#inflight.size);
            if (err !== undefined) {
                // Never acknowledged (the client was closed): it stays in the store, read again from the start.
                this.#backlog = true;
                this.#cursor = 0;
                return;
            }
            this.#acknowledged(p.id);
            this.kick();
        });
    }
    #acknowledged(id) {
        this.#removing.add(id);
        const removal = this.#store.removePublish(id).catch(() => { }).finally(() => this.#removing.delete(id));
        this.#removals.add(removal);
        void removal.finally(() => this.#removals.delete(removal));
    }
    /** Stops sending and waits for removals of acknowledged publishes, so the store closes last. */
    async close() {
        this.#closed = true;
        await this.#pumping;
        await Promise.all(this.#removals);
    }
}
//# sourceMappingURL=durable-publishes.js.map