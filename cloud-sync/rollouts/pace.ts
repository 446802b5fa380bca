// When a rollout needs the engine again: how many devices its rate allows by now, and the
// earliest time one of its devices can time out, a paced device is due, or its watch ends.
// Pure functions, so the engine keeps one timer for every rollout.
import { owesVerdict } from './judge.js'
import type { RolloutRow } from '../registry/index.js'

/** Devices the rollout's rate allows by `now`: one at once, then ratePerMin a minute (all when it has no rate). */
export function allowedBy (r: Pick<RolloutRow, 'ratePerMin' | 'createdAt' | 'devices'>, now: number): number {
  return r.ratePerMin === undefined ? r.devices.length : Math.floor(((now - r.createdAt) * r.ratePerMin) / 60_000) + 1
}

/** Devices already given their desired state by this rollout (the rate counts these). */
export function released (r: Pick<RolloutRow, 'devices'>): number {
  let n = 0
  for (const d of r.devices) if (d.deploymentId !== undefined) n++
  return n
}

/**
 * When the engine must look at `r` next (Infinity: only a report or a connect can change it).
 * Sent devices are checked every `tickMs`; a paced rollout's next device is due when its share
 * of the minute has passed; pending devices of an unpaced rollout (a send that failed) are
 * retried at the next tick; a finished rollout stops watching `watchMs` after it finished, or
 * later, at the report that ends its last health window (a device's window may outlast watchMs).
 */
export function dueAt (r: RolloutRow, now: number, tickMs: number, watchMs: number): number {
  let due = Infinity
  if (r.counts.sent > 0) due = now + tickMs
  if (r.state === 'running' && r.counts.pending > 0) {
    due = Math.min(due, r.ratePerMin === undefined ? now + tickMs : Math.max(now, r.createdAt + Math.ceil((released(r) * 60_000) / r.ratePerMin)))
  }
  // A device that owes a finished rollout its verdict keeps it open until it reports: nothing is due for it.
  if (r.state !== 'running' && !owesVerdict(r)) due = Math.min(due, (r.finishedAt ?? now) + watchMs)
  return due
}
