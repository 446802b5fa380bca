// Public surface of the agent's configuration: defaults, loading with precedence, usage text.
export { DEVICE_DEFAULTS, DEVICE_ID_PATTERN, deviceIdFromHostname } from './defaults.js'
export { loadDeviceConfig } from './load.js'
export { containerMarker } from './container.js'
export type { LoadDeviceConfigOptions } from './load.js'
export { camelCase, ENV_VARS, envNameOf, FLAGS, flagNameOf, OTHER_ENV_VARS, schemaKeys } from './names.js'
export { fieldAt } from './schema.js'
export { CONFIG_MAX_BYTES, CONFIG_MAX_DEPTH } from './file.js'
export type { NameMapping } from './names.js'
export { deviceConfigUsage, placeholder } from './usage.js'
export type {
  BrokerConfig, BrokerConnectionConfig, BrokerUserConfig, DeviceCapsConfig, DeviceConfig, DeviceDefaults, InvocationConfig,
  FunctionLogLevel, MqttConfig, OutboxConfig, OutboxTtlConfig, WatchConfig
} from './types.js'
