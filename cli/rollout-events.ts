// A rollout followed as events: what changed between two views of it (each device that
// answered, the counts), and what the rollout came to in the end (the exit code and the error
// code of what went wrong). Pure; `lambkin deploy --json` prints these one per line.
import { ErrorCodes } from '../src/errors.js'
import type { DeviceRolloutState, RolloutCounts, RolloutDevice, RolloutView } from './rollout-view.js'

/** A device answered or changed state (never for `pending` or `sent`: those are not answers). */
export interface DeviceEvent { event: 'device', rollout: string, device: string, state: DeviceRolloutState, version?: string, code?: string, message?: string, at?: number }

/** The counts changed; `waiting` = pending + sent. */
export interface ProgressEvent { event: 'progress', rollout: string, state: RolloutView['state'], revision: number, counts: RolloutCounts }

/**
 * The rollout stopped running, or the command stopped following it. `ok` is what the exit code
 * says; `code` names what went wrong when not ok.
 */
export interface EndEvent { event: 'end', rollout: string, state: RolloutView['state'], reason?: string, counts: RolloutCounts, ok: boolean, code?: string, message: string }

export type RolloutEvent = DeviceEvent | ProgressEvent | EndEvent

/** States that are an answer from (or about) a device, each shown once as it happens. */
const ANSWERS: ReadonlySet<DeviceRolloutState> = new Set(['applied', 'failed', 'rolled-back', 'offline', 'skipped'])

function deviceEvent (rollout: string, d: RolloutDevice): DeviceEvent {
  return {
    event: 'device',
    rollout,
    device: d.id,
    state: d.state,
    ...(d.version === undefined ? {} : { version: d.version }),
    ...(d.code === undefined ? {} : { code: d.code }),
    ...(d.message === undefined ? {} : { message: d.message }),
    ...(d.at === undefined ? {} : { at: d.at })
  }
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
    if (was !== undefined && was.state === d.state && was.code === d.code && was.version === d.version) continue
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

/** "20 applied, 2 failed, 1 offline" from the counts (zeros left out; `none answered` when all are). */
export function countsText (c: RolloutCounts): string {
  const parts: Array<[number, string]> = [[c.applied, 'applied'], [c.failed, 'failed'], [c.rolledBack, 'rolled back'], [c.offline, 'offline'], [c.skipped, 'skipped'], [c.pending + c.sent, 'waiting']]
  return parts.filter(([n]) => n > 0).map(([n, s]) => `${n} ${s}`).join(', ') || 'none answered'
}

/**
 * What a finished rollout means for the command that followed it: ok (exit 0) when it is
 * `done` and no target failed or rolled back. Offline targets do not make it fail (they
 * converge when they return) and neither do skipped ones (a rollback with nothing to go back
 * to); both are named in the message. Otherwise the code is LAMBKIN_ROLLOUT_ABORTED for an
 * aborted, cancelled or superseded rollout (src/errors.ts), LAMBKIN_DEPLOY_TIMEOUT for one
 * still running when the command gave up following, else the code most failing devices gave.
 */
export function rolloutOutcome (v: RolloutView): EndEvent {
  const base = { event: 'end' as const, rollout: v.id, state: v.state, ...(v.reason === undefined ? {} : { reason: v.reason }), counts: v.counts }
  const c = v.counts
  const common = commonCode(v)
  const why = common === undefined ? '' : ` (${common.device}: ${common.code}${common.message === undefined ? '' : `: ${common.message}`})`
  const tail = `${countsText(c)}${why}`
  if (v.state === 'aborted') return { ...base, ok: false, code: ErrorCodes.ROLLOUT_ABORTED, message: `rollout ${v.id} aborted${v.reason === undefined ? '' : `: ${v.reason}`}; ${tail}` }
  if (v.state === 'cancelled' || v.state === 'superseded') return { ...base, ok: false, code: ErrorCodes.ROLLOUT_ABORTED, message: `rollout ${v.id} ${v.state}${v.reason === undefined ? '' : `: ${v.reason}`}; ${tail}` }
  if (v.state === 'running') return { ...base, ok: false, code: ErrorCodes.DEPLOY_TIMEOUT, message: `rollout ${v.id} is still running; ${tail}` }
  if (c.failed + c.rolledBack > 0) {
    return { ...base, ok: false, code: common?.code ?? ErrorCodes.DEPLOY_TIMEOUT, message: `rollout ${v.id}: ${plural(c.failed + c.rolledBack, 'device')} of ${c.total} did not apply; ${tail}` }
  }
  const notes = [
    c.offline > 0 ? `${plural(c.offline, 'device')} offline will get it when ${c.offline === 1 ? 'it returns' : 'they return'} (lambkin rollouts shows them)` : '',
    c.skipped > 0 ? `${plural(c.skipped, 'device')} skipped${v.kind === 'rollback' ? ' (no earlier version to go back to)' : ''}` : ''
  ].filter((s) => s !== '')
  return { ...base, ok: true, message: `rollout ${v.id} done: ${countsText(c)}${notes.length === 0 ? '' : `; ${notes.join('; ')}`}` }
}
