// Public surface of the sensor and schedule triggers and the clock they run on. MQTT triggers
// live beside them (device/triggers/mqtt*) with their own surface.
export { systemClock } from './clock.js'
export type { Clock } from './clock.js'
export type { TriggerCounters } from './counters.js'
export * from './sensor/index.js'
export * from './schedule/index.js'
