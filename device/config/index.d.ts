export { DEVICE_DEFAULTS, DEVICE_ID_PATTERN, deviceIdFromHostname } from './defaults.js';
export { loadDeviceConfig } from './load.js';
export type { LoadDeviceConfigOptions } from './load.js';
export { ENV_VARS, FLAGS, OTHER_ENV_VARS } from './names.js';
export { CONFIG_MAX_BYTES, CONFIG_MAX_DEPTH } from './file.js';
export type { NameMapping } from './names.js';
export { deviceConfigUsage } from './usage.js';
export type { BrokerConfig, BrokerConnectionConfig, BrokerUserConfig, DeviceCapsConfig, DeviceConfig, DeviceDefaults, InvocationConfig, MqttConfig, OutboxConfig, OutboxTtlConfig } from './types.js';
