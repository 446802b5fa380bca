// Runs one trigger event through a function and makes its effects durable: an agent-wide
// concurrency limit (callers that can hold their source back wait for a slot; the others meet
// a bounded queue and LAMBKIN_THROTTLED), retries with backoff per the manifest, then one store
// commit holding the result (or dead letter), emits, logs, the new ctx.state and durable QoS 1
// publishes. The promise resolves only after that commit and rejects when it failed, which is
// what lets an MQTT trigger acknowledge its message only once it is durable (docs/architecture.md, "From socket to PUBACK").
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import type { FunctionManifest } from '../../src/function/index.js'
import type { Outcome, OutcomeError } from '../../src/sandbox/index.js'
import type { Hop } from '../links/hops.js'
import { DEFAULT_MAX_HOPS, RecursionGuard } from './recursion-guard.js'
import { invocationRecord, planCommit, sentPublishes, type PlannedCommit } from './commit-unit.js'
import { pickVersion } from './aliases.js'
import type { Registered, VersionRoute } from './aliases.js'
import { KeyInflight } from './key-inflight.js'
import type { InvocationRecord, InvokerOptions, RunOptions } from './types.js'
import { Admission } from './admission.js'
import { Call, notRan, refusedOutcome } from './call.js'
import { StateChain, type Release } from './state-chain.js'
import { StateCache } from './state-cache.js'

export type { InvocationObserver, InvocationRecord, InvokerOptions, Overload, RunOptions } from './types.js'

/** Counts commits that failed; their trigger messages stay unacknowledged. */
export const COMMIT_FAILURES_METRIC = 'commit_failures_total'

/** The version in a sandbox key (`name@version`): what results and dead letters record. */
const versionOfKey = (key: string): string => key.slice(key.indexOf('@') + 1)

