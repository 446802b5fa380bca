// Public surface of sensor triggers: polling sysfs-style files (thermal, IIO, 1-Wire) and
// simulated sensors, with deadband, backoff and throttled error reports.
export { SensorTrigger } from './sensor-trigger.js'
export { SENSOR_DEFAULTS, SIM_DEFAULTS, SIM_KINDS } from './options.js'
export type { SimKind } from './options.js'
export { parseNumber, parseW1 } from './parse.js'
export { readFileSample, iioChannel } from './file-source.js'
export type { Sample } from './file-source.js'
export { seededRandom } from './sim-source.js'
export type { ReadFile, SensorEvent, SensorSpec, SensorStats, SensorTriggerOptions, SimSpec } from './types.js'
