// The registry's deployment rows (DESIGN section 7), shaped as tables would be: bundles by sha256 with
// a per-function version number, one fleet-wide deployment id counter, each device's desired
// state (with the entry it replaced, for rollback), its last reported state, and rollouts.
import type { DesiredFunction, ReportedFrame } from '../../src/wire/index.js'

/** A stored bundle's facts (table `bundles`, key sha256); the bytes are kept beside it. */
export interface BundleRow {
  sha256: string
  name: string
  /** The content version (16 hex digits, src/bundle/format.ts). */
  version: string
  /** This function's version number: 1 for its first bundle, then 2, 3...; a sha256 keeps its number. */
  number: number
  /** Bytes. */
  size: number
  /** ed25519 signature over the sha256 (src/bundle/sign.ts), 64 bytes. */
  signature: Uint8Array
  keyId: string
  /** Cloud clock, ms since the epoch. */
  uploadedAt: number
}

export type NewBundle = Omit<BundleRow, 'number' | 'size'> & { bytes: Uint8Array }

/**
 * One deployed function of one device: what it should run, what it ran before that, and
 * `good`: the last GOOD_HISTORY entries the device was judged applied on and did not later
 * fail or roll back, oldest first. Rollback and abort go back to the newest of those older than
 * `current` (deploy-plan.ts, goodBefore: never to a version the device refused or its health
 * gate undid, and never forward).
 */
export interface DesiredSlot { current?: DesiredFunction, previous?: DesiredFunction, good?: DesiredFunction[], from?: SlotSource }

/**
 * The rollout whose change set a slot's current entry: its id, the device's index in it and the
 * deployment id the change got. The engine follows the device's later reports into that
 * rollout's view after it closed [W5] (a bundle damaged while the board was off, a retry that
 * applied after a transient failure).
 */
export interface SlotSource { rollout: string, index: number, deploymentId: number }

/** How many good entries a slot keeps per device and function. */
export const GOOD_HISTORY = 5

/**
 * What a rollout learned about one device's function, written without a new deployment id:
 * `good` (an entry it was judged applied on) goes to the end of the slot's history; every
 * history entry running `badVersion` (live, or canary) is dropped (it failed or was rolled back);
 * `backTo` (an entry a rollback was judged applied on) stays where it is and every entry after
 * it leaves the history, so the next rollback goes one further back, never forward (appended
 * when the history does not hold it).
 */
export interface HistoryNote {
  device: string
  fn: string
  good?: DesiredFunction
  badVersion?: string
  backTo?: DesiredFunction
}

/** One device's desired state [W5]; `deploymentId` is the id its last change got. */
export interface DesiredRow {
  device: string
  deploymentId: number
  functions: Record<string, DesiredSlot>
  updatedAt: number
}

/**
 * One change to a device's desired state: `to` becomes the function's current entry (null
 * removes it), and the entry it replaces becomes `previous` (unless `to` names the same bundles).
 * `rollout`: the rollout making it and the device's index there (the slot's `from`); none
 * (the cloud converging desired state to a report) clears `from`.
 */
export interface DesiredChange { device: string, fn: string, to: DesiredFunction | null, rollout?: { id: string, index: number } }

/** The last `up/reported` a device sent [W5], with when it arrived (cloud clock). */
export type ReportedRow = ReportedFrame & { receivedAt: number }

export type RolloutKind = 'deploy' | 'rollback'
export type RolloutState = 'running' | 'done' | 'aborted' | 'cancelled' | 'superseded'
export type RolloutDeviceState = 'pending' | 'sent' | 'applied' | 'failed' | 'rolled-back' | 'offline' | 'skipped'
/** An applied device's health verdict in a rollout (RolloutDevice.health). */
export type RolloutHealth = 'watching' | 'passed' | 'superseded'

