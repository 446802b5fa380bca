// The deployer (docs/architecture.md, "Deployer"): acts on the retained desired state [W5],
// one deployment at a time. Each changed function's versions are made ready beside the running
// ones (prepare.ts), then one write of the active set swaps them all (the swap point: a kill -9
// before it leaves the old set, after it the new one, and every step before it is idempotent
// on restart), routes change (in-flight invocations finish on the old version, which is
// unloaded once idle), and a health window watches the new versions (rollback.ts).
import { EventEmitter } from 'node:events'
import type { TrustedKey } from '../../src/bundle/index.js'
import { ErrorCodes, errorMessage } from '../../src/errors.js'
import { own } from '../../src/own.js'
import type { Limits } from '../../src/function/index.js'
import type { SandboxPool } from '../../src/sandbox/index.js'
import type { DesiredFrame, ReportedFailure, ReportedFrame } from '../../src/wire/index.js'
import type { VersionRoute } from '../invoke/aliases.js'
import type { FunctionTable } from '../invoke/function-table.js'
import type { Invoker, InvocationRecord } from '../invoke/invoker.js'
import type { FunctionMetrics } from '../metrics/index.js'
import type { OutboxStore } from '../store/index.js'
import type { Clock } from '../../src/clock.js'
import { aliasesOf, readActiveSet, referencedBundles, sameAliases, writeActiveSet } from './active-set.js'
import { buildReported, staleFailures } from './report.js'
import type { ActiveSet, Aliases, DeployedFunction } from './active-set.js'
import { BundleFiles } from './bundle-files.js'
import { crashPoint } from './crash-points.js'
import { DesiredCheck } from './desired-check.js'
import { Fetcher } from './fetcher.js'
import { HealthGate } from './health-gate.js'
import type { HealthSettings, HealthStats } from './health-gate.js'
import { DEPLOY_METRICS, registerDeployMetrics } from './metrics.js'
import { loadAliases } from './prepare.js'
import type { PrepareContext } from './prepare.js'
import { RetryTimer } from './retry.js'
import { Rollbacks } from './rollback.js'
import { deployFailure, isTransient, recordFailure } from './transient.js'
import { deploymentName, frameName, swapLine } from './naming.js'
import { planDeployment, rolloutOf } from './plan.js'

/** The console line of a swap (naming.ts), here where it was first defined. */
export { swapLine }

/** deploy.* in the device config. */
export interface DeploySettings extends HealthSettings {
  /** One fetch try's wait for down/bundle, ms. */
  fetchTimeoutMs: number
  /** The first wait before a transiently failed deployment is tried again, ms (doubles per try; retry.ts). */
  retryMs: number
}

/** Fetch tries per bundle (the first and two more), each deploy.fetchTimeoutMs long. */
export const FETCH_ATTEMPTS = 3

/** What the deployer needs of the cloud link; every send returns false when offline. */
export interface DeployTransport {
  sendReported: (f: ReportedFrame) => boolean
  sendFetch: (sha256: string) => boolean
}

export interface DeployerOptions {
  /** This device's id: a desired state is signed for one device [W5]. */
  deviceId: string
  dataDir: string
  store: OutboxStore
  pool: SandboxPool
  invoker: Invoker
  table: FunctionTable
  metrics: FunctionMetrics
  clock: Clock
  log: (line: string) => void
  caps: Partial<Limits>
  trusted: ReadonlyMap<string, TrustedKey>
  settings: DeploySettings
}

/**
 * Events: 'applied' ({ deploymentId, functions }), 'refused' ({ deploymentId, name, code,
 * message }), 'rolled-back' (a ReportedRollback), 'reported' (the ReportedFrame, also when
 * offline), 'idle' (nothing queued or being applied).
 */
export class Deployer extends EventEmitter {
  readonly #o: DeployerOptions
  readonly #files: BundleFiles
  readonly #fetcher: Fetcher
  readonly #gate: HealthGate
  readonly #rollbacks: Rollbacks
  readonly #retry: RetryTimer
  readonly #check: DesiredCheck
  #set: ActiveSet
  #transport: DeployTransport | undefined
  #next: DesiredFrame | undefined
  #lane: Promise<void> = Promise.resolve()
  #applying = false
  #closed = false

