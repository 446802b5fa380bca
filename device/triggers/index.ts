// Public surface of the sensor and schedule triggers (their clock is src/clock.ts). MQTT triggers
// live beside them (device/triggers/mqtt*) with their own surface.
export type { TriggerCounters } from './counters.js'
export * from './sensor/index.js'
export * from './schedule/index.js'
