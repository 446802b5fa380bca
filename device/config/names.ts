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

/**
 * Short names kept for the most used keys, as documented from the start; every other key gets
 * the name its path spells (keyWords): `--broker-users-file`, `LAMBKIN_BROKER_USERS_FILE`.
 */
const SHORT: Readonly<Record<string, { env?: string, flag?: string, help: string }>> = Object.freeze({
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
  'outbox.quotaBytes': { help: 'outbox size cap' }
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
  { name: 'LAMBKIN_SIGNING_KEY', key: '', help: 'lambkin cloud: the private key that signs desired states (--signing-key)' }
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
