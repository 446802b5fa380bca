// Versions a device will not apply again: the sha256s it rolled back from (health gate) or
// refused / failed to prepare, per function, kept in the active set. Without this, every newer
// desired state (desired is the whole set, so a deployment of any other function lists F
// again) would apply a version the device already judged bad and run its health check again,
// over and over. A new version (a new sha256) is a new try; the same bytes never are.
import { ErrorCodes } from '../../src/errors.js'
import type { DesiredFunction, ReportedFailure } from '../../src/wire/index.js'
import { own } from '../../src/own.js'
import type { ActiveSet, Aliases } from './active-set.js'
import { isTransient } from './transient.js'
import { deploymentName } from './naming.js'

/** Rejected versions kept per function, newest last (older ones drop off). */
export const MAX_REJECTED_PER_FUNCTION = 5

/** One version a device rolled back from or could not apply. */
export interface RejectedVersion {
  sha256: string
  version: string
  /** The deployment id that brought it. */
  deploymentId: number
  /** LAMBKIN_HEALTH_CHECK_FAILED for a rollback; the refusal's code otherwise. */
  code: string
  rolledBack: boolean
  /** The rollout that brought it (desired state's label), when known. */
  rollout?: string
}

/**
 * Failures that say nothing about the bytes: the transient ones (transient.ts: a full disk,
 * an I/O error, a fetch that timed out) and a stale deployment id. The same version is tried
 * again, and applies once the fault is gone.
 */
function notTheBytes (code: string): boolean {
  return isTransient(code) || code === ErrorCodes.DEPLOYMENT_STALE
}

/** Remembers `v` as rejected for `name` (mutates `rejected`); a failure that is not the bytes' is not remembered. */
export function rememberRejected (rejected: Record<string, RejectedVersion[]>, name: string, v: RejectedVersion): void {
  if (!v.rolledBack && notTheBytes(v.code)) return
  const list = (own(rejected, name) ?? []).filter((x) => x.sha256 !== v.sha256)
  list.push(v)
  rejected[name] = list.slice(-MAX_REJECTED_PER_FUNCTION)
}

/** The first version of `d` (live, then canary) this device rejected before, if any. */
export function rejectedVersionOf (rejected: Readonly<Record<string, RejectedVersion[]>>, d: DesiredFunction): RejectedVersion | undefined {
  const list = own(rejected, d.name) ?? []
  return [d.live.sha256, d.canary?.sha256].map((sha) => list.find((x) => x.sha256 === sha)).find((x) => x !== undefined)
}

/** A stable key for what a desired entry asks for: bundles and canary weight. */
export function desiredKey (a: Aliases): string {
  return a.canary === undefined ? a.live.sha256 : `${a.live.sha256}+${a.canary.sha256}@${a.canary.weight}`
}

/**
 * Desired entry `name` at deployment `D` names rejected version `r`: what runs keeps running
 * and a failure is recorded at D in `next.failures`, so an operator's deployment of these bytes
 * again is judged failed [W5]. Desired is the whole set, so every deployment of any other
 * function lists the entry too: when the entry is not what `changed`, the failure recorded at
 * an earlier id moves to D instead of piling up in the 20-entry history. Returns the failure
 * when it is new (the entry changed: log and count it), else undefined.
 */
export function recordRejected (next: ActiveSet, D: number, name: string, r: RejectedVersion, changed: boolean, at: number): ReportedFailure | undefined {
  const x = rejectedFailure(D, name, r, at)
  if (!changed) next.failures = next.failures.filter((y) => !(y.name === x.name && y.message === x.message))
  next.failures.push(x)
  return changed ? x : undefined
}

/** The failure a desired entry naming a rejected version records [W5]. */
export function rejectedFailure (deploymentId: number, name: string, r: RejectedVersion, at: number): ReportedFailure {
  const what = r.rolledBack ? 'was rolled back on this device' : `was refused by this device (${r.code})`
  return {
    deploymentId,
    name,
    version: r.version,
    code: r.rolledBack ? ErrorCodes.HEALTH_CHECK_FAILED : r.code,
    message: `version ${r.version} ${what} at ${deploymentName(r.deploymentId, r.rollout)}; deploy a new version`,
    at
  }
}
