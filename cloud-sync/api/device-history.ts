// A device over time, for the dashboard's device page: per-function series from its metric
// snapshots (one point per snapshot: invocations, error rate, duration p50/p95/p99, memory
// high-water), and its deployment history merged from the rollouts that reached it and its own
// reports of refusals and rollbacks [W5].
import type { DesiredRow, Registry, ReportedRow, RolloutRow, StoredRecord } from '../registry/index.js'
import type { DeploymentEvent, DeploymentsView, FunctionSeries, SeriesView } from './dashboard-types.js'
import { quantileMs } from './views.js'
import { own } from '../../src/own.js'

/** Snapshots a series answer covers by default (six hours at one a minute), and at most. */
export const SERIES_DEFAULT = 360
export const SERIES_MAX = 5000
/** Rollouts searched for a device's history. */
export const HISTORY_ROLLOUTS = 50

interface Figures {
  invocations?: unknown
  errors?: Record<string, unknown>
  memoryHighWaterBytes?: unknown
  durationSeconds?: { counts?: unknown, max?: unknown }
}

const num = (n: unknown): number => typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0
const round = (n: number | null): number | null => n === null ? null : Math.round(n * 1000) / 1000

/** Series per function from metric records, oldest first; snapshots that are not deltas are skipped. */
export function seriesOf (device: string, records: StoredRecord[]): SeriesView {
  const functions: Record<string, FunctionSeries> = Object.create(null) as Record<string, FunctionSeries>
  let snapshots = 0
  for (const r of records) {
    const snap = r.data as { kind?: unknown, to?: unknown, bucketsSeconds?: unknown, functions?: unknown } | null
    if (snap === null || typeof snap !== 'object' || snap.kind !== 'delta' || snap.functions === null || typeof snap.functions !== 'object') continue
    snapshots++
    const t = typeof snap.to === 'number' && Number.isFinite(snap.to) ? snap.to : r.time
    const bounds = Array.isArray(snap.bucketsSeconds) ? snap.bucketsSeconds.filter((b): b is number => typeof b === 'number') : []
    for (const [name, raw] of Object.entries(snap.functions as Record<string, Figures>)) {
      if (raw === null || typeof raw !== 'object') continue
      const s = functions[name] ??= { t: [], invocations: [], errorRate: [], p50: [], p95: [], p99: [], memoryBytes: [] }
      const inv = num(raw.invocations)
      const errs = Object.values(raw.errors ?? {}).reduce<number>((a, n) => a + num(n), 0)
      const counts = Array.isArray(raw.durationSeconds?.counts) ? raw.durationSeconds.counts.map(num) : []
      const maxMs = num(raw.durationSeconds?.max) * 1000
      const q = (p: number): number | null => counts.length === bounds.length + 1 ? round(quantileMs(p, bounds, counts, maxMs)) : null
      s.t.push(t)
      s.invocations.push(inv)
      s.errorRate.push(inv === 0 ? null : round((errs / inv) * 100))
      s.p50.push(q(0.5))
      s.p95.push(q(0.95))
      s.p99.push(q(0.99))
      s.memoryBytes.push(raw.memoryHighWaterBytes === undefined ? null : num(raw.memoryHighWaterBytes))
    }
  }
  return { device, snapshots, functions }
}

function numberIn (desired: DesiredRow | undefined, fn: string, version: string | undefined): number | null {
  const slot = own(desired?.functions, fn)
  if (slot === undefined || version === undefined) return null
  for (const e of [slot.current, slot.previous, ...(slot.good ?? [])]) {
    if (e?.live.version === version) return e.live.number
    if (e?.canary?.version === version) return e.canary.number
  }
  return null
}

/**
 * The device's deployment history, newest first: each rollout step it went through, and what
 * it reported itself (a refusal, a rollback by its health gate) in place of the rollout's
 * echo of the same deployment.
 */
export function historyOf (device: string, rollouts: RolloutRow[], reported: ReportedRow | undefined, desired: DesiredRow | undefined): DeploymentsView {
  const events: DeploymentEvent[] = []
  const own = new Set<string>()
  for (const f of reported?.failures ?? []) {
    own.add(`failed ${f.deploymentId} ${f.name}`)
    events.push({ at: f.at, fn: f.name, step: 'refused', version: f.version ?? null, number: numberIn(desired, f.name, f.version), rollout: null, deploymentId: f.deploymentId, code: f.code, message: f.message })
  }
  for (const b of reported?.rollbacks ?? []) {
    own.add(`rolled-back ${b.deploymentId} ${b.name}`)
    const to = b.to === undefined ? 'none' : `${numberIn(desired, b.name, b.to) ?? b.to}`
    events.push({ at: b.at, fn: b.name, step: 'rolled-back', version: b.from, number: numberIn(desired, b.name, b.from), rollout: null, deploymentId: b.deploymentId, code: b.code, message: `${b.message} (back to ${to})` })
  }
  for (const r of rollouts) {
    for (const d of r.devices) {
      if (d.id !== device || d.state === 'pending') continue
      if (own.has(`${d.state} ${d.deploymentId ?? ''} ${r.fn}`)) continue
      const version = d.version ?? r.version
      events.push({ at: d.at ?? r.createdAt, fn: r.fn, step: d.state, version, number: version === r.version && r.kind === 'deploy' ? r.number : numberIn(desired, r.fn, version), rollout: r.id, deploymentId: d.deploymentId ?? null, code: d.code ?? null, message: d.message ?? null })
    }
  }
  events.sort((a, b) => b.at - a.at)
  return {
    device,
    reported: reported === undefined ? null : { deploymentId: reported.deploymentId, applying: reported.applying, receivedAt: reported.receivedAt },
    desiredDeploymentId: desired?.deploymentId ?? null,
    history: events
  }
}

export async function deviceSeries (registry: Registry, device: string, limit = SERIES_DEFAULT): Promise<SeriesView> {
  return seriesOf(device, (await registry.records(device, { kinds: ['metric'], limit })).reverse())
}

export async function deviceDeployments (registry: Registry, device: string): Promise<DeploymentsView> {
  const [rollouts, reported, desired] = await Promise.all([
    registry.listRollouts({ limit: HISTORY_ROLLOUTS }),
    registry.getReported(device),
    registry.getDesired(device)
  ])
  return historyOf(device, rollouts, reported, desired)
}
