// Turning an operator's request into a new rollout row: the request checked (stable codes),
// the targets resolved (a device, or every device of `group:<name>`), and each target's
// starting state (a canary with no live version to split with, or a rollback with nothing to
// go back to, is skipped with the reason).
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import type { BundleRow, Registry, RolloutDevice, RolloutRow } from '../registry/index.js'
import { goodBefore } from '../registry/deploy-plan.js'
import { countDevices } from './judge.js'
import { ROLLOUT_DEFAULTS } from './types.js'
import type { DeployRequest, RollbackRequest } from './types.js'
import { own } from '../../src/own.js'

const bad = (message: string): LambkinError => new LambkinError(ErrorCodes.REQUEST_INVALID, message)

/** Settings of a rollout after defaults and checks. */
export interface RolloutSettings { alias: 'live' | 'canary', weight?: number, ratePerMin?: number, abortAtPercent: number, timeoutMs: number }

function timeoutOf (v: unknown): number {
  if (v === undefined || v === null) return ROLLOUT_DEFAULTS.timeoutMs
  if (!Number.isInteger(v) || (v as number) < ROLLOUT_DEFAULTS.minTimeoutMs || (v as number) > ROLLOUT_DEFAULTS.maxTimeoutMs) throw bad(`timeoutMs must be an integer from ${ROLLOUT_DEFAULTS.minTimeoutMs} to ${ROLLOUT_DEFAULTS.maxTimeoutMs}`)
  return v as number
}

/** Checks a deploy request's settings. @throws LambkinError LAMBKIN_REQUEST_INVALID naming the field. */
export function deploySettings (req: Partial<DeployRequest>): RolloutSettings {
  const alias = req.alias ?? 'live'
  if (alias !== 'live' && alias !== 'canary') throw bad('alias must be "live" or "canary"')
  if (alias === 'canary' && !(Number.isInteger(req.weight) && (req.weight as number) >= 1 && (req.weight as number) <= 99)) throw bad('a canary needs weight, an integer percentage from 1 to 99')
  if (alias === 'live' && req.weight !== undefined) throw bad('weight goes with alias "canary" only')
  if (req.ratePerMin !== undefined && !(typeof req.ratePerMin === 'number' && Number.isFinite(req.ratePerMin) && req.ratePerMin >= ROLLOUT_DEFAULTS.minRatePerMin)) throw bad(`ratePerMin must be a number of devices per minute, at least ${ROLLOUT_DEFAULTS.minRatePerMin.toPrecision(2)} (one a year)`)
  const abort = req.abortAtPercent ?? ROLLOUT_DEFAULTS.abortAtPercent
  if (typeof abort !== 'number' || !Number.isFinite(abort) || abort < 0 || abort > 100) throw bad('abortAtPercent must be a number from 0 to 100')
  const s: RolloutSettings = { alias, abortAtPercent: abort, timeoutMs: timeoutOf(req.timeoutMs) }
  if (alias === 'canary') s.weight = req.weight
  if (req.ratePerMin !== undefined) s.ratePerMin = req.ratePerMin
  return s
}

/**
 * The device ids `to` names: one registered, unrevoked device, or every unrevoked device of a
 * group, sorted. @throws LambkinError LAMBKIN_REQUEST_INVALID for a malformed `to`,
 * LAMBKIN_DEVICE_NOT_FOUND for an unknown device or an empty group.
 */
export async function resolveTargets (registry: Registry, to: unknown): Promise<string[]> {
  if (typeof to !== 'string') throw bad('to must be a device id or group:<name>')
  if (to.startsWith('group:')) {
    const group = to.slice('group:'.length)
    if (!isValidId(group)) throw bad(`${to} is not a group name`)
    const ids = (await registry.listDevices()).filter((d) => d.group === group && d.revokedAt === undefined).map((d) => d.id).sort()
    if (ids.length === 0) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `group ${group} has no devices; see lambkin devices`)
    return ids
  }
  if (!isValidId(to)) throw bad('to must be a device id or group:<name>')
  const d = await registry.getDevice(to)
  if (d === undefined || d.revokedAt !== undefined) throw new LambkinError(ErrorCodes.DEVICE_NOT_FOUND, `no device ${to}${d === undefined ? '' : ' (revoked)'}; see lambkin devices`)
  return [to]
}

function row (base: Omit<RolloutRow, 'id' | 'counts' | 'state' | 'revision' | 'open'>): Omit<RolloutRow, 'id'> {
  return { ...base, state: 'running', revision: 1, open: true, counts: countDevices(base.devices) }
}

/** A new deploy rollout of `b` to `targets`: each pending, or skipped (a canary with no live version there). */
export async function deployRow (registry: Registry, b: BundleRow, to: string, targets: string[], s: RolloutSettings, now: number): Promise<Omit<RolloutRow, 'id'>> {
  const devices: RolloutDevice[] = []
  for (const id of targets) {
    const current = s.alias === 'canary' ? own((await registry.getDesired(id))?.functions, b.name)?.current : undefined
    devices.push(s.alias === 'canary' && current === undefined
      ? { id, state: 'skipped', version: b.version, message: `no live version of ${b.name} was deployed here for a canary to split with; deploy one with alias live first`, at: now }
      : { id, state: 'pending', version: b.version })
  }
  return row({ kind: 'deploy', fn: b.name, version: b.version, number: b.number, sha256: b.sha256, to, ...s, createdAt: now, devices })
}

/**
 * A new rollback rollout of `req.fn`: each target goes back to the newest entry it was judged
 * applied on and kept (goodBefore: never one it refused or rolled back) that differs from its
 * current one; one with none is skipped. The row's version, number and sha256 are the first
 * target's. @throws LambkinError LAMBKIN_FUNCTION_NOT_FOUND when no target ever had a
 * deployed version of the function (nothing to roll back anywhere).
 */
export async function rollbackRow (registry: Registry, req: RollbackRequest, targets: string[], now: number): Promise<Omit<RolloutRow, 'id'>> {
  if (!isValidId(req.fn)) throw bad('fn must be a function name')
  const devices: RolloutDevice[] = []
  let first: { version: string, number: number, sha256: string } | undefined
  let had = 0
  for (const id of targets) {
    const slot = own((await registry.getDesired(id))?.functions, req.fn)
    if (slot !== undefined) had++
    const prev = goodBefore(slot)
    if (prev === undefined) {
      devices.push({ id, state: 'skipped', message: slot === undefined ? `${req.fn} was never deployed here` : `no previous version of ${req.fn} that this device applied and kept (one it refused or rolled back is never a rollback target)`, at: now })
      continue
    }
    first ??= { version: prev.live.version, number: prev.live.number, sha256: prev.live.sha256 }
    devices.push({ id, state: 'pending', version: prev.live.version })
  }
  if (had === 0) {
    // A group or `all` names many devices; a bare id names one.
    const one = targets.length === 1 && req.to === targets[0]
    const what = one ? `device ${req.to} has no deployed version of ${req.fn}` : `no device in ${req.to} has a deployed version of ${req.fn}`
    throw new LambkinError(ErrorCodes.FUNCTION_NOT_FOUND, `${what}; see lambkin rollouts`)
  }
  return row({ kind: 'rollback', fn: req.fn, version: first?.version ?? '', number: first?.number ?? 0, sha256: first?.sha256 ?? '', to: req.to, alias: 'live', abortAtPercent: 100, timeoutMs: timeoutOf(req.timeoutMs), createdAt: now, devices })
}
