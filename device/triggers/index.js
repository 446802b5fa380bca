// Public surface of the sensor and schedule triggers and the clock they run on. MQTT triggers
// live beside them (device/triggers/mqtt*) with their own surface.
export { FakeClock, systemClock } from './clock.js';
export * from './sensor/index.js';
export * from './schedule/index.js';
//# sourceMappingURL=index.js.map