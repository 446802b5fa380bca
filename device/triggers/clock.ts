// The agent's time source: the shared one in src/clock.ts, re-exported where the triggers,
// store and cloud link have always found it.
export { systemClock } from '../../src/clock.js'
export type { Clock } from '../../src/clock.js'
