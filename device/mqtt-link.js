// The agent's connection to its trigger broker (a LAN broker, or the agent's embedded aedes):
// one MQTT.js client with a persistent session. It starts whether or not the broker is up
// and keeps reconnecting; QoS 1 messages are acknowledged only after their effects are
// committed (mqtt-ack-hold.ts). Functions' publishes leave through the same client; QoS 1
// ones wait in the store, not in memory, until connected (durable-publishes.ts).
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { DurablePublishes } from './durable-publishes.js';
import { holdAcks } from './mqtt-ack-hold.js';
/** How long start() waits for the first connection attempt before the agent goes on without it. */
export const FIRST_ATTEMPT_MS = 10_000;
export class MqttLink {
    client;
    #closing = false;
    #sentQoS0Dropped = 0;
    #up = false;
    /** Whether the broker has our subscriptions (a session it kept, or a SUBACK this run). */
    #subscribed = false;
    #filters = new Map();
    #publishes;
    #opts;
    constructor(client, store, opts) {
        this.client = client;
        this.#opts = opts;
        this.#publishes = new DurablePublishes(store, opts.onInflight);
        this.#publishes.attach({
            ready: () => this.client.connected && !this.client.disconnecting,
            send: (p, done) => {
                this.client.publish(p.topic, typeof p.payload === 'string' ? p.payload : Buffer.from(p.payload), { qos: p.qos, retain: p.retain }, (err) => done(err ?? undefined));
            }
        });
    }
    /** Builds the client without connecting; start() connects. */
    static create(opts, store) {
        const c = opts.config;
        const options = {
            clientId: c.clientId,
            clean: false,
            keepalive: c.keepaliveSec,
            reconnectPeriod: c.reconnectMs,
            connectTimeout: FIRST_ATTEMPT_MS,
            // Subscriptions are made on connect by this link, only when the broker has no session.
            resubscribe: false,
            // A QoS 0 publish while away is dropped and counted, never queued in memory.
            queueQoSZero: false,
            username: c.username,
            password: c.password,
            rejectUnauthorized: c.rejectUnauthorized,
            ca: c.caFile === undefined ? undefined : readFileSync(c.caFile),
            cert: c.certFile === undefined ? undefined : readFileSync(c.certFile),
            key: c.keyFile === undefined ? undefined : readFileSync(c.keyFile),
            manualConnect: true
        };
        const link = new MqttLink(mqtt.connect(opts.url, options), store, opts);
        holdAcks(link.client, { onMessage: opts.onMessage, log: opts.log, closing: () => link.#closing });
        link.#watch();
        return link;
    }
    /** create() then start(): resolves connected, or degraded if the broker is not up. */
    static async connect(opts, store) {
        const link = MqttLink.create(opts, store);
        await link.start();
        return link;
    }
    get up() { return this.#up; }
    /** Logs each change of state once (not each retry) and tells onState. */
    #watch() {
        const { client } = this;
        const url = this.#opts.url;
        let lastError;
        client.on('error', (err) => { lastError = err.message; });
        client.on('connect', (connack) => {
            this.#up = true;
            lastError = undefined;
            if (!connack.sessionPresent)
                this.#subscribed = false;
            this.#opts.log(`trigger broker: connected to ${url}${connack.sessionPresent ? ' (session resumed)' : ''}`);
            this.#opts.onState?.(true);
            void this.#subscribeNow().then(() => this.#publishes.kick());
        });
        // Down is reported once per outage: when a live connection is lost, or when the first
        // attempt of a link that was never up fails; retries in between stay quiet.
        let reported = false;
        client.on('close', () => {
            if (this.#closing || reported)
                return;
            reported = true;
            const why = lastError === undefined ? '' : ` (${lastError})`;
            const every = this.#opts.config.reconnectMs;
            if (this.#up)
                this.#opts.log(`trigger broker: connection to ${url} lost${why}; retrying every ${every} ms, QoS 1 publishes wait in the store`);
            else
                this.#opts.log(`trigger broker: ${url} is not reachable${why}; the agent runs without it and retries every ${every} ms`);
            this.#up = false;
            this.#opts.onState?.(false);
        });
        client.on('connect', () => { reported = false; });
    }
    /** Connects; resolves after the first attempt succeeded (and subscribed) or failed. */
    async start() {
        const { client } = this;
        await new Promise((resolve) => {
            let timer;
            const done = () => {
                clearTimeout(timer);
                client.off('close', done);
                client.off('connect', onConnect);
                resolve();
            };
            const onConnect = () => { void this.#subscribeNow().finally(done); };
            timer = setTimeout(done, FIRST_ATTEMPT_MS);
            timer.unref();
            client.once('connect', onConnect);
            client.once('close', done);
            client.connect();
        });
    }
    async subscribe(filters) {
        this.#filters = new Map(filters);
        this.#subscribed = false;
        if (this.client.connected)
            await this.#subscribeNow();
    }
    #subscribing;
    async #subscribeNow() {
        if (this.#subscribed || this.#filters.size === 0 || !this.client.connected)
            return;
        this.#subscribing ??= (async () => {
            const subs = Object.fromEntries([...this.#filters].map(([f, qos]) => [f, { qos }]));
            try {
                await this.client.subscribeAsync(subs);
                this.#subscribed = true;
            }
            catch (err) {
                // Refused or cut off: the next connect tries again.
                this.#opts.log(`trigger broker: subscribing failed: ${err.message}`);
            }
            finally {
                this.#subscribing = undefined;
            }
        })();
        await this.#subscribing;
    }
    /** Sends a committed publish; a QoS 1 one leaves the store when the broker acknowledges it. */
    send(p) {
        if (p.qos === 0 || p.id === undefined) {
            if (!this.client.connected) {
                this.#sentQoS0Dropped++;
                return;
            }
            this.client.publish(p.topic, typeof p.payload === 'string' ? p.payload : Buffer.from(p.payload), { qos: p.qos, retain: p.retain });
            return;
        }
        this.#publishes.offer({ ...p, id: p.id });
    }
    get droppedQoS0() { return this.#sentQoS0Dropped; }
    stopAccepting() {
        this.#closing = true;
    }
    async close() {
        this.#closing = true;
        // A graceful end waits for in-flight QoS 1 publishes to be acknowledged; with the broker
        // gone that never happens. They are in the store and go again on the next start, so wait
        // a little while connected, then let go.
        if (this.client.connected) {
            const graceful = this.client.endAsync(false);
            const bounded = await Promise.race([graceful.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 2000).unref())]);
            if (!bounded)
                await this.client.endAsync(true);
        }
        else {
            await this.client.endAsync(true);
        }
        await this.#publishes.close();
    }
}
//# sourceMappingURL=mqtt-link.js.map