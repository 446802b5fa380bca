// The shape of the agent's configuration after loading: every key present (or explicitly
// optional), units in the names, paths absolute.

/** A connection to an MQTT broker (TCP, TLS or WebSocket). */
export interface BrokerConnectionConfig {
  /** mqtt://, mqtts://, ws:// or wss://; unset means this connection is not made. */
  url?: string
  username?: string
  password?: string
  /** PEM files for TLS: a CA to trust, and a client certificate with its key. */
  caFile?: string
  certFile?: string
  keyFile?: string
  rejectUnauthorized: boolean
  keepaliveSec: number
  /** Delay before the first reconnect; the link backs off from there. */
  reconnectMs: number
}

/**
 * The cloud link (docs/wire.md): client id and user name are the device id; `password` is the
 * secret `lambkin devices add` printed. Times in ms, byte counts in bytes; 0 means no limit.
 */
export interface CloudConfig extends BrokerConnectionConfig {
  /** Heartbeat interval; the cloud shows the device stale after 3 missed. */
  heartbeatMs: number
  /** Reconnect backoff ceiling (it starts at reconnectMs and doubles, with jitter). */
  reconnectMaxMs: number
  uploadBytesPerSec: number
  /** Bytes per UTC day, for metered links; over it records wait in the outbox. */
  dailyUploadBytes: number
  /** False: no log records are uploaded (they are declared as gaps, W4). */
  uploadLogs: boolean
  /** Functions whose log records are not uploaded. */
  logExclude: string[]
  /** Records per upload batch. */
  batchRecords: number
  /** A batch with no down/ack within this is sent again. */
  ackTimeoutMs: number
}

/** The trigger broker: where functions' MQTT triggers subscribe and `ctx.publish` goes. */
export interface MqttConfig extends BrokerConnectionConfig {
  clientId: string
  /**
   * MQTT version the trigger link speaks: 5 (falls back to 3.1.1 when the broker refuses 5)
   * or 4 (MQTT 3.1.1 only).
   */
  protocolVersion: 4 | 5
  /** Largest packet the trigger broker takes, in bytes; under MQTT 5 also capped by its CONNACK. */
  maxPacketBytes: number
}

/**
 * Time to live of outbox records by kind, in ms; unset or 0 means kept until synced or
 * dropped. The keys are the outbox's record kinds (RECORD_KINDS in device/store/types.ts),
 * so this object is handed to the store as is.
 */
export interface OutboxTtlConfig {
  log?: number
  metric?: number
  emit?: number
  result?: number
  'dead-letter'?: number
}

export interface OutboxConfig {
  quotaBytes: number
  /** Group-commit interval: how much a power cut may lose, at most. */
  syncIntervalMs: number
  ttlMs: OutboxTtlConfig
  /** LevelDB's write buffer (its memtable), KiB: RAM the last writes take before they go to a table file. */
  writeBufferKiB: number
}

export interface InvocationConfig {
  /** Invocations in the sandboxes at once across the agent; writing their effects does not count. */
  maxConcurrent: number
  /** Calls waiting per function before LAMBKIN_THROTTLED. */
  queueDepth: number
  /** Sandbox worker threads. */
  workers: number
  /** How long close() waits for in-flight invocations. */
  drainTimeoutMs: number
  /** Invocations a chain of functions triggering each other may have [W9]. */
  maxHops: number
}

/** The most any function on this device may ask for in its manifest's limits. */
export interface DeviceCapsConfig {
  memoryKiB: number
  timeoutMs: number
  instructions: number
  concurrency: number
  stackKiB: number
}

/**
 * One user of the embedded broker. `publish`/`subscribe` are MQTT topic filters (section 4.7)
 * the user may publish to and subscribe within; `retain` allows the RETAIN flag.
 */
export interface BrokerUserConfig {
  username: string
  /** `scrypt$N$r$p$salt$hash` (device/broker/password.ts); `lambkin broker-passwd` prints one. */
  passwordHash: string
  publish: string[]
  subscribe: string[]
  retain: boolean
}

/** Who may use the embedded broker (`brokerPort`), and its limits per connection. */
export interface BrokerConfig {
  /** From the config file, plus those of `usersFile` once loaded. */
  users: BrokerUserConfig[]
  /** A JSON file holding an array of user entries (or `{ "users": [...] }`). */
  usersFile?: string
  /**
   * Clients without a user name connect with every right. Unset: allowed only when there are
   * no users and brokerHost is loopback; a non-loopback host without users refuses to start.
   */
  allowAnonymous?: boolean
  /** Largest MQTT packet a client may send, in bytes (fixed header included); larger closes the connection. */
  maxPacketBytes: number
  /** TCP connections at once; more are closed on accept. */
  maxConnections: number
  /** A connection that sends no CONNECT within this is closed. */
  connectTimeoutMs: number
  /** Largest keepalive a client may ask for, in s; 0 (never time out) is refused too. */
  maxKeepaliveSec: number
  /**
   * Client publishes worked on at once over all connections (invoked and committed before their
   * PUBACK); more wait, unacknowledged, in arrival order (device/links/broker/index.ts).
   */
  maxTaken: number
}

/** The deployer (device/deployer): the health gate after a swap and bundle fetches. */
export interface DeployConfig {
  /** How long after a swap the new version's failures are watched, ms; 0 turns the gate off. */
  healthWindowMs: number
  /** Largest share (0..1) of the new version's invocations that may fail within the window. */
  maxErrorRate: number
  /** Invocations of the new version that must end before the gate can fail. */
  minInvocations: number
  /** One try's wait for a bundle the device asked for, ms (3 tries in all). */
  fetchTimeoutMs: number
  /** First wait before a deployment that failed transiently (full disk, I/O error, fetch timeout) is tried again, ms; doubles per try up to 32 times. */
  retryMs: number
}

/** The lowest level of function log lines (`ctx.log`, `console.*`) the agent's console shows; off: none. */
export type FunctionLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off'

/** The local functions folder, watched for edits (device/watch/). */
export interface WatchConfig {
  /** False: the folder is read at start only. */
  functions: boolean
  /** Quiet time after the last change before the folder is read again, ms (an editor's save is several events). */
  debounceMs: number
}

export interface DeviceConfig {
  /** Device id (wire rule W1): ^[a-z0-9][a-z0-9_-]{0,62}$ */
  id: string
  dataDir: string
  functionsDir: string
  /** Unset: the function loader's own default. */
  layersDir?: string
  mqtt: MqttConfig
  /** The cloud link (its MQTT client id is always the device id: docs/wire.md, W1 and W3). */
  cloud: CloudConfig
  /** Start an embedded aedes broker on this port for LAN sensors (0 = ephemeral); unset = none. */
  brokerPort?: number
  brokerHost: string
  broker: BrokerConfig
  /** Serve Prometheus text on this port (0 = ephemeral); unset = no HTTP server. */
  metricsPort?: number
  metricsHost: string
  /** How often a metrics delta is written to the outbox. */
  metricsSnapshotMs: number
  functionLogs: FunctionLogLevel
  watch: WatchConfig
  outbox: OutboxConfig
  invocation: InvocationConfig
  caps: DeviceCapsConfig
  /** Absolute paths of public key files whose signatures deployed bundles may carry; none: every bundle is refused. */
  trustedKeys: string[]
  deploy: DeployConfig
}

type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] }

/** The defaults: the same shape, but mqtt.clientId is derived from the id at load time. */
export type DeviceDefaults = DeepReadonly<Omit<DeviceConfig, 'mqtt'> & { mqtt: Omit<MqttConfig, 'clientId'> & { clientId?: string } }>
