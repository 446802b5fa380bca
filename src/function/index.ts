// Public surface of function loading: the manifest schema, validation and folder loading.
export { validateManifest, LIMIT_DEFAULTS, LIMIT_CAPS, LIMIT_MINIMUMS, NAME_PATTERN } from './manifest.js'
export type { FunctionManifest, Limits, Trigger, MqttTrigger, SensorTrigger, ScheduleTrigger } from './manifest.js'
export { loadFunctionDir, loadFunctionsDir } from './load.js'
export type { LoadedFunction, LoadOptions } from './load.js'
export { isValidTopicFilter, isValidTopicName, topicMatches } from './topic.js'
