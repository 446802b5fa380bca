// Public surface of sensor triggers: polling sysfs-style files (thermal, hwmon, IIO, 1-Wire)
// and simulated sensors, with deadband, backoff, throttled error reports, and known
// non-readings and out-of-range values dropped and counted.
export { SensorPoller, SENSOR_DROPPED_METRIC } from './sensor-trigger.js'
export { SENSOR_DEFAULTS, SIM_DEFAULTS, SIM_KINDS } from './options.js'
export type { SimKind } from './options.js'
export { parseNumber, parseW1 } from './parse.js'
export { readFileSample, iioChannel, TRANSIENT_ERRNOS } from './file-source.js'
export type { Sample } from './file-source.js'
export { nonReading, sensorKindOf, NOT_A_READING, ABSOLUTE_ZERO_MILLIC, W1_POWER_ON_MILLIC } from './non-readings.js'
export type { DropReason, NonReading, SensorKind } from './non-readings.js'
export { seededRandom } from './sim-source.js'
export type { ReadFile, SensorEvent, SensorSpec, SensorStats, SensorTriggerOptions, SimSpec } from './types.js'
