// The JSON the dashboard routes answer with (GET /v1/fleet, the /v1/events stream, a device's
// series and deployments; docs/dashboard.md). Types only: the page (cloud-sync/web/) imports
// them too, so the server and the page cannot drift apart.
import type { DeviceState } from './views.js'

/** One function on one device: what it runs against what its desired state says. */
export interface FleetFunction {
  name: string
  /** The active (live) version, from the device's newest report or status; null when it runs none. */
  version: string | null
  /** The bundle number of `version` when the cloud deployed it; null for a function from the device's own folder. */
  number: number | null
  /** The live version its desired state names; null when the cloud deploys none of this name. */
  desired: string | null
  desiredNumber: number | null
  /** A canary beside the live version, as the device reports it. */
  canary: { version: string, weight: number } | null
}

/** A devices-table row. Times are ms since the epoch by the cloud's clock. */
export interface FleetRow {
  id: string
  group: string | null
  state: DeviceState
  /**
   * Why the cloud refused this device's records as a conflict [W4] (two boards on one id), when
   * the registry reports one; null otherwise.
   */
  conflict: string | null
  /**
   * Connections that took over this device's open one (MQTT-3.1.4-2: the broker closes the
   * older; cloud-sync/broker/takeovers.ts), null when there never was one. `count` in all,
   * `recent` within the last TAKEOVER_WINDOW_MS (views.ts, 10 min), `lastAt` the newest (ms,
   * the takeovers' clock: the cloud's wall clock at start plus the monotonic time since).
   * `shared`: recent reached TAKEOVERS_SHARED (3), so two boards are fighting over this id (a
   * cloned card) and the row shows a warning; one takeover alone is a board back over a
   * half-open link.
   */
  takeovers: FleetTakeovers | null
  connected: boolean
  lastSeen: number | null
  agent: string | null
  functions: FleetFunction[]
  /** Some function's active version differs from its desired one. */
  mismatch: boolean
  /** The device is fetching, compiling or watching a health window [W5]. */
  applying: boolean
  backlog: { records: number, bytes: number } | null
  uploadedToday: number | null
  /** Summed from the metric snapshots stored in the last hour (by the cloud's clock). */
  invocationsHour: number
  errorsHour: number
  /** Highest seq stored contiguously: a change means new results, logs or metrics. */
  highWater: number
}

/** A device row's takeovers (FleetRow.takeovers). */
export interface FleetTakeovers { count: number, recent: number, lastAt: number, shared: boolean }

export interface FleetSummary {
  /** `shared`: devices whose rows say two boards fight over the id (FleetRow.takeovers.shared). */
  devices: { total: number, online: number, stale: number, offline: number, neverSeen: number, revoked: number, conflict: number, shared: number }
  /** Functions active on online devices, counted per device, and their distinct names. */
  functionsRunning: number
  functionNames: number
  /** Fleet-wide, from metric snapshots stored in the last `windowMinutes` (divided by it). */
  perMinute: { invocations: number, errors: number, windowMinutes: number }
  /** The last hour minute by minute (start of each minute, ms), oldest first. */
  series: { minutes: number[], invocations: number[], errors: number[] }
  backlog: { records: number, bytes: number }
  uploadedToday: number
  rolloutsRunning: number
}

/** A rollout as the dashboard lists it: the API's view without the per-device list. */
export interface RolloutLine {
  id: string
  kind: 'deploy' | 'rollback'
  fn: string
  version: string
  number: number
  to: string
  alias: 'live' | 'canary'
  weight: number | null
  state: string
  reason: string | null
  createdAt: number
  finishedAt: number | null
  revision: number
  ratePerMin: number | null
  abortAtPercent: number
  counts: { total: number, pending: number, sent: number, applied: number, failed: number, rolledBack: number, offline: number, skipped: number }
}

/** GET /v1/fleet. */
export interface FleetView { now: number, summary: FleetSummary, devices: FleetRow[], rollouts: RolloutLine[] }

/**
 * GET /v1/fleet's answer: the summary and rollouts of the whole fleet, one page of its rows in
 * id order, and `next`, the `after` of the following page (null: the last), as /v1/devices pages.
 */
export interface FleetPage extends FleetView { next: string | null }

/** One `fleet` event on /v1/events: what changed since the previous one. */
export interface FleetChange {
  now: number
  devices: FleetRow[]
  removed: string[]
  summary?: FleetSummary
  rollouts?: RolloutLine[]
}

/** GET /v1/devices/:id/series: one point per metric snapshot, oldest first, x in ms (the device's clock). */
export interface FunctionSeries {
  t: number[]
  invocations: number[]
  /** Failed invocations / invocations in the snapshot, percent; null with no invocations. */
  errorRate: Array<number | null>
  p50: Array<number | null>
  p95: Array<number | null>
  p99: Array<number | null>
  memoryBytes: Array<number | null>
}

export interface SeriesView { device: string, snapshots: number, functions: Record<string, FunctionSeries> }

/** One step of a device's deployment history, newest first in DeploymentsView. */
export interface DeploymentEvent {
  at: number
  fn: string
  /**
   * sent: its desired state went out; applied, failed, rolled-back, offline, skipped as the
   * rollout judged; refused/rolled-back also from the device's own report.
   */
  step: string
  version: string | null
  number: number | null
  rollout: string | null
  deploymentId: number | null
  code: string | null
  message: string | null
}

export interface DeploymentsView {
  device: string
  /** The deployment id the device last acted on, and whether it is applying one now. */
  reported: { deploymentId: number, applying: boolean, receivedAt: number } | null
  desiredDeploymentId: number | null
  history: DeploymentEvent[]
}
