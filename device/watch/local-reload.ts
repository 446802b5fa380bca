// Reloading the local functions folder while the agent runs (docs/device.md, "Editing a running
// agent's functions"): the folder is read again and validated as at start; each function whose content
// version changed is compiled and initialised beside the running version (SandboxPool.load),
// then swapped in the function table as a deployment is (in-flight calls end on the old
// version), and watched by the deployer's health gate (deploy.* settings). A version that fails
// the gate is rolled back to the one it replaced, by the agent alone, and not taken again until
// its files change. An edit that does not load (a syntax error at file:line:column, a bad
// manifest) leaves the running version alone and is printed once.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { ErrorCodes, errorMessage } from '../../src/errors.js'
import { loadFunctionsDir } from '../../src/function/index.js'
import type { Limits, LoadedFunction } from '../../src/function/index.js'
import { specOf } from '../../src/sandbox/index.js'
import type { SandboxPool } from '../../src/sandbox/index.js'
import { describeFailure, HealthGate } from '../deployer/health-gate.js'
import type { HealthSettings, HealthStats } from '../deployer/health-gate.js'
import type { VersionRoute } from '../invoke/aliases.js'
import type { FunctionTable } from '../invoke/function-table.js'
import type { Invoker, InvocationRecord } from '../invoke/invoker.js'
import type { Clock } from '../../src/clock.js'

export interface LocalReloadOptions {
  functionsDir: string
  layersDir?: string
  caps: Partial<Limits>
  pool: SandboxPool
  table: FunctionTable
  invoker: Invoker
  clock: Clock
  settings: HealthSettings
  log: (line: string) => void
  /**
   * The functions running changed (a swap, a removal, a rollback): the agent reports them to
   * the cloud at once, so `lambkin status` and the dashboard do not wait for a reconnect.
   */
  onChanged?: () => void
}

/** What the agent loaded from the folder at start: the functions running, and the folders that failed. */
export interface LocalStart {
  loaded: readonly LoadedFunction[]
  /** Folder -> the error text printed at start, so an unchanged broken folder is not printed again. */
  failed: ReadonlyMap<string, string>
}

const routeOf = (fn: LoadedFunction): VersionRoute => ({ live: { key: `${fn.manifest.name}@${fn.version}`, manifest: fn.manifest, version: fn.version } })

export class LocalReload {
  readonly #o: LocalReloadOptions
  readonly #gate: HealthGate
  /** Function name -> the local version running (or hidden by a deployment). */
  readonly #current = new Map<string, LoadedFunction>()
  /** Function name -> the version a reload replaced, kept loaded while the new one's health window runs. */
  readonly #previous = new Map<string, LoadedFunction | undefined>()
  /** Folder -> the last error printed for it (printed again only when it changes). */
  readonly #said = new Map<string, string>()
  /** Function name -> versions rolled back, not taken again until the files change. */
  readonly #rejected = new Map<string, Set<string>>()
  #lane: Promise<void> = Promise.resolve()
  #closed = false

  constructor (o: LocalReloadOptions, start: LocalStart) {
    this.#o = o
    for (const fn of start.loaded) this.#current.set(fn.manifest.name, fn)
    for (const [dir, text] of start.failed) this.#said.set(dir, text)
    this.#gate = new HealthGate({
      clock: o.clock,
      settings: o.settings,
      onFail: (fn, stats) => { void this.#serial(() => this.#rollBack(fn, stats)) },
      onPass: (fn, stats) => { void this.#serial(async () => { this.#passed(fn, stats) }) }
    })
  }

  /** Reads the folder again and applies what changed; one reload at a time. */
  reload (): Promise<void> {
    return this.#serial(() => this.#reload())
  }

  /** Counts an ended invocation toward a reloaded version's health window. */
  onInvocation (rec: InvocationRecord): void {
    this.#gate.record(rec)
  }

  /** Stops the health windows and waits for a reload under way. */
  async close (): Promise<void> {
    this.#closed = true
    this.#gate.close()
    await this.#lane
  }

