export const REFUSED_METRIC = 'lambkin_broker_refused_total';
export class Refusals {
    #metrics;
    #log;
    #logged = new Set();
    constructor(metrics, log) {
        this.#metrics = metrics;
        this.#log = log;
        metrics?.register(REFUSED_METRIC, { type: 'counter', help: 'Connections, packets and subscriptions the embedded broker refused, by reason.', labelNames: ['reason'] });
    }
    /** Counts one refusal; `detail` (client id, user, topic) goes to the log the first time per reason. */
    count(reason, detail) {
        this.#metrics?.inc(REFUSED_METRIC, { reason });
        if (this.#logged.has(reason))
            return;
        this.#logged.add(reason);
        this.#log(`embedded broker refused (${reason}): ${detail}; further refusals are counted in ${REFUSED_METRIC}{reason="${reason}"}`);
    }
}
//# sourceMappingURL=refusals.js.map