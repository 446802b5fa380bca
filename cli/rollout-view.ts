// What the operator API answers about a rollout (issue 12 contract, "RolloutView"), as the
// CLI reads it. The cloud owns the shape; this is the reader's view of it, nothing more.

/** Where one target device stands in a rollout. */
export type DeviceRolloutState = 'pending' | 'sent' | 'applied' | 'failed' | 'rolled-back' | 'offline' | 'skipped'

/** A rollout's state: `running` until no device is pending or sent, then one of the others. */
export type RolloutState = 'running' | 'done' | 'aborted' | 'cancelled' | 'superseded'

/** One target device; `code`/`message` say why it failed, rolled back or was skipped; `at` in ms since the epoch. */
export interface RolloutDevice {
  id: string
  state: DeviceRolloutState
  version?: string
  deploymentId?: number
  code?: string
  message?: string
  at?: number
}

/** Devices per state; `total` is every target. */
export interface RolloutCounts {
  total: number
  pending: number
  sent: number
  applied: number
  failed: number
  rolledBack: number
  offline: number
  skipped: number
}

/**
 * `GET /v1/rollouts/:id`: `revision` grows with every change, so `?since=<revision>&wait=<ms>`
 * long-polls for the next one. Times in ms since the epoch; `timeoutMs` per device.
 */
export interface RolloutView {
  id: string
  kind: 'deploy' | 'rollback'
  fn: string
  version: string
  number: number
  sha256: string
  to: string
  alias: 'live' | 'canary'
  weight?: number
  state: RolloutState
  reason?: string
  createdAt: number
  finishedAt?: number
  revision: number
  ratePerMin?: number
  abortAtPercent: number
  timeoutMs: number
  counts: RolloutCounts
  devices: RolloutDevice[]
}

/** `POST /v1/bundles`' answer: `number` is the function's version number (1, 2, 3...). */
export interface UploadedBundle { sha256: string, name: string, version: string, number: number, size: number }

/** `POST /v1/devices/:id/invoke`'s answer [W7]. */
export interface InvokeAnswer { id: string, fn: string, ok: boolean, version?: string, result?: unknown, error?: { code: string, message: string }, durationMs: number }
