// Which environment variables and command-line flags set which config keys: every key has one
// of each, so a unit file or an image needs no config file. The usage text is generated from
// these tables, so the documented list is the list that works.
import { fieldAt, ruleOf, SCHEMA } from './schema.js'
import type { Field, Group } from './schema.js'

export interface NameMapping {
  /** Env var name, or flag name without the leading "--". */
  name: string
  /** Dotted config key it sets; 'file' for the config file path itself. */
  key: string
  help: string
  /** Accepted but left out of --help: a test hook a user must not come across (it kills the agent). */
  hidden?: boolean
}

export const CONFIG_FILE_KEY = 'file'

/** The keys the trigger link (`mqtt.`) and the cloud link (`cloud.`) share, described for `link`. */
function connectionHelp (prefix: string, link: string): Record<string, { help: string }> {
  return {
    [`${prefix}.caFile`]: { help: `a PEM file of the CA to trust for TLS to the ${link} (a private CA; unset, the system's CAs)` },
    [`${prefix}.certFile`]: { help: `a PEM client certificate for TLS to the ${link} (with ${prefix}.keyFile, both or neither)` },
    [`${prefix}.keyFile`]: { help: `the PEM private key of ${prefix}.certFile` },
    [`${prefix}.rejectUnauthorized`]: { help: `refuse a ${link} certificate that does not verify` },
    [`${prefix}.keepaliveSec`]: { help: `MQTT keep-alive to the ${link}, in seconds` }
  }
}

/**
 * Short names kept for the most used keys, as documented from the start; every other key gets
 * the name its path spells (keyWords): `--broker-users-file`, `LAMBKIN_BROKER_USERS_FILE`.
 * `help` is what `lambkin device --help` says a key is for, before its range and default
 * (docs/device.md says the same at more length); usage.test.ts checks every key has one.
 */
