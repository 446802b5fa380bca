// The cloud's options (CloudOptions, `lambkin cloud` flags map onto them) and their defaults
// (CLOUD_DEFAULTS): what Cloud.create (cloud.ts) takes.
import type { Clock } from '../src/clock.js'
import { BATCH_LIMITS } from '../src/wire/index.js'

export interface CloudOptions {
  dataDir: string
  /** Where the device broker and the API listen; 127.0.0.1 unless set. */
  host?: string
  /** Device broker port (0: any free port). */
  port?: number
  /**
   * Whether the device broker listens for plain MQTT on `port` (default true). false: TLS
   * only (`--no-plain`), so no device and no relay on the path can use an unencrypted link; `tls` is then required.
   */
  plain?: boolean
  apiPort?: number
  /** The API's host; defaults to 127.0.0.1 even when `host` opens the broker wider (any other is warned about, api/exposure.ts). */
  apiHost?: string
  /** Serve the operator API over HTTPS with this PEM certificate and key. */
  apiTls?: { certFile: string, keyFile: string }
  /** A request to the API must arrive whole within this, ms (default API_DEFAULTS.requestTimeoutMs, 30 s). */
  apiRequestTimeoutMs?: number
  tls?: { port: number, certFile: string, keyFile: string }
  maxConnections?: number
  /** Largest MQTT packet a device may send, bytes (default: a full batch plus headroom). */
  maxPacketBytes?: number
  /** A device connection silent for 1.5x this many seconds is closed as half-open (broker/silence.ts; default 60). */
  keepaliveMaxSec?: number
  /**
   * The clock that silence is measured on: the system clock unless a test passes one. Not
   * `clock`: tests that move it by minutes keep their real connections, which would be pinging.
   */
  silenceClock?: Clock
  log?: (line: string) => void
  now?: () => number
  /**
   * Public key files (`lambkin.pub`) whose bundles this cloud takes (`lambkin cloud --trust`);
   * with none, every upload is refused with LAMBKIN_KEY_UNTRUSTED.
   */
  trustedKeys?: string[]
  /**
   * The private key (PKCS#8 PEM, ed25519) that signs desired states [W5]; default
   * `<data>/cloud-signing.key`, made on the first start. Cloud instances of one fleet share one.
   */
  signingKeyFile?: string
  /**
   * An external Mosquitto with the dynamic-security plugin whose device clients, roles and ACLs
   * `lambkin devices add | rotate | revoke` manage (`--broker-admin`, docs/brokers.md): the URL
   * of a client with the admin role, a PEM CA file for an mqtts:// broker with a private CA, and
   * the plugin's answer timeouts (broker/dynsec.ts).
   */
  brokerAdmin?: { url: string, caFile?: string, timeoutMs?: number, connectTimeoutMs?: number }
  /** Clock and timers of the rollout engine and remote invoke (tests pass a FakeClock); `now` defaults to its now. */
  clock?: Clock
  /** The rollout engine's tick while devices are sent or paced, and how long a finished rollout watches for rollbacks, ms. */
  rollouts?: { tickMs?: number, watchMs?: number }
  /**
   * The registry in PostgreSQL instead of LevelDB under `dataDir` (`--db`, docs/postgres.md):
   * the URL, how many days records are kept (0: for ever), and how often a record follower
   * (`logs -f`) reads the database when no note on the bus wakes it, ms (`--follow-poll`,
   * default STORED_NOTES_DEFAULTS.slowPollMs).
   */
  db?: { url: string, retentionDays?: number, followPollMs?: number }
  /**
   * No broker of its own: join the broker the fleet runs as a plain MQTT 5 client (`--broker`,
   * docs/scale-out.md), taking uploads from a shared subscription. Needs `db` (postgres://):
   * instances side by side share one registry. host, port, tls, plain, maxConnections,
   * maxPacketBytes and keepaliveMaxSec are the embedded broker's and do not apply.
   * sessionExpirySec: how long the broker keeps this instance's session when it is gone
   * (`--session-expiry`, default EXTERNAL_BROKER_DEFAULTS.sessionExpirySec, whose doc says the trade-off).
   */
  broker?: { url: string, caFile?: string, sessionExpirySec?: number }
}

/** The options with their defaults filled in, as Cloud.create uses them. */
export type Resolved = CloudOptions & Required<Pick<CloudOptions, 'host' | 'port' | 'apiPort' | 'apiHost' | 'maxConnections' | 'maxPacketBytes'>>

export const CLOUD_DEFAULTS: Readonly<Omit<Resolved, 'dataDir'>> = Object.freeze({ host: '127.0.0.1', port: 1883, apiPort: 8080, apiHost: '127.0.0.1', maxConnections: 100_000, maxPacketBytes: BATCH_LIMITS.maxBytes + 128 * 1024 })
