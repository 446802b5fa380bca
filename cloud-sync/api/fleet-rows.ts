// What the dashboard shows of the fleet, derived from registry rows: a devices-table row per
// device (active against desired versions, errors in the last hour), the fleet summary, and
// a rollout's line. Pure functions; fleet-feed.ts reads the rows they take.
import type { DesiredRow, DeviceRow, ReportedRow, RolloutRow } from '../registry/index.js'
import type { FleetFunction, FleetRow, FleetSummary, FleetTakeovers, RolloutLine } from './dashboard-types.js'
import { MINUTE_MS, WINDOW_MINUTES } from './metric-window.js'
import type { MetricWindow } from './metric-window.js'
import { TAKEOVERS_SHARED, deviceView, recentTakeovers } from './views.js'
import { own } from '../../src/own.js'

/** Minutes the summary's per-minute figures average over. */
export const RATE_WINDOW_MINUTES = 5

/**
 * Why the registry holds a device in conflict [W4], in whichever of the shapes a registry
 * backend may give it (a `conflict` object or message, a `conflicts` count or list, or the
 * state itself); null when none says so.
 */
export function conflictOf (view: Record<string, unknown>): string | null {
  const c = view.conflict ?? view.conflicts
  if (view.state === 'conflict' && (c === undefined || c === null)) return 'records conflict with stored ones'
  if (c === undefined || c === null || c === false || c === 0) return null
  if (Array.isArray(c)) return c.length === 0 ? null : `${c.length} conflicting batch${c.length === 1 ? '' : 'es'}`
  if (typeof c === 'number') return `${c} conflicting batch${c === 1 ? '' : 'es'}`
  if (typeof c === 'string') return c
  if (typeof c === 'object') {
    const o = c as { message?: unknown, count?: unknown, seq?: unknown }
    if (typeof o.message === 'string') return o.message
    if (typeof o.count === 'number') return o.count === 0 ? null : `${o.count} conflicting batch${o.count === 1 ? '' : 'es'}`
    if (typeof o.seq === 'number') return `seq ${o.seq} arrived with different bytes`
  }
  return 'records conflict with stored ones'
}

/** The number the cloud gave `version` of `fn` on this device, when its desired state remembers it. */
function numberOf (desired: DesiredRow | undefined, fn: string, version: string): number | null {
  const slot = own(desired?.functions, fn)
  if (slot === undefined) return null
  for (const e of [slot.current, slot.previous, ...(slot.good ?? [])]) {
    if (e?.live.version === version) return e.live.number
    if (e?.canary?.version === version) return e.canary.number
  }
  return null
}

/** Active functions: the newer of the device's report [W5] and its status [W3]. */
function activeOf (d: DeviceRow, reported: ReportedRow | undefined): Array<{ name: string, version: string, canary?: { version: string, weight: number } }> {
  const fromStatus = d.status?.functions ?? []
  if (reported === undefined || (d.status !== undefined && d.status.state === 'online' && d.status.at > reported.receivedAt && fromStatus.length > 0)) return fromStatus
  return reported.functions
}

/**
 * The row's takeovers (FleetRow.takeovers) counted at `takeoversNow`, the time they are taken
 * on (broker/takeovers.ts, Takeovers.now); null for a device never taken over.
 */
export function takeoversOf (d: DeviceRow, takeoversNow: number): FleetTakeovers | null {
  const t = d.takeovers
  if (t === undefined || t.count === 0) return null
  const recent = recentTakeovers(d, takeoversNow)
  return { count: t.count, recent, lastAt: t.lastAt, shared: recent >= TAKEOVERS_SHARED }
}

