// Runs one trigger event through a function and makes its effects durable: an agent-wide
// concurrency limit with a bounded queue (LAMBKIN_THROTTLED when full), retries with backoff
// per the manifest, then one store commit holding the result (or dead letter), emits, logs,
// the new ctx.state and durable QoS 1 publishes. The promise resolves only after that commit,
// which is what lets an MQTT trigger acknowledge its message (DESIGN.md section 6).
import { ErrorCodes } from '../src/errors.js'
import type { FunctionManifest } from '../src/function/index.js'
import type { Outcome, PublishRequest, SandboxPool } from '../src/sandbox/index.js'
import type { Hop } from './hops.js'
import type { FunctionMetrics } from './metrics/index.js'
import { DEFAULT_MAX_HOPS, RecursionGuard } from './recursion-guard.js'
import type { MetaWrite, NewPublish, NewRecord, OutboxStore } from './store/index.js'

export interface InvocationRecord {
  fn: string
  source: string
  ok: boolean
  code?: string
  message?: string
  result?: unknown
  durationMs: number
  invocationId: string
  attempts: number
}

export interface InvokerOptions {
  pool: SandboxPool
  store: OutboxStore
  metrics: FunctionMetrics
  maxConcurrent: number
  queueDepth: number
  sleep: (ms: number) => Promise<void>
  now: () => number
  /**
   * Hands publishes to the trigger broker once committed (QoS 1 ones with their store ids),
   * each with the hop it is published at: one past the invocation's [W9].
   */
  publish: (pubs: Array<PublishRequest & { id?: number, hop?: Hop, fn?: string }>) => void
  onInvocation: (rec: InvocationRecord) => void
  /** invocation.maxHops [W9]; default 16. */
  maxHops?: number
  log?: (line: string) => void
}

interface Registered { key: string, manifest: FunctionManifest }

/**
 * Outcomes waiting for their commit at once; past this, no new invocation starts until the
 * store catches up (a stalled disk then throttles triggers instead of filling memory).
 */
const MAX_COMMITTING = 4096

/** Encodes a function's publish payload as MQTT bytes: strings as they are, else JSON. */
function payloadBytes (p: unknown): string {
  return typeof p === 'string' ? p : JSON.stringify(p)
}

export class Invoker {
  readonly #o: InvokerOptions
  readonly #fns = new Map<string, Registered>()
  readonly #recursion: RecursionGuard
  /**
   * Each function's latest ctx.state seen in an outcome, with its version and, once a call
   * needed it, its JSON: calls sent while that version is the newest share one stringify.
   */
  readonly #state = new Map<string, { value: unknown, version: number, json?: string }>()
  readonly #waiting: Array<() => void> = []
  #running = 0
  #committing = 0
  #inflight = 0
  #idle: Array<() => void> = []

  constructor (opts: InvokerOptions) {
    this.#o = opts
    this.#recursion = new RecursionGuard({ store: opts.store, metrics: opts.metrics, now: opts.now, log: opts.log ?? (() => {}), maxHops: opts.maxHops ?? DEFAULT_MAX_HOPS })
  }

  register (manifest: FunctionManifest, key: string): void {
    this.#fns.set(manifest.name, { key, manifest })
  }

