// Rolling a function back when its health gate fails: back to what ran before the deployment
// that brought the failing version (the active set keeps it, its bundle stays on disk), or to
// the local function / nothing when none was deployed. Works with no cloud at all: the
// rollback is one active-set write and a route swap, reported on up/reported when the link
// is up (again on every connect) [W5]. It stays until a newer desired deployment id.
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { own } from '../../src/own.js'
import type { VersionRoute } from '../invoke/aliases.js'
import type { ActiveSet, Aliases, DeployedFunction } from './active-set.js'
import { crashPoint } from './crash-points.js'
import { describeFailure } from './health-gate.js'
import { deploymentName } from './naming.js'
import { rememberRejected } from './rejected.js'
import type { HealthSettings, HealthStats } from './health-gate.js'
import { DEPLOY_METRICS } from './metrics.js'
import type { FunctionMetrics } from '../metrics/index.js'
import type { Clock } from '../../src/clock.js'

/** What rollbacks need of the deployer (deployer.ts). */
interface DeployerSide {
  readonly set: ActiveSet
  commitSet: (next: ActiveSet) => Promise<void>
  loadAliases: (name: string, a: Aliases) => Promise<VersionRoute>
  swapRoutes: (changes: ReadonlyMap<string, VersionRoute | undefined>) => Promise<void>
  report: () => void
  emit: (event: string, arg: unknown) => boolean
}

export interface RollbacksOptions {
  deployer: DeployerSide
  clock: Clock
  metrics: FunctionMetrics
  settings: HealthSettings
  log: (line: string) => void
}

export class Rollbacks {
  readonly #o: RollbacksOptions

  constructor (o: RollbacksOptions) {
    this.#o = o
  }

  /**
   * At start, deployed function `name` (entry `f`) no longer loads (`err`: its file is damaged,
   * or the device's caps changed under it): recorded as a failure of the deployment that
   * brought it (reported at the next connect), logged and counted, and the function falls back
   * to the version it ran before, or to its local version / nothing. Mutates the deployer's
   * set; the caller writes it.
   */
  async notLoadedAtStart (name: string, f: DeployedFunction, err: unknown): Promise<void> {
    const d = this.#o.deployer
    const e = err instanceof LambkinError ? err : new LambkinError(ErrorCodes.FUNCTION_ERROR, errorMessage(err))
    let fallback: VersionRoute | undefined
    if (f.previous !== null) {
      try {
        fallback = await d.loadAliases(name, f.previous)
      } catch (err2) {
        this.#o.log(`${name}: the previous version ${f.previous.live.version} cannot be loaded either: ${errorMessage(err2)}`)
      }
    }
    const to = fallback === undefined ? undefined : f.previous?.live.version
    const message = `deployed version ${f.live.version} cannot be loaded at start: ${e.message}; ${to === undefined ? 'the function does not run its deployed version until a new deployment' : `running version ${to} instead`}`
    const rollout = f.rollout === undefined ? {} : { rollout: f.rollout }
    d.set.failures.push({ deploymentId: f.deploymentId, name, version: f.live.version, code: e.code, message, at: this.#o.clock.now(), ...rollout })
    if (fallback !== undefined && f.previous !== null) {
      d.set.functions[name] = { ...f.previous, deploymentId: f.deploymentId, previous: null }
      await d.swapRoutes(new Map([[name, fallback]]))
    } else {
      delete d.set.functions[name]
    }
    this.#o.metrics.inc(DEPLOY_METRICS.refused, { code: e.code })
    this.#o.log(`${name}: ${deploymentName(f.deploymentId, f.rollout)}: deployed version not loaded: ${e.code}: ${message}`)
    d.emit('refused', { deploymentId: f.deploymentId, name, code: e.code, message })
  }

  /** The health gate of `fn` failed: roll it back, record it, report it. */
  async rollBack (fn: string, stats: HealthStats): Promise<void> {
    const d = this.#o.deployer
    const cur = own(d.set.functions, fn)
    if (cur === undefined) return
    const from = cur.window?.versions[0] ?? cur.live.version
    const prev = cur.previous
    let route: VersionRoute | undefined
    if (prev !== null) {
      try {
        route = await d.loadAliases(fn, prev)
      } catch (err) {
        // The previous bundle is gone or damaged: the failing version is still stopped.
        this.#o.log(`${fn}: the previous version ${prev.live.version} cannot be loaded (${errorMessage(err)}); the function stops until a new deployment`)
      }
    }
    const next: ActiveSet = structuredClone(d.set)
    if (route === undefined || prev === null) delete next.functions[fn]
    else next.functions[fn] = { ...prev, deploymentId: cur.deploymentId, previous: null } satisfies DeployedFunction
    const to = route === undefined ? undefined : prev?.live.version
    const rollback = {
      deploymentId: cur.deploymentId,
      name: fn,
      from,
      ...(to === undefined ? {} : { to }),
      ...(cur.rollout === undefined ? {} : { rollout: cur.rollout }),
      code: ErrorCodes.HEALTH_CHECK_FAILED,
      message: describeFailure(from, stats, this.#o.settings),
      at: this.#o.clock.now()
    }
    next.rollbacks.push(rollback)
    // The versions the window watched are never applied again on this device (rejected.ts).
    for (const v of [cur.live, cur.canary]) {
      if (v !== undefined && (cur.window?.versions ?? [cur.live.version]).includes(v.version)) {
        const r = { sha256: v.sha256, version: v.version, deploymentId: cur.deploymentId, code: ErrorCodes.HEALTH_CHECK_FAILED, rolledBack: true }
        rememberRejected(next.rejected, fn, { ...r, ...(cur.rollout === undefined ? {} : { rollout: cur.rollout }) })
      }
    }
    await d.commitSet(next)
    crashPoint('rollback-committed')
    await d.swapRoutes(new Map([[fn, route]]))
    this.#o.metrics.inc(DEPLOY_METRICS.rolledBack, { function: fn })
    const back = to === undefined ? ' (nothing to go back to: the function stops until a new deployment)' : ` to version ${to}`
    this.#o.log(`${fn}: ${deploymentName(cur.deploymentId, cur.rollout)}: ${ErrorCodes.HEALTH_CHECK_FAILED}: ${rollback.message}${back}`)
    d.emit('rolled-back', rollback)
    d.report()
  }
}
