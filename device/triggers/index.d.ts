export { FakeClock, systemClock } from './clock.js';
export type { Clock } from './clock.js';
export type { TriggerCounters } from './counters.js';
export * from './sensor/index.js';
export * from './schedule/index.js';