  get inflight (): number { return this.#inflight }

  /**
   * Runs and commits one event. Never rejects; a store failure comes back as a failed record.
   * `extra.hop` is where the triggering message sits in a chain [W9]: the invocation runs with
   * its trace id, and at invocation.maxHops it does not run (a LAMBKIN_RECURSION_LIMIT dead
   * letter, recursion-guard.ts).
   */
  async run (fn: string, event: Record<string, unknown>, extra: { meta?: () => MetaWrite[], hop?: Hop } = {}): Promise<InvocationRecord> {
    const reg = this.#fns.get(fn)
    const source = String(event.source ?? 'invoke')
    if (reg === undefined) {
      return { fn, source, ok: false, code: ErrorCodes.FUNCTION_NOT_FOUND, message: `function ${fn} is not loaded`, durationMs: 0, invocationId: '', attempts: 0 }
    }
    if (this.#recursion.exceeded(extra.hop)) {
      // A store failure is answered as #commit answers it, so both paths change together.
      const rec = await this.#recursion.stop(fn, event, source, extra.hop as Hop).catch((err: Error & { code?: string }): InvocationRecord =>
        ({ fn, source, ok: false, code: err.code ?? ErrorCodes.STORE_ERROR, message: `the recursion dead letter could not be stored: ${err.message}`, durationMs: 0, invocationId: '', attempts: 0 }))
      this.#o.onInvocation(rec)
      return rec
    }
    if (!this.#free() && this.#waiting.length >= this.#o.queueDepth) {
      this.#o.metrics.throttled(fn)
      const rec: InvocationRecord = { fn, source, ok: false, code: ErrorCodes.THROTTLED, message: `the agent already has ${this.#o.queueDepth} invocations waiting`, durationMs: 0, invocationId: '', attempts: 0 }
      this.#o.onInvocation(rec)
      return rec
    }
    this.#inflight++
    try {
      await this.#acquire()
      return await this.#runHeld(fn, reg, event, source, extra.meta, extra.hop)
    } finally {
      if (--this.#inflight === 0) for (const done of this.#idle.splice(0)) done()
    }
  }

  async #runHeld (fn: string, reg: Registered, event: Record<string, unknown>, source: string, meta: (() => MetaWrite[]) | undefined, hop: Hop | undefined): Promise<InvocationRecord> {
    const { pool, store, metrics } = this.#o
    if (!this.#state.has(fn)) this.#state.set(fn, { value: await store.getState(fn) ?? {}, version: 0 })
    const attempts = 1 + reg.manifest.retry.attempts
    let outcome: Outcome | undefined
    // A message from a chain continues its trace: ctx.traceId follows the chain [W9].
    let traceId: string | undefined = hop?.traceId
    let tries = 0
    for (; tries < attempts; tries++) {
      if (tries > 0) await this.#o.sleep(reg.manifest.retry.backoffMs * 2 ** (tries - 1))
      // Calls are not held back for the previous outcome: the sandbox instance hands the state
      // it produced to the call queued behind it (versions decide which copy is newer), and
      // a function with concurrency 1 runs its calls in order in one instance.
      const known = this.#state.get(fn) as { value: unknown, version: number, json?: string }
      known.json ??= JSON.stringify(known.value ?? {})
      outcome = await pool.invoke(reg.key, event, { stateJson: known.json, stateVersion: known.version, traceId })
      if (outcome.ok && outcome.stateChanged && (outcome.stateVersion ?? 0) > known.version) {
        this.#state.set(fn, { value: outcome.state, version: outcome.stateVersion ?? known.version + 1 })
      }
      traceId = outcome.traceId
      if (!outcome.ok && outcome.error.code === ErrorCodes.THROTTLED) metrics.throttled(fn)
      else metrics.record(fn, outcome)
      if (outcome.ok) break
    }
    // The sandbox part is over: its slot goes to the next invocation while this one's effects
    // are written. Holding it through the commit would leave the sandboxes idle for a LevelDB
    // round trip per call; outcomes waiting for their commit are capped by MAX_COMMITTING.
    this.#committing++
    this.#release()
    try {
      return await this.#commit(fn, event, source, meta, outcome as Outcome, tries, (hop?.hop ?? 0) + 1)
    } finally {
      this.#committing--
      this.#admit()
    }
  }

  async #commit (fn: string, event: Record<string, unknown>, source: string, meta: (() => MetaWrite[]) | undefined, o: Outcome, tries: number, nextHop: number): Promise<InvocationRecord> {
    const { store } = this.#o
    const time = this.#o.now()
    const records: NewRecord[] = []
    const durable: NewPublish[] = []
    const quick: PublishRequest[] = []
    const unit = { records, meta: undefined as MetaWrite[] | undefined, state: undefined as Array<{ fn: string, value: unknown }> | undefined, publishes: durable }
    if (o.ok) {
      records.push({ kind: 'result', fn, time, data: { invocationId: o.invocationId, traceId: o.traceId, version: o.version, source, result: o.result ?? null, durationMs: o.durationMs, attempts: tries + 1 } })
      for (const e of o.emits) records.push({ kind: 'emit', fn, time, data: e })
      if (o.stateChanged) unit.state = [{ fn, value: o.state }]
      for (const p of o.publishes) {
        if (p.qos === 1) durable.push({ topic: p.topic, payload: payloadBytes(p.payload), qos: 1, retain: p.retain })
        else quick.push(p)
      }
    } else {
      records.push({ kind: 'dead-letter', fn, time, data: { invocationId: o.invocationId, traceId: o.traceId, version: o.version, source, event, error: o.error, attempts: tries } })
    }
    if (o.logs.length > 0) records.push({ kind: 'log', fn, time, data: { invocationId: o.invocationId, lines: o.logs } })
    let committed
    try {
      // Built now, not earlier: the caller's meta reflects everything up to this commit.
      unit.meta = meta?.()
      committed = await store.commit(unit)
    } catch (err) {
      // The state handed on was never stored: reload it from the store on the next call.
      this.#state.delete(fn)
      const rec: InvocationRecord = { fn, source, ok: false, code: (err as { code?: string }).code ?? ErrorCodes.STORE_ERROR, message: `results could not be stored: ${(err as Error).message}`, durationMs: o.durationMs, invocationId: o.invocationId, attempts: tries }
      this.#o.onInvocation(rec)
      return rec
    }
    const hop: Hop = { traceId: o.traceId, hop: nextHop }
    const sent: Array<PublishRequest & { id?: number, hop?: Hop, fn?: string }> = [
      ...quick.map((p) => ({ ...p, hop, fn })),
      ...durable.map((p, i) => ({ topic: p.topic, payload: p.payload, qos: 1 as const, retain: p.retain, id: committed.publishIds[i], hop, fn }))
    ]
    if (sent.length > 0) this.#o.publish(sent)
    const rec: InvocationRecord = o.ok
      ? { fn, source, ok: true, result: o.result, durationMs: o.durationMs, invocationId: o.invocationId, attempts: tries + 1 }
      : { fn, source, ok: false, code: o.error.code, message: o.error.message, durationMs: o.durationMs, invocationId: o.invocationId, attempts: tries }
    this.#o.onInvocation(rec)
    return rec
  }

  #free (): boolean {
    return this.#running < this.#o.maxConcurrent && this.#committing < MAX_COMMITTING
  }

  #acquire (): Promise<void> {
    if (this.#waiting.length === 0 && this.#free()) {
      this.#running++
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#waiting.push(() => { this.#running++; resolve() }))
  }

  #release (): void {
    this.#running--
    this.#admit()
  }

  #admit (): void {
    while (this.#waiting.length > 0 && this.#free()) (this.#waiting.shift() as () => void)()
  }

  /** Resolves when nothing is running or waiting, or after timeoutMs. */
  drain (timeoutMs: number): Promise<boolean> {
    if (this.#inflight === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs)
      t.unref()
      this.#idle.push(() => { clearTimeout(t); resolve(true) })
    })
  }
}