  private constructor (o: DeployerOptions, set: ActiveSet) {
    super()
    this.#o = o
    this.#set = set
    this.#files = new BundleFiles(o.dataDir)
    this.#fetcher = new Fetcher({ clock: o.clock, timeoutMs: o.settings.fetchTimeoutMs, attempts: FETCH_ATTEMPTS })
    this.#retry = new RetryTimer(o.clock, o.settings.retryMs)
    this.#check = new DesiredCheck(o)
    registerDeployMetrics(o.metrics)
    this.#rollbacks = new Rollbacks({ clock: o.clock, metrics: o.metrics, settings: o.settings, log: o.log, deployer: this })
    this.#gate = new HealthGate({
      clock: o.clock,
      settings: o.settings,
      onFail: (fn, stats) => { void this.#serial(() => this.#rollbacks.rollBack(fn, stats)) },
      onPass: (fn, stats) => { void this.#serial(() => this.#windowPassed(fn, stats)) }
    })
  }

  /**
   * Reads the active set and loads every deployed version from its file into the sandboxes and
   * the function table (replacing local functions of the same name); health windows a restart
   * interrupted start again in full from now (persisted). A version that no longer loads is logged and its function left out.
   */
  static async open (o: DeployerOptions): Promise<Deployer> {
    const d = new Deployer(o, await readActiveSet(o.store))
    const now = o.clock.now()
    let changed = false
    for (const [name, f] of Object.entries(d.#set.functions)) {
      try {
        await o.table.setDeployed(name, await d.loadAliases(name, f))
      } catch (err) {
        await d.#rollbacks.notLoadedAtStart(name, f, err)
        changed = true
        continue
      }
      if (f.window === undefined) continue
      // The window starts again in full: while the device was down the version saw no events,
      // so the time that passed says nothing about it (a window that ran out while down would
      // otherwise pass at once, with zero invocations).
      f.window.startedAt = now
      changed = true
      d.#gate.watch(name, f.window.versions, now)
    }
    if (changed) await writeActiveSet(o.store, d.#set)
    await d.#files.prune(referencedBundles(d.#set))
    return d
  }

  /** A copy of the active set (what is deployed, rollback targets, failures, rollbacks). */
  get active (): ActiveSet { return structuredClone(this.#set) }
  /** True while a deployment is being fetched, checked, loaded or swapped. */
  get applying (): boolean { return this.#applying }

  /** Connects the deployer to the cloud link; reports at once when online. */
  attach (t: DeployTransport): void {
    this.#transport = t
    this.#fetcher.attach(t)
  }

  /**
   * `down/desired` arrived [W5]: its signature is checked first (for this device, by a trusted
   * key); one that fails is refused, counted and logged, and nothing else looks at it. Then it
   * is acted on after what is under way, newest first (older queued ones are skipped).
   */
  onDesired (f: DesiredFrame): void {
    const refused = this.#check.check(f)
    if (refused !== undefined) {
      const { deploymentId, code, message } = refused.refusal
      this.emit('refused', { deploymentId, name: '', code, message })
      if (refused.fresh) this.report()
      return
    }
    this.#next = f
    void this.#serial(() => this.#take())
  }

  /** `down/bundle` arrived [W6]. */
  onBundle = (f: Parameters<Fetcher['onBundle']>[0]): void => { this.#fetcher.onBundle(f) }

  /** The cloud link (re)connected: report, and ask again for bundles still missing. */
  onConnected (): void {
    this.report()
    this.#fetcher.retryNow()
  }

  /** Counts an ended invocation toward its health window. */
  onInvocation (rec: InvocationRecord): void {
    this.#gate.record(rec)
  }

  /** Resolves once nothing is queued or being applied (tests, e2e). */
  async idle (): Promise<void> {
    for (;;) {
      const lane = this.#lane
      await lane
      if (lane === this.#lane) return
    }
  }

  /** The `up/reported` frame for now [W5]. */
  reportedFrame (): ReportedFrame {
    const left = (fn: string): number | undefined => this.#gate.leftMs(fn)
    return buildReported(this.#set, this.#o.table, this.#applying, this.#o.clock.now(), this.#o.settings.windowMs, this.#check.lastRefused, left)
  }

  /** Sends `up/reported` (retained) when online; emits 'reported' either way. */
  report (): void {
    const frame = this.reportedFrame()
    this.#transport?.sendReported(frame)
    this.emit('reported', frame)
  }

  #serial (work: () => Promise<void>): Promise<void> {
    const run = this.#lane.then(async () => {
      if (this.#closed) return
      try {
        await work()
      } catch (err) {
        this.#o.log(`deployer: ${errorMessage(err)}`)
      }
      if (this.#next === undefined) this.emit('idle')
    })
    this.#lane = run
    return run
  }

  async #take (): Promise<void> {
    const f = this.#next
    this.#next = undefined
    if (f === undefined) return
    const acted = this.#set.deploymentId
    // The same id again is a no-op, unless it is the one whose transient failures are tried again.
    if (f.deploymentId === acted && this.#set.retry !== acted) return
    if (f.deploymentId < acted) return await this.#refuseStale(f)
    this.#applying = true
    this.report()
    let failed: unknown
    try {
      await this.#apply(f)
    } catch (err) {
      failed = err
    } finally {
      this.#applying = false
    }
    if (failed !== undefined) this.#notCommitted(f, failed)
    crashPoint('swapped')
    this.report()
    crashPoint('reported')
    this.#planRetry(f, failed !== undefined)
  }

  /**
   * The deployment's active set could not be written (the store's write failed): nothing
   * changed; each function it would have changed gets a transient failure in the report (in
   * memory: the set on disk is the old one), and it is tried again (#planRetry). Any other
   * error is not the deployment's to report: it is rethrown and logged.
   */
  #notCommitted (f: DesiredFrame, err: unknown): void {
    const e = deployFailure(err)
    if (!isTransient(e.code)) throw err
    const now = this.#o.clock.now()
    const changed = f.functions.filter((d) => !sameAliases(own(this.#set.functions, d.name), aliasesOf(d)))
    for (const d of changed) {
      const x: ReportedFailure = { deploymentId: f.deploymentId, name: d.name, version: d.live.version, code: e.code, message: e.message, at: now }
      x.transient = true
      this.#failed(this.#set, { ...x, ...rolloutOf(d) })
    }
  }

  #failed (set: ActiveSet, x: ReportedFailure): void {
    recordFailure(set, x)
    this.#refused(x.deploymentId, x.name, x.code, x.transient === true ? `${x.message} (transient: tried again)` : x.message, x.rollout)
  }

  /**
   * After acting on `f`: when some of it failed transiently (or its set could not be written),
   * arms the retry timer; otherwise the backoff starts over. A retry re-queues `f` unless a
   * newer desired state is already waiting.
   */
  #planRetry (f: DesiredFrame, notCommitted: boolean): void {
    if (!notCommitted && this.#set.retry !== f.deploymentId) { this.#retry.reset(); return }
    if (this.#closed) return
    const ms = this.#retry.schedule(f.deploymentId, () => {
      if (this.#closed || this.#next !== undefined || this.#set.deploymentId > f.deploymentId) return
      this.onDesired(f)
    })
    this.#o.log(`${frameName(f)}: transient failure, try ${this.#retry.attempt + 1} in ${ms} ms`)
  }

  async #refuseStale (f: DesiredFrame): Promise<void> {
    const added = staleFailures(this.#set, f, this.#o.clock.now())
    for (const x of added) this.#refused(f.deploymentId, x.name, x.code, x.message, x.rollout)
    if (f.functions.length === 0) this.#refused(f.deploymentId, '', ErrorCodes.DEPLOYMENT_STALE, `deployment ${f.deploymentId} is older than ${this.#set.deploymentId}`)
    if (added.length > 0) await writeActiveSet(this.#o.store, this.#set)
    this.report()
  }

  #refused (deploymentId: number, name: string, code: string, message: string, rollout?: string): void {
    this.#o.metrics.inc(DEPLOY_METRICS.refused, { code })
    this.#o.log(`${name === '' ? '' : `${name}: `}${deploymentName(deploymentId, rollout)} refused: ${code}: ${message}`)
    this.emit('refused', { deploymentId, name, code, message, ...(rollout === undefined ? {} : { rollout }) })
  }

  async #apply (f: DesiredFrame): Promise<void> {
    const D = f.deploymentId
    const ctx: PrepareContext = { files: this.#files, fetcher: this.#fetcher, pool: this.#o.pool, trusted: this.#o.trusted, caps: this.#o.caps }
    const { next, ready, transient } = await planDeployment(this.#set, f, ctx, this.#o.clock.now(), {
      refused: (...a) => { this.#refused(...a) },
      failed: (set, x) => { this.#failed(set, x) },
      unloadIfUnused: (key) => { this.#unloadIfUnused(key) }
    })
    // A stop in the middle is not a failure of this deployment: nothing is written, and the
    // retained desired state is acted on again at the next start.
    if (this.#closed) return
    if (transient) next.retry = D
    else delete next.retry
    try {
      await writeActiveSet(this.#o.store, next)
    } catch (err) {
      // Nothing was swapped: what this deployment loaded is unloaded, and the error is the caller's.
      for (const r of ready.values()) for (const key of [r?.live.key, r?.canary?.key]) if (key !== undefined) this.#unloadIfUnused(key)
      throw err
    }
    crashPoint('committed')
    this.#set = next
    await this.swapRoutes(ready)
    for (const [name, route] of ready) {
      const e = own(next.functions, name)
      if (route === undefined || e === undefined) { this.#gate.stop(name); continue }
      this.#o.metrics.inc(DEPLOY_METRICS.applied, { function: name })
      this.#o.log(swapLine(name, e, this.#o.settings.windowMs))
      if (e.window !== undefined) this.#gate.watch(name, e.window.versions, e.window.startedAt)
      else this.#gate.stop(name)
    }
    this.emit('applied', { deploymentId: D, functions: [...ready.keys()] })
    await this.#files.prune(referencedBundles(next))
  }

  /**
   * Points the function table at new routes (undefined: the deployed function is gone, a local
   * one returns), then unloads versions nothing routes to once their in-flight calls end.
   */
  async swapRoutes (changes: ReadonlyMap<string, VersionRoute | undefined>): Promise<void> {
    const oldKeys: string[] = []
    for (const [name, route] of changes) {
      const had = this.#o.table.routeOf(name)
      if (had !== undefined) oldKeys.push(had.live.key, ...(had.canary === undefined ? [] : [had.canary.key]))
      await this.#o.table.setDeployed(name, route)
    }
    for (const key of oldKeys) void this.#o.invoker.idle(key).then(() => this.#unloadIfUnused(key))
  }

  #unloadIfUnused (key: string): void {
    const t = this.#o.table
    const used = t.names().some((n) => { const r = t.routeOf(n); return r?.live.key === key || r?.canary?.key === key }) ||
      t.names().some((n) => t.localOf(n)?.live.key === key)
    if (!used && !this.#closed) this.#o.pool.unload(key)
  }

  /** Loads a deployed function's live (and canary) versions from their files. */
  async loadAliases (name: string, a: Aliases): Promise<VersionRoute> {
    return await loadAliases({ files: this.#files, pool: this.#o.pool, caps: this.#o.caps }, name, a)
  }

  /** The active set as the rollback code changes it: written, then swapped in. */
  async commitSet (next: ActiveSet): Promise<void> {
    await writeActiveSet(this.#o.store, next)
    this.#set = next
  }

  get set (): ActiveSet { return this.#set }

  async #windowPassed (fn: string, stats: HealthStats): Promise<void> {
    const e = own(this.#set.functions, fn)
    if (e?.window === undefined) return
    const next = structuredClone(this.#set)
    delete (next.functions[fn] as DeployedFunction).window
    await this.commitSet(next)
    this.#o.log(`${fn}: ${deploymentName(e.deploymentId, e.rollout)}: version ${e.window.versions.join(', ')} healthy: passed its ${this.#o.settings.windowMs} ms health window (${stats.invocations} invocations, ${stats.errors} errors)`)
    // The cloud's rollout view turns healthy on this report (what `lambkin deploy` waits for).
    this.report()
  }

  /** Stops acting: health windows stop (resumed at the next start), fetches end, and the deployment under way ends without writing. */
  async close (): Promise<void> {
    this.#closed = true
    this.#retry.cancel()
    this.#gate.close()
    this.#fetcher.close()
    await this.#lane
  }
}