/** A devices-table row; `takeoversNow`: the time takeovers are counted against (default `now`). */
export function fleetRow (
  d: DeviceRow,
  now: number,
  connected: boolean,
  reported: ReportedRow | undefined,
  desired: DesiredRow | undefined,
  window: MetricWindow | undefined,
  takeoversNow = now
): FleetRow {
  const view = deviceView(d, now, connected, undefined, takeoversNow)
  const fns = new Map<string, FleetFunction>()
  for (const f of activeOf(d, reported)) {
    fns.set(f.name, {
      name: f.name,
      version: f.version,
      number: numberOf(desired, f.name, f.version),
      desired: null,
      desiredNumber: null,
      canary: f.canary === undefined ? null : { version: f.canary.version, weight: f.canary.weight }
    })
  }
  for (const [name, slot] of Object.entries(desired?.functions ?? {})) {
    if (slot.current === undefined) continue
    const f = fns.get(name) ?? { name, version: null, number: null, desired: null, desiredNumber: null, canary: null }
    f.desired = slot.current.live.version
    f.desiredNumber = slot.current.live.number
    fns.set(name, f)
  }
  const functions = [...fns.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const hour = window?.total(now) ?? { invocations: 0, errors: 0 }
  return {
    id: d.id,
    group: d.group ?? null,
    state: view.state as FleetRow['state'],
    conflict: conflictOf(view),
    takeovers: takeoversOf(d, takeoversNow),
    connected,
    lastSeen: d.lastSeen ?? null,
    agent: d.status?.agent ?? null,
    functions,
    mismatch: functions.some((f) => f.desired !== null && f.desired !== f.version),
    applying: reported?.applying === true,
    backlog: d.heartbeat?.backlog ?? null,
    uploadedToday: d.heartbeat?.uploadedToday ?? null,
    invocationsHour: hour.invocations,
    errorsHour: hour.errors,
    highWater: d.highWater
  }
}

/** The fleet summary from every row and every device's metric window. */
export function fleetSummary (rows: Iterable<FleetRow>, windows: Iterable<MetricWindow>, rolloutsRunning: number, now: number): FleetSummary {
  const devices = { total: 0, online: 0, stale: 0, offline: 0, neverSeen: 0, revoked: 0, conflict: 0, shared: 0 }
  const names = new Set<string>()
  let functionsRunning = 0
  const backlog = { records: 0, bytes: 0 }
  let uploadedToday = 0
  for (const r of rows) {
    devices.total++
    if (r.state === 'online') devices.online++
    else if (r.state === 'stale') devices.stale++
    else if (r.state === 'offline') devices.offline++
    else if (r.state === 'never-seen') devices.neverSeen++
    else if (r.state === 'revoked') devices.revoked++
    if (r.conflict !== null) devices.conflict++
    if (r.takeovers?.shared === true) devices.shared++
    if (r.state === 'online') {
      for (const f of r.functions) {
        if (f.version === null) continue
        functionsRunning++
        names.add(f.name)
      }
    }
    if (r.backlog !== null) { backlog.records += r.backlog.records; backlog.bytes += r.backlog.bytes }
    uploadedToday += r.uploadedToday ?? 0
  }
  const last = Math.floor(now / MINUTE_MS)
  const minutes = Array.from({ length: WINDOW_MINUTES }, (_, i) => (last - WINDOW_MINUTES + 1 + i) * MINUTE_MS)
  const invocations = new Array<number>(WINDOW_MINUTES).fill(0)
  const errors = new Array<number>(WINDOW_MINUTES).fill(0)
  for (const w of windows) {
    for (const [m, f] of w.minutes) {
      const i = m - (last - WINDOW_MINUTES + 1)
      if (i < 0 || i >= WINDOW_MINUTES) continue
      invocations[i] += f.invocations
      errors[i] += f.errors
    }
  }
  const recent = (xs: number[]): number => xs.slice(-RATE_WINDOW_MINUTES).reduce((a, b) => a + b, 0) / RATE_WINDOW_MINUTES
  return {
    devices,
    functionsRunning,
    functionNames: names.size,
    perMinute: { invocations: recent(invocations), errors: recent(errors), windowMinutes: RATE_WINDOW_MINUTES },
    series: { minutes, invocations, errors },
    backlog,
    uploadedToday,
    rolloutsRunning
  }
}

/** A rollout's line: the API's view without its device list. */
export function rolloutLine (r: RolloutRow): RolloutLine {
  return {
    id: r.id,
    kind: r.kind,
    fn: r.fn,
    version: r.version,
    number: r.number,
    to: r.to,
    alias: r.alias,
    weight: r.weight ?? null,
    state: r.state,
    reason: r.reason ?? null,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt ?? null,
    revision: r.revision,
    ratePerMin: r.ratePerMin ?? null,
    abortAtPercent: r.abortAtPercent,
    counts: { ...r.counts }
  }
}
