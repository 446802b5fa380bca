// What a device's stored status becomes when a new `up/status` arrives [W3]: an `online` one
// replaces it; an `offline` one (the last will, or a clean stop's) keeps what the device last
// said about itself (agent version, functions, heartbeat and snapshot intervals) beside the
// new state, so `lambkin status` shows an offline device's last known agent and functions
// rather than blanks. Both registry backends store what this returns.
import type { StatusFrame } from '../../src/wire/index.js'

/** A stored status: the frame's fields and when it arrived (cloud clock, ms). */
export type StoredStatus = StatusFrame & { at: number }

/** The status to store after `next` arrived at `at`, given the stored `prev`. */
export function mergeStatus (prev: StoredStatus | undefined | null, next: StatusFrame, at: number): StoredStatus {
  const given = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) as StatusFrame
  if (next.state === 'online' || prev === undefined || prev === null) return { ...given, at }
  const { state: _state, at: _at, time: _time, ...known } = prev
  return { ...known, ...given, at }
}
