// How the cloud judges a device in a rollout from its `up/reported` [W5] (the rollout view
// follows every report, also after "applied"), and the counts and abort rule that follow. Pure functions.
import { ErrorCodes } from '../../src/errors.js'
import type { ReportedFrame } from '../../src/wire/index.js'
import type { RolloutCounts, RolloutDevice, RolloutRow } from '../registry/index.js'

/** A device's new state from a report, or undefined when the report says nothing new about it. */
export type Verdict = Pick<RolloutDevice, 'state' | 'code' | 'message' | 'transient' | 'health' | 'watchLeftMs'>

/** True when `v` would change nothing on `d` (the same verdict again; a window's time left alone is no change). */
export function sameVerdict (d: RolloutDevice, v: Verdict): boolean {
  return v.state === d.state && v.code === d.code && v.message === d.message && v.transient === d.transient && v.health === d.health
}

/** The fields a verdict sets, cleared before a new one is written over a device. */
export const VERDICT_FIELDS = ['code', 'message', 'transient', 'health', 'watchLeftMs'] as const

/**
 * For a device whose desired state got id D from this rollout (function F, target version V)
 * [W5], judged on every report, also after applied:
 * - rolled-back when `rollbacks` has { D, F };
 * - applied when the report's deploymentId >= D and F runs V (live, or the canary for a canary
 *   rollout), even with a transient failure at { D, F } before it (the device tried again);
 *   `health` watching while the report says F's health window is open, else passed;
 * - failed when `failures` has { D, F } and F does not run V: a refusal, a transient failure
 *   (`transient`, still judgeable: the device tries again), or, after applied, a deployed
 *   version that no longer loads at start (its bundle damaged while the board was off), which
 *   the device reports at D when it falls back (a transient or stale entry does not count then);
 * - failed, still judgeable, when the device's last refused desired state (`refusedDesired`:
 *   its signature did not verify) claims id D.
 */
export function judge (r: Pick<RolloutRow, 'fn' | 'alias'>, d: RolloutDevice, rep: ReportedFrame): Verdict | undefined {
  const id = d.deploymentId
  if (id === undefined) return undefined
  const rb = rep.rollbacks.find((x) => x.deploymentId === id && x.name === r.fn)
  if (rb !== undefined) return { state: 'rolled-back', code: rb.code, message: rb.message }
  const f = rep.functions.find((x) => x.name === r.fn)
  const running = r.alias === 'canary' ? f?.canary?.version : f?.version
  if (rep.deploymentId >= id && running !== undefined && running === d.version) {
    return f?.watching === undefined ? { state: 'applied', health: 'passed' } : { state: 'applied', health: 'watching', watchLeftMs: f.watching }
  }
  // After applied, only a permanent failure at { D, F } says the applied version broke: a
  // transient one came before the retry that applied it, and a stale one is a replay of D
  // refused later (neither says anything about what runs). Otherwise the newest entry holds.
  const after = d.state === 'applied'
  const failed = [...rep.failures]
    .reverse()
    .find((x) => x.deploymentId === id && x.name === r.fn && (!after || (x.transient !== true && x.code !== ErrorCodes.DEPLOYMENT_STALE)))
  if (failed !== undefined) return { state: 'failed', code: failed.code, message: failed.message, ...(failed.transient === true ? { transient: true } : {}) }
  // The device refused D's desired state for its signature (altered on the way): it says why,
  // and an intact copy (the retained one, at the next connect) may still apply it.
  const refused = rep.refusedDesired
  if (!after && refused?.deploymentId === id) return { state: 'failed', code: refused.code, message: refused.message, transient: true }
  return undefined
}

/** True for a device applied whose health window is still open (`health` watching). */
export const inWindow = (d: RolloutDevice): boolean => d.state === 'applied' && d.health === 'watching'

/**
 * The final verdict of a device still in its health window when its rollout is superseded by
 * rollout `by` (engine.ts): applied, health `superseded`, and why in `message`. Only a failure or
 * rollback the device later reports for this deployment changes it (follow.ts).
 */
export function supersededVerdict (by: string): Verdict {
  return { state: 'applied', health: 'superseded', message: `superseded by rollout ${by} while its health window was open: not watched to its end here (rollout ${by} has the verdict where it targets this device)` }
}

/**
 * True while a device still owes finished rollout `r` a verdict, which keeps it watched past
 * watchMs until the device reports (engine.ts #step, pace.ts dueAt): sent, offline, timed out,
 * or applied and still in its health window.
 */
export function owesVerdict (r: Pick<RolloutRow, 'counts' | 'devices'>): boolean {
  return r.counts.sent + r.counts.offline > 0 || r.devices.some((d) => timedOut(d) || inWindow(d))
}

/** Failed by the cloud's timeout (LAMBKIN_DEPLOY_TIMEOUT, set by the engine), not by the device. */
export function timedOut (d: RolloutDevice): boolean {
  return d.state === 'failed' && d.code === ErrorCodes.DEPLOY_TIMEOUT && d.message?.startsWith('connected but no report') === true
}

/** The RolloutCounts field a device state is counted under. */
export const countKey = (s: RolloutDevice['state']): keyof RolloutCounts => s === 'rolled-back' ? 'rolledBack' : s

/**
 * States a device's verdict may still change from: skipped and failed are final, except a
 * cloud timeout and a transient failure (the device tries again), which a later report may
 * still turn into applied, failed or rolled-back.
 */
export function judgeable (d: RolloutDevice): boolean {
  return d.state === 'sent' || d.state === 'offline' || d.state === 'applied' || timedOut(d) || (d.state === 'failed' && d.transient === true)
}

export function countDevices (devices: readonly RolloutDevice[]): RolloutCounts {
  const c: RolloutCounts = { total: devices.length, pending: 0, sent: 0, applied: 0, failed: 0, rolledBack: 0, offline: 0, skipped: 0 }
  for (const d of devices) {
    if (d.state === 'rolled-back') c.rolledBack++
    else c[d.state]++
  }
  return c
}

/**
 * Why a running rollout must stop, or undefined: failed + rolled-back reached abortAtPercent of
 * the targets (100 never stops it; at least one failure is needed).
 */
export function abortReason (r: Pick<RolloutRow, 'abortAtPercent' | 'counts'>): string | undefined {
  const { failed, rolledBack, total } = r.counts
  const bad = failed + rolledBack
  if (r.abortAtPercent >= 100 || bad === 0 || bad * 100 < r.abortAtPercent * total) return undefined
  return `${failed} failed and ${rolledBack} rolled back of ${total} devices, at or past the abort threshold of ${r.abortAtPercent}%`
}
