// A rollout followed as events: what changed between two views of it (each device that
// answered, the counts), and what the rollout came to in the end (the exit code and the error
// code of what went wrong). Pure; `lambkin deploy --json` prints these one per line.
import { ErrorCodes } from '../src/errors.js'
import type { DeviceRolloutState, RolloutCounts, RolloutDevice, RolloutView } from './rollout-view.js'

/**
 * A device answered or changed state (never for `pending` or `sent`: those are not answers).
 * An applied device's `health` is its health gate's verdict so far (watching, `watchLeftMs`
 * left; passed; superseded: a newer rollout of the function came while its window was open, and
 * this rollout stopped watching it, `message` says which), a new event when it moves.
 */
export interface DeviceEvent { event: 'device', rollout: string, device: string, state: DeviceRolloutState, version?: string, code?: string, message?: string, at?: number, health?: RolloutDevice['health'], watchLeftMs?: number }

/** The counts changed; `waiting` = pending + sent. */
export interface ProgressEvent { event: 'progress', rollout: string, state: RolloutView['state'], revision: number, counts: RolloutCounts }

/**
 * The rollout stopped running, or the command stopped following it. `ok` and `exitCode` are what
 * the command exits with (EXIT_CODES); `code` names what went wrong when not ok; `devices` is
 * each target's last state, the JSON summary of `--json`.
 */
export interface EndEvent { event: 'end', rollout: string, state: RolloutView['state'], reason?: string, counts: RolloutCounts, ok: boolean, exitCode: number, code?: string, message: string, devices: DeviceSummary[] }

/** One target in the end event: where it stands, and why when it did not apply. */
export type DeviceSummary = Pick<RolloutDevice, 'id' | 'state' | 'version' | 'code' | 'message' | 'health'>

/**
 * The exit codes of a followed rollout (`lambkin deploy`, `lambkin rollback`): 0 every target
 * answered as it should (healthy, when the command waits for the verdict), 1 one failed, rolled
 * back or timed out, or the rollout was aborted, cancelled or superseded, 3 every online target
 * is fine but some stayed offline until the wait ended (they get the version when they return).
 */
export const EXIT_CODES = Object.freeze({ ok: 0, failed: 1, offline: 3 })

/**
 * What the command waits for. `verdict` (the default of `lambkin deploy`): every online
 * target's health verdict, and offline targets until `offlineUntil` (ms since the epoch);
 * without it (`--no-wait`): the rollout's end, which comes at "applied", offline targets never held.
 */
export interface WaitFor { verdict: boolean, offlineUntil?: number }

export type RolloutEvent = DeviceEvent | ProgressEvent | EndEvent

/** States that are an answer from (or about) a device, each shown once as it happens. */
const ANSWERS: ReadonlySet<DeviceRolloutState> = new Set(['applied', 'failed', 'rolled-back', 'offline', 'skipped'])

/** One target of rollout `rollout` as a device event (its state, why, and for an applied one its health). */
export function deviceEvent (rollout: string, d: RolloutDevice): DeviceEvent {
  return {
    event: 'device',
    rollout,
    device: d.id,
    state: d.state,
    ...(d.version === undefined ? {} : { version: d.version }),
    ...(d.code === undefined ? {} : { code: d.code }),
    ...(d.message === undefined ? {} : { message: d.message }),
    ...(d.at === undefined ? {} : { at: d.at }),
    ...(d.state !== 'applied' || d.health === undefined ? {} : { health: d.health }),
    ...(d.state === 'applied' && d.health === 'watching' && d.watchLeftMs !== undefined ? { watchLeftMs: d.watchLeftMs } : {})
  }
}

/** True for a device applied whose health window is still open. */
export const watching = (d: RolloutDevice): boolean => d.state === 'applied' && d.health === 'watching'

/**
 * True once following can stop: the rollout no longer runs and, when waiting for the verdict,
 * no target is sent (a device that came back) or watching its health window, and no target is
 * offline unless `now` is past `offlineUntil`.
 */
