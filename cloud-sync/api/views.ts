// What operators see, derived from registry rows: a device's state (online / stale / offline,
// or conflict), its problems with what to do, and per-function metrics summed from the
// devices' metric snapshots.
import { ErrorCodes } from '../../src/errors.js'
import type { DeviceRow, ReportedRow, StoredRecord } from '../registry/index.js'
import { dict } from '../../src/own.js'
import { readableData } from '../../src/wire/index.js'

export type DeviceState = 'online' | 'stale' | 'offline' | 'never-seen' | 'revoked' | 'conflict'

/**
 * [W4] How long after its last refused batch a device shows as `conflict`: longer than the
 * device's longest wait between tries (device/sync, CONFLICT_MAX_BACKOFF_MS, 10 min), so a
 * clone still trying stays shown, and one given its own id clears within the hour.
 */
export const CONFLICT_SHOWN_MS = 3_600_000
/** Takeovers within this window, at least TAKEOVERS_SHARED of them, say two clients share an id. */
export const TAKEOVER_WINDOW_MS = 600_000
export const TAKEOVERS_SHARED = 3

/** Takeovers of the device's connection within TAKEOVER_WINDOW_MS before `now`. */
export function recentTakeovers (d: DeviceRow, now: number): number {
  return (d.takeovers?.recent ?? []).filter((t) => now - t < TAKEOVER_WINDOW_MS).length
}

/** Heartbeats missed before an online device is shown as stale. */
export const STALE_AFTER_HEARTBEATS = 3
/** Assumed heartbeat interval when a device did not say (its status frame carries heartbeatMs). */
export const DEFAULT_HEARTBEAT_MS = 30_000

/**
 * A device's state by the cloud's clock only (a device whose clock is wrong changes nothing):
 * offline when its last status says so (its will or a clean stop), stale when nothing arrived
 * for 3 heartbeat intervals although it claims online, so status never claims a device runs
 * when it does not [W3]. `connected`: whether the device's connection to this cloud is up.
 */
export function deviceState (d: DeviceRow, now: number, connected = true): DeviceState {
  if (d.revokedAt !== undefined) return 'revoked'
  // Two boards on one id hold records the cloud cannot take: that needs the operator first.
  if (d.conflict !== undefined && now - d.conflict.lastAt < CONFLICT_SHOWN_MS) return 'conflict'
  if (d.lastSeen === undefined) return 'never-seen'
  // A device whose connection is gone is not running here, whatever its last status said (a
  // client that disconnects cleanly sends no will).
  if (d.status?.state === 'offline' || !connected) return 'offline'
  const every = d.status?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  return now - d.lastSeen > STALE_AFTER_HEARTBEATS * every ? 'stale' : 'online'
}

/**
 * What is wrong with a device that the operator must fix, each with what to do. `takeoversNow`:
 * the time its takeovers are counted against (broker/takeovers.ts, Takeovers.now), default `now`.
 */
export function deviceProblems (d: DeviceRow, now: number, takeoversNow = now): string[] {
  const out: string[] = []
  const c = d.conflict
  if (c !== undefined && now - c.lastAt < CONFLICT_SHOWN_MS) {
    out.push(`${ErrorCodes.STREAM_CONFLICT}: ${c.count} batch${c.count === 1 ? '' : 'es'} of outbox stream ${c.stream} refused since ${new Date(c.firstAt).toISOString()}: seq ${c.seq} came with other records than the cloud holds, so two boards are using this id (a cloned card?). Nothing was deleted on either board. Give the clone its own id (lambkin devices add <new-id>) and a new config, then lambkin devices clear-conflict ${d.id}`)
  }
  const n = recentTakeovers(d, takeoversNow)
  if (n >= TAKEOVERS_SHARED) {
    const last = d.takeovers === undefined ? '' : `, the last at ${new Date(d.takeovers.lastAt).toISOString()}`
    out.push(`two clients share this id: ${n} takeovers of its connection in the last ${TAKEOVER_WINDOW_MS / 60_000} min (${d.takeovers?.count ?? n} in all${last}); give each board its own id`)
  }
  return out
}

/**
 * The operator's row for one device (no secret hash). `functions` follows whichever came last
 * of its `up/status` (sent on connect) and its `up/reported` (sent on every deployment change,
 * rollback and fallback) [W5], so a rollback while connected shows without a reconnect.
 */
export function deviceView (d: DeviceRow, now: number, connected: boolean, reported?: ReportedRow, takeoversNow = now): Record<string, unknown> {
  const fromReport = reported !== undefined && reported.receivedAt >= (d.status?.at ?? -Infinity)
  return {
    id: d.id,
    group: d.group ?? null,
    state: deviceState(d, now, connected),
    connected,
    lastSeen: d.lastSeen ?? null,
    agent: d.status?.agent ?? null,
    functions: fromReport ? reported.functions : d.status?.functions ?? [],
    deploymentId: reported?.deploymentId ?? null,
    backlog: d.heartbeat?.backlog ?? null,
    // When that backlog was reported (cloud clock, ms): for a device not connected, how old the
    // last known figure is; a board still running away from the cloud may hold more by now.
    backlogAt: d.heartbeat?.at ?? null,
    uploadedToday: d.heartbeat?.uploadedToday ?? null,
    // The device's outbox store failed a write and takes nothing until it reopens (its last heartbeat).
    storeFault: d.heartbeat?.storeFault ?? null,
    highWater: d.highWater,
    counts: d.counts,
    streams: d.streams ?? 0,
    stream: d.stream ?? null,
    conflict: d.conflict ?? null,
    takeovers: { count: d.takeovers?.count ?? 0, recent: recentTakeovers(d, takeoversNow), lastAt: d.takeovers?.lastAt ?? null },
    problems: deviceProblems(d, now, takeoversNow),
    createdAt: d.createdAt,
    revokedAt: d.revokedAt ?? null,
    rotatedAt: d.rotatedAt ?? null
  }
}

