import { DurablePublishes } from './durable-publishes.js';
export class EmbeddedLink {
    #broker;
    #publishes;
    #closing = false;
    #onMessage;
    constructor(broker, store, onMessage, onInflight) {
        this.#broker = broker;
        this.#publishes = new DurablePublishes(store, onInflight);
        this.#publishes.attach({
            ready: () => !this.#closing,
            send: (p, done) => { this.#deliver(p, done); }
        });
        this.#onMessage = onMessage;
        broker.onPublish(async (msg) => {
            // Refused while closing: the publisher keeps the message for its next connection.
            if (this.#closing)
                throw new Error('agent closing');
            await onMessage(msg);
        });
    }
    async subscribe() { }
    async start() {
        this.#publishes.kick();
    }
    send(p) {
        if (p.qos === 1 && p.id !== undefined)
            this.#publishes.offer({ ...p, id: p.id });
        else
            this.#deliver(p, () => { });
    }
    #deliver(p, done) {
        const payload = Buffer.from(p.payload);
        // Publishes from inside skip aedes's publish hook; functions subscribed to the topic must
        // still see them, as they would through an external broker.
        if (!this.#closing)
            void this.#onMessage({ topic: p.topic, payload, qos: p.qos, retain: p.retain }).catch(() => { });
        this.#broker.publish(p.topic, payload, p.qos, p.retain, done);
    }
    stopAccepting() {
        this.#closing = true;
    }
    async close() {
        this.#closing = true;
        await this.#publishes.close();
    }
}
//# sourceMappingURL=embedded-link.js.map