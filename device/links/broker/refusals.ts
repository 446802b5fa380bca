// What the embedded broker refused, counted as `lambkin_broker_refused_total{reason}` and logged
// once per reason (a client retrying a refused connect must not flood the log).
import type { FunctionMetrics } from '../../metrics/index.js'

/**
 * Why the broker refused a connection, a packet or a subscription:
 * - bad_credentials: unknown user, wrong password, or no user name where one is required
 *   (CONNACK 0x04 / 0x05, MQTT 3.1.1 section 3.2.2.3);
 * - client_id_taken: the client id is in use (or a session) by another user (CONNACK 0x02);
 * - keepalive: keepalive 0 or above broker.maxKeepaliveSec (CONNACK 0x02, as Mosquitto does);
 * - publish_denied / retain_denied: a PUBLISH (or will) outside the user's grants; the
 *   connection is closed without PUBACK (section 3.3.5 lets a server do only that or ack);
 * - subscribe_denied: a filter outside the user's grants (SUBACK 0x80, section 3.9.3);
 * - packet_too_large: a packet over broker.maxPacketBytes; the connection is closed;
 * - connection_limit: a TCP connection over broker.maxConnections, closed on accept;
 * - connect_timeout: no CONNECT within broker.connectTimeoutMs.
 */
export type RefusalReason =
  | 'bad_credentials' | 'client_id_taken' | 'keepalive' | 'publish_denied' | 'retain_denied'
  | 'subscribe_denied' | 'packet_too_large' | 'connection_limit' | 'connect_timeout'

export const REFUSED_METRIC = 'lambkin_broker_refused_total'

export class Refusals {
  readonly #metrics: Pick<FunctionMetrics, 'register' | 'inc'> | undefined
  readonly #log: (line: string) => void
  readonly #logged = new Set<RefusalReason>()

  constructor (metrics: Pick<FunctionMetrics, 'register' | 'inc'> | undefined, log: (line: string) => void) {
    this.#metrics = metrics
    this.#log = log
    metrics?.register(REFUSED_METRIC, { type: 'counter', help: 'Connections, packets and subscriptions the embedded broker refused, by reason.', labelNames: ['reason'] })
  }

  /** Counts one refusal; `detail` (client id, user, topic) goes to the log the first time per reason. */
  count (reason: RefusalReason, detail: string): void {
    this.#metrics?.inc(REFUSED_METRIC, { reason })
    if (this.#logged.has(reason)) return
    this.#logged.add(reason)
    this.#log(`embedded broker refused (${reason}): ${detail}; further refusals are counted in ${REFUSED_METRIC}{reason="${reason}"}`)
  }
}