const SHORT: Readonly<Record<string, { env?: string, flag?: string, help: string }>> = Object.freeze({
  ...connectionHelp('mqtt', 'trigger broker'),
  ...connectionHelp('cloud', 'cloud broker'),
  id: { help: 'device id' },
  dataDir: { env: 'LAMBKIN_DATA', flag: 'data', help: 'data folder (LevelDB outbox and state)' },
  functionsDir: { env: 'LAMBKIN_FUNCTIONS', flag: 'functions', help: 'folder of function folders' },
  'mqtt.url': { flag: 'mqtt', help: 'trigger broker URL' },
  'mqtt.username': { help: 'trigger broker user name' },
  'mqtt.password': { help: 'trigger broker password' },
  'cloud.url': { flag: 'cloud', help: 'the cloud broker (mqtts:// for a cloud over the internet)' },
  'cloud.password': { help: 'cloud broker password (the device secret)' },
  brokerPort: { help: 'start an embedded MQTT broker on this port (0: any free port)' },
  brokerHost: { help: 'the address the embedded broker listens on (0.0.0.0: the LAN; then it needs users)' },
  'broker.usersFile': { help: 'JSON file of the embedded broker\'s users (lambkin broker-passwd)' },
  metricsPort: { help: 'serve Prometheus metrics on this port (0: any free port); lambkin outbox reads a running agent\'s outbox through it' },
  functionLogs: { help: 'the lowest level of function log lines (ctx.log) the console shows, or off' },
  'watch.functions': { help: 'reload the functions folder by itself when a file in it changes' },
  'watch.debounceMs': { help: 'quiet time after the last change in the functions folder before it is read again' },
  'outbox.syncIntervalMs': { env: 'LAMBKIN_SYNC_INTERVAL_MS', help: 'outbox group-commit interval' },
  'outbox.quotaBytes': { help: 'outbox size cap' },
  'outbox.writeBufferKiB': { help: 'LevelDB write buffer (memtable) in KiB, held in RAM until written as a table file (1024 with LAMBKIN_MEMORY=small)' },
  layersDir: { help: 'the folder of shared layers the functions import (function.json "layers"), by default layers/ inside the functions folder' },
  'mqtt.reconnectMs': { help: 'wait between reconnect attempts to the trigger broker, in ms' },
  'mqtt.clientId': { help: 'the trigger connection\'s client id (its persistent session is kept under it)' },
  'mqtt.protocolVersion': { help: 'MQTT version spoken to the trigger broker, 5 or 4 (3.1.1); with 5, a broker that refuses it gets 3.1.1 until restart' },
  'mqtt.maxPacketBytes': { help: 'largest MQTT packet, fixed header included, sent to or taken from the trigger broker' },
  'cloud.username': { help: 'need not be set (the cloud link logs in as the device id; a different value is refused)' },
  'cloud.reconnectMs': { help: 'first wait before reconnecting to the cloud, in ms; doubles up to cloud.reconnectMaxMs, each wait a random share of its step' },
  'cloud.heartbeatMs': { help: 'heartbeat interval, in ms; the cloud shows the device stale after three missed' },
  'cloud.reconnectMaxMs': { help: 'longest wait before reconnecting to the cloud, in ms' },
  'cloud.uploadBytesPerSec': { help: 'upload bandwidth limit, in bytes per second (0: none)' },
  'cloud.dailyUploadBytes': { help: 'upload bytes per UTC day, for metered links (0: none; counted across restarts)' },
  'cloud.uploadLogs': { help: 'upload log records (false: they stay on the board)' },
  'cloud.logExclude': { help: 'functions whose log records stay on the board' },
  'cloud.batchRecords': { help: 'outbox records per upload batch' },
  'cloud.ackTimeoutMs': { help: 'a batch the cloud has not acknowledged within this many ms is sent again' },
  'broker.users': { help: 'the embedded broker\'s users and what each may publish, subscribe to and retain (lambkin broker-passwd)' },
  'broker.allowAnonymous': { help: 'with users set, also let clients without a user name use the embedded broker, with every right' },
  'broker.maxPacketBytes': { help: 'embedded broker: a packet whose header announces more (header included) closes its connection' },
  'broker.maxConnections': { help: 'embedded broker: TCP connections beyond this are closed on accept' },
  'broker.connectTimeoutMs': { help: 'embedded broker: a connection that sends no CONNECT within this many ms is closed' },
  'broker.maxKeepaliveSec': { help: 'embedded broker: the longest keep-alive a client may ask for, in seconds (0, never, is refused too)' },
  'broker.maxTaken': { help: 'embedded broker: client publishes worked on at once; more wait, unacknowledged (64 with LAMBKIN_MEMORY=small)' },
  metricsHost: { help: 'the address the metrics server listens on' },
  metricsSnapshotMs: { help: 'how often, in ms, the metrics counted since the last snapshot go to the outbox as one metric record' },
  'outbox.ttlMs.log': { help: 'how long log records stay in the outbox, in ms (unset or 0: until uploaded)' },
  'outbox.ttlMs.metric': { help: 'how long metric records stay in the outbox, in ms (unset or 0: until uploaded)' },
  'outbox.ttlMs.emit': { help: 'how long emit records stay in the outbox, in ms (unset or 0: until uploaded)' },
  'outbox.ttlMs.result': { help: 'how long result records stay in the outbox, in ms (unset or 0: until uploaded)' },
  'outbox.ttlMs.dead-letter': { help: 'how long dead-letter records stay in the outbox, in ms (unset or 0: until uploaded)' },
  'invocation.maxConcurrent': { help: 'invocations handed to the sandboxes at once, agent-wide' },
  'invocation.queueDepth': { help: 'invocations that may wait for a slot (agent-wide, and per function) before LAMBKIN_THROTTLED' },
  'invocation.workers': { help: 'sandbox threads (1 with LAMBKIN_MEMORY=small, the default on ARM)' },
  'invocation.drainTimeoutMs': { help: 'how long a stop waits for in-flight invocations, in ms' },
  'invocation.maxHops': { help: 'how many times a chain of functions triggering each other may run; beyond, a dead letter (LAMBKIN_RECURSION_LIMIT)' },
  trustedKeys: { help: 'public keys whose signatures this device accepts, your deploy key (lambkin.pub) and the cloud\'s cloud-signing.pub (--trust adds to them)' },
  'deploy.healthWindowMs': { help: 'how long after a swap the new version is watched, in ms (0: no health gate)' },
  'deploy.maxErrorRate': { help: 'largest share of the new version\'s invocations that may fail in the health window before it is rolled back' },
  'deploy.minInvocations': { help: 'invocations of the new version that must end before the health gate can fail it' },
  'deploy.fetchTimeoutMs': { help: 'one bundle request\'s wait, in ms; 3 requests in all, then LAMBKIN_DEPLOY_TIMEOUT' },
  'deploy.retryMs': { help: 'first wait, in ms, before a deployment that failed transiently (no space, I/O, timeout) is tried again; doubles per try' },
  'caps.memoryKiB': { help: 'the most memory, in KiB, a function may ask for (a manifest above a cap: LAMBKIN_LIMIT_EXCEEDS_CAP)' },
  'caps.timeoutMs': { help: 'the longest timeout, in ms, a function may ask for' },
  'caps.instructions': { help: 'the largest instruction budget a function may ask for' },
  'caps.concurrency': { help: 'the most parallel sandboxes a function may ask for' },
  'caps.stackKiB': { help: 'the largest stack, in KiB, a function may ask for' }
})

