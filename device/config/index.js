// Public surface of the agent's configuration: defaults, loading with precedence, usage text.
export { DEVICE_DEFAULTS, DEVICE_ID_PATTERN, deviceIdFromHostname } from './defaults.js';
export { loadDeviceConfig } from './load.js';
export { ENV_VARS, FLAGS, OTHER_ENV_VARS } from './names.js';
export { CONFIG_MAX_BYTES, CONFIG_MAX_DEPTH } from './file.js';
export { deviceConfigUsage } from './usage.js';
//# sourceMappingURL=index.js.map