  #serial (work: () => Promise<void>): Promise<void> {
    const run = this.#lane.then(async () => {
      if (this.#closed) return
      try {
        await work()
      } catch (err) {
        this.#o.log(`reloading ${this.#o.functionsDir}: ${(err as { code?: string }).code ?? ErrorCodes.FUNCTION_ERROR}: ${errorMessage(err)}`)
      }
    })
    this.#lane = run
    return run
  }

  /** Logs `text` for `dir` unless it is what was last said for it; each line of a caret excerpt on its own. */
  #say (dir: string, text: string): void {
    if (this.#said.get(dir) === text) return
    this.#said.set(dir, text)
    for (const line of text.split('\n')) this.#o.log(line)
  }

  async #reload (): Promise<void> {
    const o = this.#o
    const { functions, errors } = await loadFunctionsDir(o.functionsDir, { layersDir: o.layersDir, caps: o.caps })
    const seen = new Set<string>()
    const failedDirs = new Set<string>()
    for (const { dir, error } of errors) {
      failedDirs.add(dir)
      const running = [...this.#current.values()].find((f) => f.dir === dir)
      if (running !== undefined) seen.add(running.manifest.name)
      this.#say(dir, running === undefined
        ? `function ${dir} not loaded: ${error.code}: ${error.message}`
        : `${running.manifest.name}: the edit in ${dir} is not loaded, version ${running.version} keeps running: ${error.code}: ${error.message}`)
    }
    for (const fn of functions) {
      const name = fn.manifest.name
      seen.add(name)
      const cur = this.#current.get(name)
      if (cur?.version === fn.version) { this.#said.delete(fn.dir); continue }
      if (this.#rejected.get(name)?.has(fn.version) === true) {
        // Said each time, so the folder's next error is never taken for one already printed.
        this.#say(fn.dir, `${name}: version ${fn.version} in ${fn.dir} was rolled back earlier in this run and is not taken again; ` +
          `${cur === undefined ? 'nothing runs for it' : `version ${cur.version} keeps running`}; edit its files to try again`)
        continue
      }
      await this.#swapIn(fn, cur)
    }
    for (const [name, cur] of this.#current) {
      if (seen.has(name)) continue
      // A folder whose function.json is missing for a moment (an editor saving by rename) is
      // not a removal: only a folder that is gone takes its function with it.
      if (existsSync(cur.dir) && existsSync(path.join(cur.dir, 'function.json'))) continue
      if (existsSync(cur.dir) && !failedDirs.has(cur.dir)) {
        this.#say(cur.dir, `${name}: ${path.join(cur.dir, 'function.json')} is missing; version ${cur.version} keeps running`)
        continue
      }
      await this.#remove(name, cur)
    }
    for (const dir of [...this.#said.keys()]) if (!failedDirs.has(dir) && !existsSync(dir)) this.#said.delete(dir)
  }

  /** Compiles `fn` beside the running version, swaps it in, and opens its health window. */
  async #swapIn (fn: LoadedFunction, cur: LoadedFunction | undefined): Promise<void> {
    const o = this.#o
    const name = fn.manifest.name
    const route = routeOf(fn)
    try {
      await o.pool.load(specOf(fn))
    } catch (err) {
      const e = err as { code?: string, message?: string }
      this.#say(fn.dir, `${name}: the edit in ${fn.dir} is not loaded, ${cur === undefined ? 'nothing runs for it' : `version ${cur.version} keeps running`}: ${e.code ?? ErrorCodes.FUNCTION_ERROR}: ${e.message ?? String(err)}`)
      return
    }
    this.#said.delete(fn.dir)
    await o.table.setLocal(name, route)
    this.#current.set(name, fn)
    const hidden = o.table.routeOf(name)?.live.key !== route.live.key
    const gated = !hidden && o.settings.windowMs > 0
    // One line per swap, verdict and rollback, in the deployer's shape (`<fn>: <what>: ...`).
    o.log(`${name}: local edit in ${fn.dir}: version ${fn.version} ${hidden ? 'loaded' : 'swapped in'} (${cur === undefined ? 'a new function' : `was ${cur.version}`})` +
      (hidden ? '; a deployed version of it runs, this one takes over when that deployment is removed' : gated ? `; health window ${o.settings.windowMs} ms` : ''))
    if (!hidden) o.onChanged?.()
    // The version before stays loaded while the window runs: a rollback swaps straight back.
    const older = this.#previous.get(name)
    if (gated) {
      this.#previous.set(name, cur)
      if (older !== undefined && older.version !== cur?.version) this.#release(older)
      this.#gate.watch(name, [fn.version], o.clock.now())
    } else {
      this.#previous.delete(name)
      this.#gate.stop(name)
      for (const f of [cur, older]) if (f !== undefined) this.#release(f)
    }
  }

  async #remove (name: string, cur: LoadedFunction): Promise<void> {
    this.#gate.stop(name)
    await this.#o.table.setLocal(name, undefined)
    this.#current.delete(name)
    const prev = this.#previous.get(name)
    this.#previous.delete(name)
    for (const f of [cur, prev]) if (f !== undefined) this.#release(f)
    this.#o.log(`${name}: its folder ${cur.dir} is gone: removed`)
    this.#o.onChanged?.()
  }

  #passed (name: string, stats: HealthStats): void {
    const prev = this.#previous.get(name)
    this.#previous.delete(name)
    if (prev !== undefined) this.#release(prev)
    const cur = this.#current.get(name)
    if (cur !== undefined) this.#o.log(`${name}: local edit in ${cur.dir}: version ${cur.version} healthy: passed its ${this.#o.settings.windowMs} ms health window (${stats.invocations} invocations, ${stats.errors} errors)`)
  }

  /** The reloaded version of `name` failed its gate: back to the version it replaced (or none). */
  async #rollBack (name: string, stats: HealthStats): Promise<void> {
    const o = this.#o
    const bad = this.#current.get(name)
    if (bad === undefined) return
    const prev = this.#previous.get(name)
    this.#previous.delete(name)
    let rejected = this.#rejected.get(name)
    if (rejected === undefined) this.#rejected.set(name, rejected = new Set())
    rejected.add(bad.version)
    if (prev !== undefined) {
      // Still loaded unless something unloaded it meanwhile; loading again is a no-op then.
      await o.pool.load(specOf(prev))
      await o.table.setLocal(name, routeOf(prev))
      this.#current.set(name, prev)
    } else {
      await o.table.setLocal(name, undefined)
      this.#current.delete(name)
    }
    this.#release(bad)
    o.log(`${name}: local edit in ${bad.dir}: ${ErrorCodes.HEALTH_CHECK_FAILED}: ${describeFailure(bad.version, stats, o.settings)}` +
      `${prev === undefined ? '; nothing runs for it' : ` to version ${prev.version}`}; edit its files to try again`)
    o.onChanged?.()
  }

  /** Unloads `fn`'s sandbox once its in-flight calls have ended, unless a route uses it again by then. */
  #release (fn: LoadedFunction): void {
    const key = routeOf(fn).live.key
    void this.#o.invoker.idle(key).then(() => {
      const kept = [...this.#previous.values()].some((p) => p?.version === fn.version && p.manifest.name === fn.manifest.name)
      if (!this.#closed && !kept && !this.#o.table.uses(key)) this.#o.pool.unload(key)
    })
  }
}