/** A dotted key's words: `outbox.ttlMs.dead-letter` -> outbox, ttl, ms, dead, letter; `caps.memoryKiB` -> caps, memory, kib. */
export function keyWords (key: string): string[] {
  return key.split(/[.-]/).flatMap((part) => part.replace(/KiB/g, 'Kib').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(' '))
}

/** The variable a key is set by: LAMBKIN_ and its words in upper case. */
export const envNameOf = (key: string): string => SHORT[key]?.env ?? `LAMBKIN_${keyWords(key).join('_').toUpperCase()}`
/** The flag (without "--") a key is set by: its words joined by "-". */
export const flagNameOf = (key: string): string => SHORT[key]?.flag ?? keyWords(key).join('-')

/** Every leaf key of the schema, dotted, in schema order. */
export function schemaKeys (g: Group = SCHEMA, prefix = ''): string[] {
  return Object.entries(g.fields).flatMap(([name, f]) => f.kind === 'group' ? schemaKeys(f, `${prefix}${name}.`) : [prefix + name])
}

const helpOf = (key: string): string => SHORT[key]?.help ?? ruleOf(fieldAt(key) as Field)

/** Read in this order; a LAMBKIN_* variable listed neither here nor in OTHER_ENV_VARS is refused as a likely typo. */
export const ENV_VARS: readonly NameMapping[] = Object.freeze([
  { name: 'LAMBKIN_CONFIG', key: CONFIG_FILE_KEY, help: 'config file (JSON), when --config is not given' },
  ...schemaKeys().map((key) => ({ name: envNameOf(key), key, help: helpOf(key) }))
])

/** LAMBKIN_* variables that are not config keys but are read elsewhere (bin.ts), so they are not typos. */
export const OTHER_ENV_VARS: readonly NameMapping[] = Object.freeze([
  { name: 'LAMBKIN_TEST_CRASH_AT', key: '', help: 'tests only: the agent kills itself (SIGKILL) at this deployment step (device/deployer/crash-points.ts)', hidden: true },
  { name: 'LAMBKIN_WASM_TRAP_HANDLER', key: '', help: '"off" re-runs Node with --disable-wasm-trap-handler (the default on ARM), "on" never' },
  { name: 'LAMBKIN_BUNDLE', key: '', help: '"off" runs the modules tsc wrote instead of dist/bundle/ (docs/architecture.md, "Command line")', hidden: true },
  { name: 'LAMBKIN_MEMORY', key: '', help: '"small" re-runs Node with small-RAM V8 and malloc settings and defaults invocation.workers to 1 (the default on ARM), "node" keeps Node\'s and lambkin\'s usual defaults' },
  // The operator commands' (lambkin status, devices, ...): an operator's shell may set them
  // beside an agent's, so the agent must not take them for typos.
  { name: 'LAMBKIN_API', key: '', help: 'operator commands: the cloud API URL' },
  { name: 'LAMBKIN_TOKEN', key: '', help: 'operator commands: the operator token' },
  { name: 'LAMBKIN_KEY', key: '', help: 'operator commands: the signing key file (lambkin deploy)' },
  { name: 'LAMBKIN_SIGNING_KEY', key: '', help: 'lambkin cloud: the private key that signs desired states (--signing-key)' },
  { name: 'LAMBKIN_DB_URL', key: '', help: 'lambkin cloud and cloud migrate: the PostgreSQL registry (--db)' },
  { name: 'LAMBKIN_RETENTION_DAYS', key: '', help: 'lambkin cloud: days records are kept in PostgreSQL (--retention-days)' },
  { name: 'LAMBKIN_BROKER_URL', key: '', help: 'lambkin cloud: the fleet\'s own broker it joins as a client (--broker)' },
  { name: 'LAMBKIN_BROKER_ADMIN', key: '', help: 'lambkin cloud: the broker admin URL for device credentials (--broker-admin)' }
])

/**
 * Flags as node:util parseArgs returns them. The camelCase spelling is accepted too, since a
 * parseArgs setup may name options either way. Flags not listed are not config and are ignored.
 */
export const FLAGS: readonly NameMapping[] = Object.freeze([
  { name: 'config', key: CONFIG_FILE_KEY, help: 'config file (JSON)' },
  ...schemaKeys().map((key) => ({ name: flagNameOf(key), key, help: helpOf(key) }))
])

export function camelCase (flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
}