/** One target of a rollout. `sentAt` (cloud clock) is when its timeout started; not shown by the API. */
export interface RolloutDevice {
  id: string
  state: RolloutDeviceState
  /** The version this device is taken to. */
  version?: string
  /** The deployment id its desired state got from this rollout. */
  deploymentId?: number
  code?: string
  message?: string
  /** A failure the device reported as transient (a full disk, an I/O error, a fetch timeout): it tries again, so the verdict may still change. */
  transient?: boolean
  /** When it reached its state (cloud clock). */
  at?: number
  sentAt?: number
  /**
   * For an applied device, its health gate's verdict so far [W5]: `watching` while the window
   * the device keeps after a swap is open (`watchLeftMs` left when it reported), `passed` once
   * it closed without a rollback (or the device keeps none). A rollback turns the device
   * rolled-back instead. `lambkin deploy` waits for this. `superseded` is final: the rollout was
   * superseded (a newer rollout of the function) while this window was open, so the cloud
   * stopped watching it here (`message` names the newer rollout, whose view has the verdict
   * when it targets the device); only a rollback the device still reports for this
   * deployment changes it (to rolled-back, follow.ts).
   */
  health?: RolloutHealth
  watchLeftMs?: number
}

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
 * A rollout as stored and as the API shows it (RolloutView; docs/cloud.md, "The operator API"). `revision`
 * grows with every change, so a client long-polls for the next one. `open` (not shown) is true
 * while the cloud still watches it: running, or devices offline that may yet converge.
 */
/** A rollout without its device list. */
export type RolloutHeadRow = Omit<RolloutRow, 'devices'>

export interface RolloutRow {
  id: string
  kind: RolloutKind
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
  open: boolean
}

/** The deployment part of the registry contract (see Registry in types.ts). */
export interface DeployRegistry {
  /**
   * Stores a bundle whose signature and contents the caller checked; the same sha256 again
   * changes nothing and returns the stored row with `created: false`. Numbers per function
   * are given out one at a time, in call order.
   */
  putBundle: (b: NewBundle) => Promise<{ bundle: BundleRow, created: boolean }>
  getBundle: (sha256: string) => Promise<BundleRow | undefined>
  bundleBytes: (sha256: string) => Promise<Uint8Array | undefined>
  /** The last deployment id given out (0 before the first). */
  lastDeploymentId: () => Promise<number>
  getDesired: (device: string) => Promise<DesiredRow | undefined>
  /**
   * Applies changes to the desired state of one or more devices in one atomic write with the
   * deployment id counter: each device changed gets the next id (+1 per device, fleet-wide,
   * [W5]). Calls apply one at a time. Returns the new rows, in the order devices first appear.
   */
  setDesired: (changes: DesiredChange[], at: number) => Promise<DesiredRow[]>
  /** Applies history notes (see HistoryNote) in one write; the deployment id counter does not move. */
  noteHistory: (notes: HistoryNote[]) => Promise<void>
  putReported: (device: string, r: ReportedRow) => Promise<void>
  getReported: (device: string) => Promise<ReportedRow | undefined>
  /** The reports of several devices in one read (a page of the devices list); a device with none is absent. */
  getReportedMany: (devices: readonly string[]) => Promise<Map<string, ReportedRow>>
  /** Stores a new rollout under the next id (`r1`, `r2`...) and returns it. */
  createRollout: (r: Omit<RolloutRow, 'id'>) => Promise<RolloutRow>
  /** Writes a rollout back; `dirty` names the device indexes that changed (all when absent). */
  putRollout: (r: RolloutRow, dirty?: Iterable<number>) => Promise<void>
  getRollout: (id: string) => Promise<RolloutRow | undefined>
  /** One device of a stored rollout and the rollout's head (no device list), reading only the chunk that holds it. */
  getRolloutDevice: (id: string, index: number) => Promise<{ rollout: RolloutHeadRow, device: RolloutDevice } | undefined>
  /** Writes one device of a stored rollout back with the head (its counts and revision), in one atomic write. */
  putRolloutDevice: (rollout: RolloutHeadRow, index: number, device: RolloutDevice) => Promise<void>
  /** Newest first, at most `limit` (default 50). */
  listRollouts: (q?: { limit?: number }) => Promise<RolloutRow[]>
  /** Rollouts with `open` set, oldest first: what the engine resumes after a restart. */
  openRollouts: () => Promise<RolloutRow[]>
}
