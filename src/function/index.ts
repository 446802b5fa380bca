// Public surface of functions: the function.json schema and its validation, MQTT topic
// filters, and loading function folders from disk.
export { validateManifest, NAME_PATTERN, RESERVED_NAMES, ENV_MAX_BYTES, MANIFEST_DEFAULTS } from './manifest.js'
export type { FunctionManifest } from './manifest.js'
export { LIMIT_DEFAULTS, LIMIT_CAPS, LIMIT_MINIMUMS, resolveCaps } from './limits.js'
export type { Limits } from './limits.js'
export { validateTrigger, triggerKind, TRIGGER_DEFAULTS, SIMULATED_SENSORS, SENSOR_FORMATS } from './triggers.js'
export type { Trigger, TriggerKind, MqttTrigger, SensorTrigger, SensorSim, ScheduleTrigger } from './triggers.js'
export { isValidTopicFilter, isValidTopicName, topicMatches } from './topic-filter.js'
export { loadFunctionDir, loadFunctionsDir } from './load.js'
export type { LoadedFunction, LoadOptions } from './load.js'