/**
 * A stored record as the API answers it [W8]: its data made safe for JSON (record-data.ts), so
 * a record stored before ingest checked data, or one that reads back damaged, never fails a query.
 */
export function recordView (r: StoredRecord): StoredRecord {
  const data = readableData(r.data)
  return data === r.data ? r : { ...r, data }
}

/** One function's figures in a snapshot as a device sent them: every field checked before use. */
interface Figures {
  invocations?: unknown
  errors?: unknown
  throttles?: unknown
  timeouts?: unknown
  coldStarts?: unknown
  gbSeconds?: unknown
  durationSeconds?: unknown
}

export interface FunctionSummary {
  invocations: number
  errors: Record<string, number>
  throttles: number
  timeouts: number
  coldStarts: number
  gbSeconds: number
  durationMs: { p50: number | null, p90: number | null, p99: number | null, max: number, mean: number | null }
}

/**
 * Sums the metric records' per-function deltas (device/metrics snapshots, kind 'delta') and
 * estimates duration percentiles from the summed histogram as Prometheus's
 * histogram_quantile does: linear within the bucket that holds the rank.
 */
export function summarizeMetrics (records: StoredRecord[], fn?: string): Record<string, FunctionSummary> {
  // Function names and error codes come from the device: Maps, and null-prototype objects out.
  const out = new Map<string, { s: FunctionSummary, errors: Map<string, number>, bounds: number[], counts: number[], sum: number, count: number }>()
  for (const r of records) {
    const snap = r.data as { kind?: string, bucketsSeconds?: unknown, functions?: unknown } | null
    if (snap === null || typeof snap !== 'object' || snap.kind !== 'delta' || !isMap(snap.functions)) continue
    for (const [name, fig] of Object.entries(snap.functions)) {
      if ((fn !== undefined && name !== fn) || !isMap(fig)) continue
      const f = fig as Figures
      const bounds = Array.isArray(snap.bucketsSeconds) ? snap.bucketsSeconds.map(num) : []
      let acc = out.get(name)
      if (acc === undefined) {
        acc = {
          s: {
            invocations: 0,
            errors: dict(),
            throttles: 0,
            timeouts: 0,
            coldStarts: 0,
            gbSeconds: 0,
            durationMs: { p50: null, p90: null, p99: null, max: 0, mean: null }
          },
          errors: new Map(),
          bounds,
          counts: new Array<number>(bounds.length + 1).fill(0),
          sum: 0,
          count: 0
        }
        out.set(name, acc)
      }
      acc.s.invocations += num(f.invocations)
      acc.s.throttles += num(f.throttles)
      acc.s.timeouts += num(f.timeouts)
      acc.s.coldStarts += num(f.coldStarts)
      acc.s.gbSeconds += num(f.gbSeconds)
      if (isMap(f.errors)) for (const [code, n] of Object.entries(f.errors)) acc.errors.set(code, (acc.errors.get(code) ?? 0) + num(n))
      const h = f.durationSeconds
      if (isMap(h) && sameBounds(acc.bounds, bounds)) {
        const counts = Array.isArray(h.counts) ? h.counts : []
        for (let i = 0; i < Math.min(counts.length, acc.counts.length); i++) acc.counts[i] += num(counts[i])
        acc.sum += num(h.sum)
        acc.count += num(h.count)
        acc.s.durationMs.max = Math.max(acc.s.durationMs.max, num(h.max) * 1000)
      }
    }
  }
  const result = dict<FunctionSummary>()
  for (const [name, acc] of [...out].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    const d = acc.s.durationMs
    d.mean = acc.count > 0 ? (acc.sum / acc.count) * 1000 : null
    d.p50 = quantileMs(0.5, acc.bounds, acc.counts, d.max)
    d.p90 = quantileMs(0.9, acc.bounds, acc.counts, d.max)
    d.p99 = quantileMs(0.99, acc.bounds, acc.counts, d.max)
    for (const [code, n] of acc.errors) acc.s.errors[code] = n
    result[name] = acc.s
  }
  return result
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

function num (n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0
}

function sameBounds (a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** The q-quantile in ms of a non-cumulative histogram; the +Inf bucket reports the max seen. */
export function quantileMs (q: number, bounds: number[], counts: number[], maxMs: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    if (seen + counts[i] >= rank && counts[i] > 0) {
      if (i >= bounds.length) return maxMs
      const lo = i === 0 ? 0 : bounds[i - 1]
      // Interpolation assumes values spread over the bucket; none exceeds the largest seen.
      return Math.min((lo + (bounds[i] - lo) * ((rank - seen) / counts[i])) * 1000, maxMs > 0 ? maxMs : Infinity)
    }
    seen += counts[i]
  }
  return maxMs
}