export function settled (v: RolloutView, w: WaitFor, now: number): boolean {
  if (v.state === 'running') return false
  if (!w.verdict || v.state !== 'done') return true
  if (v.devices.some((d) => watching(d) || d.state === 'sent' || d.state === 'pending')) return false
  return v.counts.offline === 0 || now >= (w.offlineUntil ?? 0)
}

const sameCounts = (a: RolloutCounts, b: RolloutCounts): boolean =>
  (Object.keys(b) as Array<keyof RolloutCounts>).every((k) => a[k] === b[k])

/**
 * The events between `prev` (undefined for the first view) and `next`: one per device whose
 * answer is new, then a progress event when the counts moved (always for the first view).
 */
export function diffRollout (prev: RolloutView | undefined, next: RolloutView): RolloutEvent[] {
  const before = new Map((prev?.devices ?? []).map((d) => [d.id, d]))
  const out: RolloutEvent[] = []
  for (const d of next.devices) {
    const was = before.get(d.id)
    if (!ANSWERS.has(d.state)) continue
    if (was !== undefined && was.state === d.state && was.code === d.code && was.version === d.version && was.health === d.health) continue
    out.push(deviceEvent(next.id, d))
  }
  if (prev === undefined || !sameCounts(prev.counts, next.counts) || prev.state !== next.state) {
    out.push({ event: 'progress', rollout: next.id, state: next.state, revision: next.revision, counts: next.counts })
  }
  return out
}

