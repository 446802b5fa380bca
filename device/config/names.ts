// Which environment variables and command-line flags set which config keys. The usage text
// is generated from these tables, so the documented list is the list that works.

export interface NameMapping {
  /** Env var name, or flag name without the leading "--". */
  name: string
  /** Dotted config key it sets; 'file' for the config file path itself. */
  key: string
  help: string
}

export const CONFIG_FILE_KEY = 'file'

/** Read in this order; a LAMBKIN_* variable listed neither here nor in OTHER_ENV_VARS is refused as a likely typo. */
export const ENV_VARS: readonly NameMapping[] = Object.freeze([
  { name: 'LAMBKIN_CONFIG', key: CONFIG_FILE_KEY, help: 'config file (JSON), when --config is not given' },
  { name: 'LAMBKIN_ID', key: 'id', help: 'device id' },
  { name: 'LAMBKIN_DATA', key: 'dataDir', help: 'data folder (LevelDB outbox and state)' },
  { name: 'LAMBKIN_FUNCTIONS', key: 'functionsDir', help: 'folder of function folders' },
  { name: 'LAMBKIN_MQTT_URL', key: 'mqtt.url', help: 'trigger broker URL' },
  { name: 'LAMBKIN_MQTT_USERNAME', key: 'mqtt.username', help: 'trigger broker user name' },
  { name: 'LAMBKIN_MQTT_PASSWORD', key: 'mqtt.password', help: 'trigger broker password' },
  { name: 'LAMBKIN_CLOUD_URL', key: 'cloud.url', help: 'the cloud broker (mqtts:// for a cloud over the internet)' },
  { name: 'LAMBKIN_CLOUD_PASSWORD', key: 'cloud.password', help: 'cloud broker password (the device secret)' },
  { name: 'LAMBKIN_BROKER_PORT', key: 'brokerPort', help: 'start an embedded MQTT broker on this port' },
  { name: 'LAMBKIN_METRICS_PORT', key: 'metricsPort', help: 'serve Prometheus metrics on this port' },
  { name: 'LAMBKIN_SYNC_INTERVAL_MS', key: 'outbox.syncIntervalMs', help: 'outbox group-commit interval' },
  { name: 'LAMBKIN_OUTBOX_QUOTA_BYTES', key: 'outbox.quotaBytes', help: 'outbox size cap' }
])

/** LAMBKIN_* variables that are not config keys but are read elsewhere (bin.ts), so they are not typos. */
export const OTHER_ENV_VARS: readonly NameMapping[] = Object.freeze([
  { name: 'LAMBKIN_TEST_CRASH_AT', key: '', help: 'tests only: the agent kills itself (SIGKILL) at this deployment step (device/deployer/crash-points.ts)' },
  { name: 'LAMBKIN_WASM_TRAP_HANDLER', key: '', help: '"off" re-runs Node with --disable-wasm-trap-handler (the default on ARM), "on" never' },
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
  { name: 'id', key: 'id', help: 'device id' },
  { name: 'data', key: 'dataDir', help: 'data folder' },
  { name: 'functions', key: 'functionsDir', help: 'folder of function folders' },
  { name: 'mqtt', key: 'mqtt.url', help: 'trigger broker URL' },
  { name: 'cloud', key: 'cloud.url', help: 'the cloud broker URL: uploads the outbox (lambkin cloud)' },
  { name: 'broker-port', key: 'brokerPort', help: 'embedded MQTT broker port, 0 for any free port' },
  { name: 'metrics-port', key: 'metricsPort', help: 'Prometheus metrics port, 0 for any free port' }
])

export function camelCase (flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
}
