// One deployment's plan (Deployer#apply in deployer.ts, before the swap point): the next active
// set and, per changed function, its versions made ready beside the running ones (prepare.ts),
// or its failure recorded. Nothing here is written or swapped: the caller writes the set (the
// swap point) and swaps the routes, or unloads what was made ready.
import { dict, own } from '../../src/own.js'
import type { DesiredFrame, ReportedFailure } from '../../src/wire/index.js'
import type { VersionRoute } from '../invoke/aliases.js'
import { aliasesOf, sameAliases } from './active-set.js'
import type { ActiveSet, Aliases, DeployedFunction } from './active-set.js'
import { prepareFunction, PrepareError } from './prepare.js'
import type { PrepareContext } from './prepare.js'
import { desiredKey, recordRejected, rejectedVersionOf, rememberRejected } from './rejected.js'
import { deployFailure, isTransient } from './transient.js'

/** The rollout label a desired function carries, as an optional field. */
export const rolloutOf = (d: { rollout?: string }): { rollout?: string } => d.rollout === undefined ? {} : { rollout: d.rollout }

/** What the plan tells the deployer as it goes (its log lines, counters and events). */
export interface PlanHooks {
  /** A function of the deployment refused (a version remembered as rejected). */
  refused: (deploymentId: number, name: string, code: string, message: string, rollout?: string) => void
  /** A function's versions could not be made ready: recorded in `set` and told. */
  failed: (set: ActiveSet, x: ReportedFailure) => void
  /** Unloads a version nothing routes to (prepareFunction's loads that lost their place). */
  unloadIfUnused: (key: string) => void
}

export interface DeploymentPlan {
  /** The active set to write at the swap point. */
  next: ActiveSet
  /** The routes to swap in, by function (undefined: the deployed function is gone). */
  ready: Map<string, VersionRoute | undefined>
  /** Some function failed transiently: the deployment is tried again (Deployer#planRetry). */
  transient: boolean
}

/**
 * Plans deployment `f` against the active set `cur`, at `now` (clock ms): unchanged functions
 * stay, a version remembered as rejected is refused again without a fetch, the rest are
 * prepared (fetched, verified, loaded); a transient failure (a full disk, an I/O error, a
 * fetch timeout) says nothing about the bytes, so it is not remembered as rejected.
 */
export async function planDeployment (cur: ActiveSet, f: DesiredFrame, ctx: PrepareContext, now: number, hooks: PlanHooks): Promise<DeploymentPlan> {
  const D = f.deploymentId
  const next: ActiveSet = structuredClone(cur)
  next.deploymentId = D
  const ready = new Map<string, VersionRoute | undefined>()
  let transient = false
  next.desired = dict()
  for (const d of f.functions) {
    const had = own(cur.functions, d.name)
    const want = aliasesOf(d)
    const key = desiredKey(want)
    next.desired[d.name] = key
    if (sameAliases(had, want)) continue
    const bad = rejectedVersionOf(cur.rejected, d)
    if (bad !== undefined) {
      const x = recordRejected(next, D, d.name, bad, own(cur.desired, d.name) !== key, now)
      if (x !== undefined) hooks.refused(D, d.name, x.code, x.message, d.rollout)
      continue
    }
    try {
      ready.set(d.name, await prepareFunction(ctx, d, hooks.unloadIfUnused))
    } catch (err) {
      const failed = err instanceof PrepareError ? err.version : d.live
      const e = deployFailure(err instanceof PrepareError ? err.cause : err)
      const isT = isTransient(e.code)
      transient ||= isT
      const x: ReportedFailure = { deploymentId: D, name: d.name, version: failed.version, code: e.code, message: e.message, at: now, ...rolloutOf(d) }
      if (isT) x.transient = true
      hooks.failed(next, x)
      const rejected = { sha256: failed.sha256, version: failed.version, deploymentId: D, code: e.code, rolledBack: false }
      rememberRejected(next.rejected, d.name, { ...rejected, ...rolloutOf(d) })
      continue
    }
    const before: Aliases | null = had === undefined ? null : { live: had.live, ...(had.canary === undefined ? {} : { canary: had.canary }) }
    const known = new Set([before?.live.version, before?.canary?.version])
    const fresh = [want.live.version, want.canary?.version].filter((v): v is string => v !== undefined && !known.has(v))
    const entry: DeployedFunction = { ...want, deploymentId: D, previous: before, ...rolloutOf(d) }
    if (fresh.length > 0) entry.window = { startedAt: now, versions: fresh }
    next.functions[d.name] = entry
  }
  const listed = new Set(f.functions.map((d) => d.name))
  for (const name of Object.keys(cur.functions)) {
    if (listed.has(name)) continue
    delete next.functions[name]
    ready.set(name, undefined)
  }
  return { next, ready, transient }
}