/** The code most devices failed or rolled back with (ties: the first seen), if any. */
function commonCode (v: RolloutView): { code: string, message?: string, device: string } | undefined {
  const seen = new Map<string, { n: number, message?: string, device: string }>()
  for (const d of v.devices) {
    if ((d.state !== 'failed' && d.state !== 'rolled-back') || d.code === undefined) continue
    const s = seen.get(d.code) ?? { n: 0, message: d.message, device: d.id }
    s.n++
    seen.set(d.code, s)
  }
  let best: { code: string, message?: string, device: string } | undefined
  let most = 0
  for (const [code, s] of seen) if (s.n > most) { most = s.n; best = { code, message: s.message, device: s.device } }
  return best
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

/** True for a device applied whose health window was still open when a newer rollout superseded its rollout. */
export const superseded = (d: RolloutDevice): boolean => d.state === 'applied' && d.health === 'superseded'

/**
 * "20 applied, 2 failed, 1 offline" from the counts (zeros left out; `none answered` when all
 * are). With `v` (waiting for the verdict), applied splits into healthy, "in health window" and
 * "superseded in health window".
 */
export function countsText (c: RolloutCounts, v?: RolloutView): string {
  const inWindow = v === undefined ? 0 : v.devices.filter(watching).length
  const cut = v === undefined ? 0 : v.devices.filter(superseded).length
  const applied: Array<[number, string]> = v === undefined ? [[c.applied, 'applied']] : [[c.applied - inWindow - cut, 'healthy'], [inWindow, 'in health window'], [cut, 'superseded in health window']]
  const parts: Array<[number, string]> = [...applied, [c.failed, 'failed'], [c.rolledBack, 'rolled back'], [c.offline, 'offline'], [c.skipped, 'skipped'], [c.pending + c.sent, 'waiting']]
  return parts.filter(([n]) => n > 0).map(([n, s]) => `${n} ${s}`).join(', ') || 'none answered'
}

const summary = (d: RolloutDevice): DeviceSummary => ({
  id: d.id,
  state: d.state,
  ...(d.version === undefined ? {} : { version: d.version }),
  ...(d.code === undefined ? {} : { code: d.code }),
  ...(d.message === undefined ? {} : { message: d.message }),
  ...(d.state !== 'applied' || d.health === undefined ? {} : { health: d.health })
})

/**
 * What a finished rollout means for the command that followed it (EXIT_CODES): ok when it is
 * `done`, no target failed or rolled back and, waiting for the verdict (`w.verdict`), every
 * applied target passed its health window. Skipped targets (a rollback with nothing to go back
 * to) do not make it fail. Offline targets: without the verdict they do not either (they
 * converge when they return); with it they exit 3 with LAMBKIN_DEVICE_OFFLINE. Otherwise the
 * code is LAMBKIN_ROLLOUT_ABORTED for an aborted, cancelled or superseded rollout
 * (src/errors.ts), LAMBKIN_DEPLOY_TIMEOUT for one still running or still in a health window
 * when the command gave up following, else the code most failing devices gave.
 */
export function rolloutOutcome (v: RolloutView, w: WaitFor = { verdict: false }): EndEvent {
  const base = { event: 'end' as const, rollout: v.id, state: v.state, ...(v.reason === undefined ? {} : { reason: v.reason }), counts: v.counts, devices: v.devices.map(summary) }
  const fail = { ok: false, exitCode: EXIT_CODES.failed }
  const c = v.counts
  const common = commonCode(v)
  const why = common === undefined ? '' : ` (${common.device}: ${common.code}${common.message === undefined ? '' : `: ${common.message}`})`
  const counts = countsText(c, w.verdict ? v : undefined)
  const tail = `${counts}${why}`
  if (v.state === 'aborted') return { ...base, ...fail, code: ErrorCodes.ROLLOUT_ABORTED, message: `rollout ${v.id} aborted${v.reason === undefined ? '' : `: ${v.reason}`}; ${tail}` }
  if (v.state === 'cancelled' || v.state === 'superseded') return { ...base, ...fail, code: ErrorCodes.ROLLOUT_ABORTED, message: `rollout ${v.id} ${v.state}${v.reason === undefined ? '' : `: ${v.reason}`}; ${tail}` }
  if (v.state === 'running') return { ...base, ...fail, code: ErrorCodes.DEPLOY_TIMEOUT, message: `rollout ${v.id} is still running; ${tail}` }
  if (c.failed + c.rolledBack > 0) {
    return { ...base, ...fail, code: common?.code ?? ErrorCodes.DEPLOY_TIMEOUT, message: `rollout ${v.id}: ${plural(c.failed + c.rolledBack, 'device')} of ${c.total} did not apply; ${tail}` }
  }
  const unsettled = w.verdict ? v.devices.filter((d) => watching(d) || d.state === 'sent' || d.state === 'pending') : []
  if (unsettled.length > 0) {
    return { ...base, ...fail, code: ErrorCodes.DEPLOY_TIMEOUT, message: `rollout ${v.id}: no health verdict yet from ${unsettled.map((d) => d.id).join(', ')} when the command stopped waiting; ${tail} (lambkin rollouts shows it later)` }
  }
  const skipped = c.skipped > 0 ? `${plural(c.skipped, 'device')} skipped${v.kind === 'rollback' ? ' (no earlier version to go back to)' : ''}` : ''
  const away = `${plural(c.offline, 'device')} offline will get it when ${c.offline === 1 ? 'it returns' : 'they return'} (lambkin rollouts shows ${c.offline === 1 ? 'it' : 'them'})`
  if (w.verdict && c.offline > 0) {
    const ids = v.devices.filter((d) => d.state === 'offline').map((d) => d.id)
    return { ...base, ok: false, exitCode: EXIT_CODES.offline, code: ErrorCodes.DEVICE_OFFLINE, message: `rollout ${v.id}: ${counts}; still offline when the wait ended: ${ids.join(', ')}; ${away}${skipped === '' ? '' : `; ${skipped}`}` }
  }
  const notes = [c.offline > 0 ? away : '', skipped].filter((s) => s !== '')
  return { ...base, ok: true, exitCode: EXIT_CODES.ok, message: `rollout ${v.id} done: ${counts}${notes.length === 0 ? '' : `; ${notes.join('; ')}`}` }
}