export class Invoker {
  readonly #o: InvokerOptions
  readonly #fns = new Map<string, VersionRoute>()
  readonly #keys = new KeyInflight()
  readonly #recursion: RecursionGuard
  /** Each function's ctx.state as last seen or read (state-cache.ts). */
  readonly #state: StateCache
  readonly #admission: Admission
  /** The order of each function's commits when its calls change ctx.state (state-chain.ts). */
  readonly #chain = new StateChain<Call>((c, release) => { this.#write(c, release) }, (c) => {
    this.#failed(c, new LambkinError(ErrorCodes.STORE_ERROR, 'not stored: it ran after an earlier call whose change of ctx.state was not stored'))
  })

  constructor (opts: InvokerOptions) {
    this.#o = opts
    this.#admission = new Admission(opts.maxConcurrent)
    this.#state = new StateCache(opts.store, this.#chain)
    opts.metrics.register(COMMIT_FAILURES_METRIC, {
      type: 'counter',
      help: 'Invocations whose effects could not be written to the outbox, by error code; their QoS 1 trigger messages were not acknowledged.',
      labelNames: ['code']
    })
    this.#recursion = new RecursionGuard({
      store: opts.store,
      metrics: opts.metrics,
      now: opts.now,
      log: opts.log ?? (() => {}),
      maxHops: opts.maxHops ?? DEFAULT_MAX_HOPS
    })
  }

  /** Routes `manifest.name` to the sandbox key alone (a local function, or live with no canary). */
  register (manifest: FunctionManifest, key: string): void {
    this.#fns.set(manifest.name, { live: { key, manifest, version: key.slice(key.indexOf('@') + 1) } })
  }

  /**
   * Routes a function to its `live` version and, optionally, a `canary` that takes `weight`%
   * of invocations (1-99). Takes effect for invocations that start after the call: those
   * already running finish on the version they started with (idle() tells when).
   */
  route (name: string, route: VersionRoute): void {
    this.#fns.set(name, route)
  }

  /** Stops routing a function; later invocations answer LAMBKIN_FUNCTION_NOT_FOUND. */
  unregister (name: string): void {
    this.#fns.delete(name)
  }

  /** The current route of a function, or undefined. */
  routeOf (name: string): VersionRoute | undefined {
    return this.#fns.get(name)
  }

  /** Resolves once no invocation is running on sandbox key `key` (an old version after a swap). */
  idle (key: string): Promise<void> {
    return this.#keys.idle(key)
  }

  get inflight (): number {
    return this.#admission.inflight
  }

  /**
   * Runs and commits one event; resolves with its record once the commit is durable. A
   * failing function is not a rejection (it ends as a committed dead letter); a failing
   * commit is: it rejects with the store's LambkinError (LAMBKIN_STORE_FULL,
   * LAMBKIN_STORE_ERROR, LAMBKIN_CLOSED), after telling the observers and
   * counting it in lambkin_commit_failures_total, so the trigger does not acknowledge it.
   * `opts.hop` is where the triggering message sits in a chain [W9]: the invocation runs with
   * its trace id, and at invocation.maxHops it does not run (a LAMBKIN_RECURSION_LIMIT dead
   * letter, recursion-guard.ts, whose failed commit rejects the same way).
   */
  run (fn: string, event: Record<string, unknown>, opts: RunOptions = {}): Promise<InvocationRecord> {
    // Not async (a promise and a resumption per layer), so a throw (an event.source whose
    // String() throws) is turned into the rejection an async run() gave.
    try {
      return this.#run(fn, event, opts)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  #run (fn: string, event: Record<string, unknown>, opts: RunOptions): Promise<InvocationRecord> {
    const route = this.#fns.get(fn)
    const reg = route === undefined ? undefined : pickVersion(route, this.#o.random ?? Math.random)
    const source = String(event.source ?? 'invoke')
    if (reg === undefined) {
      return Promise.resolve(notRan(fn, source, ErrorCodes.FUNCTION_NOT_FOUND, `function ${fn} is not loaded`))
    }
    if (this.#recursion.exceeded(opts.hop)) return this.#stopChain(fn, event, source, opts.hop as Hop, opts.meta, reg, opts.committed)
    if (opts.overload === 'throttle' && this.#admission.full(this.#o.queueDepth)) {
      this.#o.metrics.throttled(fn)
      const rec = notRan(fn, source, ErrorCodes.THROTTLED, `the agent already has ${this.#o.queueDepth} invocations waiting`)
      this.#observe(rec)
      return Promise.resolve(rec)
    }
    this.#admission.enter()
    this.#keys.start(reg.key)
    // Not async functions awaiting each other: one promise for the caller, settled from
    // callbacks on the sandbox's and the store's promises (docs/performance.md, "The relay job").
    const c = new Call(fn, reg, event, source, opts.meta, opts.hop, false, opts.committed)
    const answer = new Promise<InvocationRecord>((resolve, reject) => { c.resolve = resolve; c.reject = reject })
    if (this.#admission.tryAcquire()) this.#begin(c)
    else void this.#admission.acquire().then(() => { this.#begin(c) })
    return answer
  }

  /** At invocation.maxHops [W9]: a LAMBKIN_RECURSION_LIMIT dead letter instead of a run. */
  async #stopChain (fn: string, event: Record<string, unknown>, source: string, hop: Hop, meta: RunOptions['meta'], reg: Registered, committed: RunOptions['committed']): Promise<InvocationRecord> {
    try {
      const rec = await this.#recursion.stop(fn, event, source, hop, meta, versionOfKey(reg.key))
      committed?.()
      this.#observe(rec)
      return rec
    } catch (err) {
      // Answered as a commit's store failure: the message stays unacknowledged.
      throw this.#commitFailed(fn, source, err, { durationMs: 0, invocationId: '', attempts: 0 })
    }
  }

  /**
   * Records a dead letter for an event that can never reach the function (a trigger payload
   * its trigger cannot decode, or one over a cap): no sandbox call and no retry, since the
   * same bytes would fail the same way. Counted as a failed invocation under `error.code`.
   * Resolves once the dead letter is committed. Like run(), a failing commit rejects with the
   * store's LambkinError (after the observers and lambkin_commit_failures_total), so the trigger
   * leaves the message unacknowledged and the broker delivers it again.
   */
  async refuse (fn: string, event: Record<string, unknown>, error: OutcomeError, opts: Pick<RunOptions, 'meta' | 'committed'> = {}): Promise<InvocationRecord> {
    const reg = this.#fns.get(fn)?.live
    const source = String(event.source ?? 'invoke')
    if (reg === undefined) {
      return notRan(fn, source, ErrorCodes.FUNCTION_NOT_FOUND, `function ${fn} is not loaded`)
    }
    const outcome = refusedOutcome(fn, versionOfKey(reg.key), error)
    this.#o.metrics.record(fn, outcome)
    this.#admission.enter()
    const c = new Call(fn, reg, event, source, opts.meta, undefined, true, opts.committed)
    const answer = new Promise<InvocationRecord>((resolve, reject) => { c.resolve = resolve; c.reject = reject })
    this.#commit(c, outcome, 0, 1)
    return await answer
  }

  /** With a slot held: the function's state known (read once if not), then its first attempt. */
  #begin (c: Call): void {
    if (this.#state.get(c.fn) !== undefined) this.#attempt(c)
    else this.#state.load(c.fn).then(() => { this.#attempt(c) }, (err: unknown) => { this.#notRun(c, err) })
  }

  /**
   * One attempt in the sandbox. Calls are not held back for the previous outcome: the sandbox
   * instance hands the state it produced to the call queued behind it (versions decide which
   * copy is newer), and a function with concurrency 1 runs its calls in order in one instance.
   */
  #attempt (c: Call): void {
    try {
      const known = this.#state.get(c.fn)
      // A failed commit of another call dropped the state while this one waited (its retry's
      // backoff, or its state read's resumption): read the stored state again first.
      if (known === undefined) {
        this.#begin(c)
        return
      }
      known.json ??= JSON.stringify(known.value ?? {})
      c.epoch = this.#chain.epoch(c.fn)
      this.#o.pool.invoke(c.reg.key, c.event, { stateJson: known.json, stateVersion: known.version, traceId: c.traceId })
        .then((o) => { this.#attempted(c, o, known.version) }, (err: unknown) => { this.#notRun(c, err) })
    } catch (err) {
      this.#notRun(c, err)
    }
  }

  /** An attempt's outcome: counted; retried per the manifest after a failure, else committed. */
  #attempted (c: Call, outcome: Outcome, knownVersion: number): void {
    const { metrics } = this.#o
    const fn = c.fn
    c.tries++
    // An attempt sent before a state commit of fn failed may hold that state: it is not taken.
    if (outcome.ok && outcome.stateChanged && (outcome.stateVersion ?? 0) > knownVersion && !this.#chain.stale(fn, c.epoch)) {
      this.#state.set(fn, outcome.state, outcome.stateVersion ?? knownVersion + 1)
    }
    // A message from a chain continues its trace: ctx.traceId follows the chain [W9].
    c.traceId = outcome.traceId
    try {
      if (!outcome.ok && outcome.error.code === ErrorCodes.THROTTLED) metrics.throttled(fn)
      else metrics.record(fn, outcome)
    } catch (err) {
      this.#notRun(c, err)
      return
    }
    const retry = c.reg.manifest.retry
    if (!outcome.ok && c.tries < 1 + retry.attempts) {
      this.#o.sleep(retry.backoffMs * 2 ** (c.tries - 1)).then(() => { this.#attempt(c) }, (err: unknown) => { this.#notRun(c, err) })
      return
    }
    // The sandbox part is over: the slot goes to the next call while this one commits.
    this.#admission.toCommit()
    this.#commit(c, outcome, c.tries, (c.hop?.hop ?? 0) + 1)
  }

  /** The call failed before its commit (the state read, the sandbox's pool, a sleep): rejected, nothing stored. */
  #notRun (c: Call, err: unknown): void {
    this.#admission.release()
    this.#end(c)
    c.reject(err)
  }

  #end (c: Call): void {
    this.#keys.end(c.reg.key)
    this.#admission.leave()
  }

  /** Hands outcome `o` of `c` to the commit of its turn among fn's commits (state-chain.ts, #write). */
  #commit (c: Call, o: Outcome, attempts: number, nextHop: number): void {
    c.outcome = o
    c.attempts = attempts
    c.nextHop = nextHop
    c.changesState = o.ok && o.stateChanged
    this.#chain.commit(c.fn, c)
  }

  /**
   * Writes an outcome's unit (commit-unit.ts) with the caller's meta, built now (it reflects all up to this commit); then tells
   * the caller it is written (RunOptions.committed), hands its publishes on, tells the observers and settles `c` (#settle).
   * A failed write settles it with #commitFailed's error. `release`: a state commit's handle (state-chain.ts), the store's `queued` and told when settled.
   */
  #write (c: Call, release: Release | undefined): void {
    const { fn, source, attempts } = c
    const o = c.outcome as Outcome
    let planned: PlannedCommit
    try {
      planned = planCommit(fn, c.event, source, o, attempts, this.#o.now(), { traceId: o.traceId, hop: c.nextHop })
    } catch (err) {
      this.#unstored(c, release)
      this.#settle(c, undefined, err)
      return
    }
    try {
      planned.unit.meta = c.meta?.()
    } catch (err) {
      this.#unstored(c, release)
      this.#failed(c, err)
      return
    }
    // Told from the store's group commit (commitThen): no promise per commit on this path.
    this.#o.store.commitThen(planned.unit, release, (err, committed) => {
      if (committed === undefined) {
        this.#unstored(c, release)
        this.#failed(c, err)
        return
      }
      release?.(true)
      let rec: InvocationRecord
      try {
        c.committed?.()
        const sent = sentPublishes(fn, planned, committed.publishIds, { traceId: o.traceId, hop: c.nextHop })
        if (sent !== undefined) this.#o.publish(sent)
        rec = invocationRecord(fn, source, o, attempts)
        this.#observe(rec)
      } catch (err) {
        this.#settle(c, undefined, err)
        return
      }
      this.#settle(c, rec)
    })
  }

  /**
   * A commit of `c` was not stored. When it carried a new state from the current epoch, the state
   * handed on in the sandboxes was never stored: the attempts sent before now fail with it
   * (state-chain.ts), and the state is read from the store again on the next call, with a version
   * above any the sandboxes can reach from those attempts (at most maxConcurrent are there, each
   * one version up), so none of theirs is taken over it. A stale one's failure changes nothing more.
   */
  #unstored (c: Call, release: Release | undefined): void {
    const fn = c.fn
    if (c.changesState && !this.#chain.stale(fn, c.epoch)) {
      this.#state.drop(fn, c.outcome?.ok === true ? (c.outcome.stateVersion ?? 0) : 0, this.#o.maxConcurrent)
      this.#chain.failed(fn)
    }
    release?.(true)
  }

  /** A commit that failed or was not written: counted, told and answered with #commitFailed's error. */
  #failed (c: Call, err: unknown): void {
    const o = c.outcome as Outcome
    let failure: unknown
    try {
      failure = this.#commitFailed(c.fn, c.source, err, { durationMs: o.durationMs, invocationId: o.invocationId, attempts: c.attempts })
    } catch (e) {
      failure = e
    }
    this.#settle(c, undefined, failure)
  }

  /** A commit ended: the call gives back what it held (a refusal only its place in drain()) and answers. */
  #settle (c: Call, rec: InvocationRecord | undefined, err?: unknown): void {
    if (c.refusal) this.#admission.leave()
    else {
      this.#admission.committed()
      this.#end(c)
    }
    if (rec !== undefined) c.resolve(rec)
    else c.reject(err)
  }

  #observe (rec: InvocationRecord): void {
    for (const observer of this.#o.observers) observer(rec)
  }

  /** Counts and reports a failed commit; returns the error run() rejects with. */
  #commitFailed (fn: string, source: string, err: unknown, rec: Pick<InvocationRecord, 'durationMs' | 'invocationId' | 'attempts'>): LambkinError {
    const failure =
      err instanceof LambkinError
        ? err
        : new LambkinError(ErrorCodes.STORE_ERROR, `writing to the outbox store failed: ${errorMessage(err)}`, { cause: err })
    this.#o.metrics.inc(COMMIT_FAILURES_METRIC, { code: failure.code })
    this.#observe({
      fn,
      source,
      ok: false,
      code: failure.code,
      message: `results could not be stored (an MQTT trigger stays unacknowledged and is delivered again): ${failure.message}`,
      ...rec
    })
    return failure
  }

  /** Resolves true when nothing is running, waiting or committing, or false after timeoutMs. */
  drain (timeoutMs: number): Promise<boolean> {
    return this.#admission.drain(timeoutMs)
  }
}
