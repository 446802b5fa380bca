// The active set: which deployed versions the device runs, what each replaced (the rollback
// target), the health windows under way, and the failures and rollbacks to report [W5]. It
// lives in the store's meta under one key, so writing it is a single LevelDB batch: the
// swap point of a deployment, atomic across a kill -9 (docs/architecture.md, "Deployer").
import { DEPLOY_LIMITS } from '../../src/wire/index.js'
import { toDict } from '../../src/own.js'
import type { DesiredFunction, DesiredVersion, ReportedFailure, ReportedFunction, ReportedRollback } from '../../src/wire/index.js'
import type { OutboxStore } from '../store/index.js'
import { META_KEYS } from '../store/meta-keys.js'
import type { RejectedVersion } from './rejected.js'

/** One deployed version as kept: content version, bundle sha256 and the cloud's number. */
export interface VersionEntry { version: string, sha256: string, number: number }

/** A deployed function's aliases: `live`, and a `canary` taking `weight`% of invocations. */
export interface Aliases { live: VersionEntry, canary?: VersionEntry & { weight: number } }

/** A deployed function as the active set keeps it. */
export interface DeployedFunction extends Aliases {
  /** The deployment id that set these aliases. */
  deploymentId: number
  /** What ran before that deployment (the rollback target); null: nothing deployed (the local function, if any, or none). */
  previous: Aliases | null
  /** A health window under way: its start (wall ms) and the versions it watches. */
  window?: { startedAt: number, versions: string[] }
  /** The cloud's rollout that set these aliases (its label in desired state), for log lines and reports; absent in sets written before it was kept. */
  rollout?: string
}

export interface ActiveSet {
  /** The newest desired deployment id acted on (applied, refused or failed) [W5]; 0 before any. */
  deploymentId: number
  functions: Record<string, DeployedFunction>
  /** Newest last, the last DEPLOY_LIMITS.maxHistory kept. */
  failures: ReportedFailure[]
  rollbacks: ReportedRollback[]
  /** Per function, the versions rolled back from or refused, never applied again (rejected.ts). */
  rejected: Record<string, RejectedVersion[]>
  /** Per function, what the last desired state acted on asked for (desiredKey), to tell which entries a new one changed. */
  desired: Record<string, string>
  /**
   * The deployment id whose functions failed transiently (transient.ts) and are tried again:
   * the same id arriving again (the retained desired state at the next connect) is then a
   * retry, not a no-op, so a retry survives a restart.
   */
  retry?: number
}

export const EMPTY_ACTIVE_SET: Readonly<ActiveSet> = Object.freeze({ deploymentId: 0, functions: {}, failures: [], rollbacks: [], rejected: {}, desired: {} })

/** Reads the active set from the store's meta; an empty one when nothing was ever deployed. */
export async function readActiveSet (store: OutboxStore): Promise<ActiveSet> {
  const raw = await store.getMeta(META_KEYS.deployActive) as ActiveSet | undefined
  if (raw === undefined || raw === null || typeof raw !== 'object') return structuredClone(EMPTY_ACTIVE_SET) as ActiveSet
  // Keyed by function names: null-prototype, and read with own() (src/own.ts) after any clone.
  const set: ActiveSet = {
    deploymentId: raw.deploymentId ?? 0,
    functions: toDict(raw.functions),
    failures: raw.failures ?? [],
    rollbacks: raw.rollbacks ?? [],
    rejected: toDict(raw.rejected),
    desired: toDict(raw.desired)
  }
  if (Number.isSafeInteger(raw.retry)) set.retry = raw.retry
  return set
}

/** Writes the active set in one store commit: the swap point. Keeps the history within its cap. */
export async function writeActiveSet (store: OutboxStore, set: ActiveSet): Promise<void> {
  set.failures = set.failures.slice(-DEPLOY_LIMITS.maxHistory)
  set.rollbacks = set.rollbacks.slice(-DEPLOY_LIMITS.maxHistory)
  await store.commit({ meta: [{ key: META_KEYS.deployActive, value: set }] })
}

export function entryOf (v: DesiredVersion): VersionEntry {
  return { version: v.version, sha256: v.sha256, number: v.number }
}

/** The aliases a desired function asks for. */
export function aliasesOf (d: DesiredFunction): Aliases {
  return d.canary === undefined ? { live: entryOf(d.live) } : { live: entryOf(d.live), canary: { ...entryOf(d.canary), weight: d.canary.weight } }
}

/** True when both name the same bundles with the same canary weight. */
export function sameAliases (a: Aliases | null | undefined, b: Aliases | null | undefined): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return a === b || ((a ?? null) === null && (b ?? null) === null)
  if (a.live.sha256 !== b.live.sha256) return false
  if (a.canary === undefined || b.canary === undefined) return a.canary === b.canary
  return a.canary.sha256 === b.canary.sha256 && a.canary.weight === b.canary.weight
}

/** Every bundle sha256 the set still needs on disk: live, canary and rollback targets. */
export function referencedBundles (set: ActiveSet): Set<string> {
  const out = new Set<string>()
  const add = (a: Aliases | null): void => {
    if (a === null) return
    out.add(a.live.sha256)
    if (a.canary !== undefined) out.add(a.canary.sha256)
  }
  for (const f of Object.values(set.functions)) { add(f); add(f.previous) }
  return out
}

/** What `up/reported` lists for a deployed function [W5]. */
export function reportedOf (name: string, a: Aliases): ReportedFunction {
  const out: ReportedFunction = { name, version: a.live.version, sha256: a.live.sha256 }
  if (a.canary !== undefined) out.canary = { version: a.canary.version, sha256: a.canary.sha256, weight: a.canary.weight }
  return out
}
