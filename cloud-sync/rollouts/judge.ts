// How the cloud judges a device in a rollout from its `up/reported` [W5], exactly as the issue
// 12 contract says, and the counts and abort rule that follow. Pure functions.
import { ErrorCodes } from '../../src/errors.js'
import type { ReportedFrame } from '../../src/wire/index.js'
import type { RolloutCounts, RolloutDevice, RolloutRow } from '../registry/index.js'

/** A device's new state from a report, or undefined when the report says nothing new about it. */
export type Verdict = Pick<RolloutDevice, 'state' | 'code' | 'message'>

/**
 * For a device whose desired state got id D from this rollout (function F, target version V):
 * failed when `failures` has { deploymentId: D, name: F }; rolled-back when `rollbacks` has
 * { D, F } (which may come after applied); applied when the report's deploymentId >= D and F
 * runs V (live, or the canary for a canary rollout) and neither of the above.
 */
export function judge (r: Pick<RolloutRow, 'fn' | 'alias'>, d: RolloutDevice, rep: ReportedFrame): Verdict | undefined {
  const id = d.deploymentId
  if (id === undefined) return undefined
  const rb = rep.rollbacks.find((x) => x.deploymentId === id && x.name === r.fn)
  if (rb !== undefined) return { state: 'rolled-back', code: rb.code, message: rb.message }
  if (d.state === 'applied') return undefined
  const failed = rep.failures.find((x) => x.deploymentId === id && x.name === r.fn)
  if (failed !== undefined) return { state: 'failed', code: failed.code, message: failed.message }
  if (rep.deploymentId < id) return undefined
  const runs = rep.functions.find((f) => f.name === r.fn)
  const version = r.alias === 'canary' ? runs?.canary?.version : runs?.version
  return version !== undefined && version === d.version ? { state: 'applied' } : undefined
}

/** Failed by the cloud's timeout (LAMBKIN_DEPLOY_TIMEOUT, set by the engine), not by the device. */
export function timedOut (d: RolloutDevice): boolean {
  return d.state === 'failed' && d.code === ErrorCodes.DEPLOY_TIMEOUT && d.message?.startsWith('connected but no report') === true
}

/**
 * States a device's verdict may still change from: skipped and failed are final, except a
 * cloud timeout, which a later report may still turn into applied, failed or rolled-back.
 */
export function judgeable (d: RolloutDevice): boolean {
  return d.state === 'sent' || d.state === 'offline' || d.state === 'applied' || timedOut(d)
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
