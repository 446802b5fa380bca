// The sandbox pool: loads function versions into worker threads and routes invocations to
// them, with a per-function concurrency (parallel sandboxes), a bounded queue that answers
// LAMBKIN_THROTTLED when full, and quarantine of functions that keep faulting.
import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { ErrorCodes, errorMessage, LambkinError } from '../errors.js'
import { givenNodeFlags } from '../node-flags.js'
import { DEFAULT_MEMORY_KIB, INSTRUCTIONS_PER_POLL, memoryPagesFor } from './budget.js'
import { resolvePoolOptions } from './options.js'
import type { PoolOptions } from './options.js'
import { buildOutcome, rejectedOutcome } from './outcome.js'
import type { HostCall, RawOutcome } from './protocol.js'
import { Quarantine, isFault } from './quarantine.js'
import { compileQuickJS } from './wasm-factory.js'
import { WorkerHost } from './worker-host.js'
import type { FunctionSpec, InvokeOptions, Outcome } from './types.js'

interface Loaded {
  key: string
  spec: FunctionSpec
  slots: Array<WorkerHost<PendingCall>>
  slotInflight: number[]
  queue: PendingCall[]
  inflight: number
  /**
   * Calls sent ahead into a slot's worker at most, growing by one per good outcome up to
   * inflightPerSlot and back to 1 on a fault: a hot healthy function soon pipelines fully,
   * while a flood of calls to one that hangs cannot fill its thread ahead of its neighbours.
   */
  window: number
  quarantine: Quarantine
  stats: { invocations: number, coldStarts: number, throttles: number, rebuilds: number }
  /**
   * The newest ctx.state an outcome handed over, with its version (its JSON made only when a
   * call re-sent after a thread's death needs it): the new thread knows no state, and the
   * calls re-sent to it may carry older copies than one their neighbours already returned.
   */
  latest?: { version: number, value: unknown, json?: string }
}

/** The last 3 hex digits of an invocation id, by value. */
const ID_LOW: readonly string[] = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'))

/** The send-ahead window of a function that has not shown yet that its calls end. */
const FIRST_WINDOW = 4

/**
 * One accepted call from invoke() to its outcome: what its worker is sent, and where the
 * outcome goes. One object per call, from the pool's queue to the worker host's table.
 */
class PendingCall implements HostCall {
  crashes = 0
  /** Index of the slot (fn.slots) it was sent to. */
  slot = -1
  constructor (
    readonly id: number,
    readonly key: string,
    readonly event: string,
    readonly invocationId: string,
    readonly traceId: string,
    /** Replaced by a newer copy when the call is re-sent after its thread died (#onResend). */
    public state: string | undefined,
    public stateVersion: number,
    readonly timeoutMs: number,
    readonly instructions: number,
    readonly fn: Loaded,
    readonly resolve: (o: Outcome) => void
  ) {}
}

function quarantinedOutcome (fn: Loaded, call: { invocationId: string, traceId: string }, leftMs: number): Outcome {
  return rejectedOutcome(fn.spec, call, { code: ErrorCodes.QUARANTINED, message: `function ${fn.spec.name} keeps faulting and is paused for another ${leftMs} ms`, details: { retryAfterMs: leftMs } })
}

/**
 * The semi-space size (MiB) of the sandbox threads' V8 heaps when Node was started with a larger
 * `--max-semi-space-size` (the small-RAM profile gives 1 since the main thread does as well with
 * it, cli/node-runtime.ts; a user who gives 2 or more still gets 1 here). V8 applies that
 * flag to every isolate, over a worker's `resourceLimits`; a sandbox thread's V8 heap holds only
 * the glue (functions run in wasm memory), so 1 MiB semi-spaces do: its young generation peaks at
 * 2 MiB instead of 4 under a saturating load (docs/performance.md, "The small-RAM profile").
 */
export const SANDBOX_SEMI_SPACE_MIB = 1

/**
 * The `--max-semi-space-size` Node was started with (the last one given on its command line or in
 * NODE_OPTIONS; `_` and `-` alike), or undefined.
 */
export function givenSemiSpaceMiB (execArgv: readonly string[], nodeOptions = ''): number | undefined {
  let given: number | undefined
  for (const [name, value] of givenNodeFlags(execArgv, nodeOptions)) {
    if (name === '--max-semi-space-size' && value !== undefined && /^\d+$/.test(value)) given = Number(value)
  }
  return given
}

/**
 * Lowers `--max-semi-space-size` to SANDBOX_SEMI_SPACE_MIB for the isolates made from now on (the
 * sandbox threads) when Node was given more. V8 reads the flag once per isolate, when its heap is
 * made, so the main thread keeps what it was started with.
 */
export function boundSandboxYoungGeneration (execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS): boolean {
  const given = givenSemiSpaceMiB(execArgv, nodeOptions)
  if (given === undefined || given <= SANDBOX_SEMI_SPACE_MIB) return false
  setFlagsFromString(`--max-semi-space-size=${SANDBOX_SEMI_SPACE_MIB}`)
  return true
}

export function functionKey (spec: { name: string, version: string }): string {
  return `${spec.name}@${spec.version}`
}

export class SandboxPool {
  readonly #opts: PoolOptions
  readonly #hosts: Array<WorkerHost<PendingCall>>
  readonly #fns = new Map<string, Loaded>()
  #nextId = 1
  // Invocation ids: a random UUID drawn once per pool with its last 12 hex digits replaced by
  // a call counter. Unique across restarts (74 random bits per pool) and UUID-shaped, at a
  // string concatenation per call instead of a randomUUID() each: the first 9 counter digits
  // change every 4096 calls, the last 3 come from a table.
  readonly #idPrefix = randomUUID().slice(0, 24)
  #idHigh = ''
  #idCounter = 0
  #nextHost = 0
  #pendingTotal = 0
  #drained: Array<() => void> = []
  #closed = false

  private constructor (opts: PoolOptions, hosts: Array<WorkerHost<PendingCall>>) {
    this.#opts = opts
    this.#hosts = hosts
  }

  static async create (options: Partial<PoolOptions> = {}): Promise<SandboxPool> {
    const opts = resolvePoolOptions(options)
    const binary = compileQuickJS()
    boundSandboxYoungGeneration()
    const hosts: Array<WorkerHost<PendingCall>> = []
    const pool = new SandboxPool(opts, hosts)
    for (let i = 0; i < opts.workers; i++) {
      hosts.push(new WorkerHost<PendingCall>({
        binary,
        spares: opts.spares,
        caps: opts.caps,
        deviceId: opts.deviceId,
        defaultPages: memoryPagesFor(DEFAULT_MEMORY_KIB),
        graceMs: opts.graceMs,
        watchdogIntervalMs: opts.watchdogIntervalMs,
        heapMiB: opts.workerHeapMiB,
        onRebuild: (_reason, culprit) => pool.#onRebuild(culprit),
        onResend: (call) => pool.#onResend(call),
        onResult: (call, raw) => pool.#onResult(call, raw)
      }))
    }
    await Promise.all(hosts.map((h) => h.start()))
    return pool
  }

  get options (): Readonly<PoolOptions> { return this.#opts }

  /** Loads (compiles and initialises) a function version; throws its compile error. */
  async load (spec: FunctionSpec): Promise<string> {
    if (this.#closed) throw new LambkinError(ErrorCodes.CLOSED, 'the sandbox pool is closed')
    const key = functionKey(spec)
    if (this.#fns.has(key)) return key
    const n = Math.max(1, spec.limits.concurrency)
    const slots: Array<WorkerHost<PendingCall>> = []
    for (let i = 0; i < n; i++) slots.push(this.#hosts[(this.#nextHost + i) % this.#hosts.length])
    this.#nextHost = (this.#nextHost + 1) % this.#hosts.length
    const distinct = [...new Set(slots)]
    const failures = await Promise.all(distinct.map((h) => h.load(key, spec)))
    const failure = failures.find((f) => f !== undefined)
    if (failure !== undefined) {
      for (const h of distinct) h.unload(key)
      throw new LambkinError(failure.code as never, `function ${spec.name} failed to load: ${failure.message}`, { details: { function: spec.name, stack: failure.stack } })
    }
    this.#fns.set(key, {
      key,
      spec,
      slots,
      slotInflight: slots.map(() => 0),
      queue: [],
      inflight: 0,
      window: FIRST_WINDOW,
      quarantine: new Quarantine(this.#opts.quarantineAfter, this.#opts.quarantineBaseMs, this.#opts.quarantineMaxMs),
      stats: { invocations: 0, coldStarts: 0, throttles: 0, rebuilds: 0 }
    })
    return key
  }

  unload (key: string): void {
    const fn = this.#fns.get(key)
    if (fn === undefined) return
    this.#fns.delete(key)
    for (const h of new Set(fn.slots)) h.unload(key)
  }

  has (key: string): boolean { return this.#fns.has(key) }

  /** Runs one invocation. Resolves with an Outcome on every path; never rejects. */
  invoke (key: string, event: unknown, opts?: InvokeOptions): Promise<Outcome> {
    const invocationId = opts?.invocationId ?? this.#newId()
    const traceId = opts?.traceId ?? invocationId
    const fn = this.#fns.get(key)
    if (fn === undefined || this.#closed) {
      const [name, version] = key.split('@')
      const code = this.#closed ? ErrorCodes.CLOSED : ErrorCodes.FUNCTION_NOT_FOUND
      return Promise.resolve(rejectedOutcome({ name, version: version ?? '' }, { invocationId, traceId }, { code, message: this.#closed ? 'the sandbox pool is closed' : `function ${key} is not loaded` }))
    }
    const left = fn.quarantine.remaining(this.#opts.now)
    if (left > 0) return Promise.resolve(quarantinedOutcome(fn, { invocationId, traceId }, left))
    if (fn.queue.length + fn.inflight >= this.#opts.queueDepth) {
      fn.stats.throttles++
      return Promise.resolve(rejectedOutcome(fn.spec, { invocationId, traceId }, { code: ErrorCodes.THROTTLED, message: `function ${fn.spec.name} already has ${this.#opts.queueDepth} calls waiting or running; try again later or raise its concurrency`, details: { queueDepth: this.#opts.queueDepth } }))
    }
    let eventJson: string
    try {
      eventJson = JSON.stringify(event === undefined ? null : event)
    } catch (err) {
      // Nested deeper than V8's stack allows, circular, or holding a BigInt: no sandbox could
      // be given it, whichever trigger built it.
      const why = err instanceof RangeError ? 'is nested too deeply to serialize' : `cannot be serialized as JSON (${errorMessage(err)})`
      return Promise.resolve(rejectedOutcome(fn.spec, { invocationId, traceId }, { code: ErrorCodes.INPUT_LIMIT, message: `the event ${why}`, details: { limit: 'eventDepth' } }))
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so most events need no byte count.
    if (eventJson.length * 3 > this.#opts.caps.eventBytes && Buffer.byteLength(eventJson) > this.#opts.caps.eventBytes) {
      return Promise.resolve(rejectedOutcome(fn.spec, { invocationId, traceId }, { code: ErrorCodes.INPUT_LIMIT, message: `the event is ${Buffer.byteLength(eventJson)} bytes, over the ${this.#opts.caps.eventBytes} byte cap`, details: { limit: 'eventBytes' } }))
    }
    const state = opts?.stateJson ?? (opts?.state === undefined ? undefined : JSON.stringify(opts.state))
    const { limits } = fn.spec
    this.#pendingTotal++
    return new Promise((resolve) => {
      fn.queue.push(new PendingCall(this.#nextId++, key, eventJson, invocationId, traceId, state, opts?.stateVersion ?? -1,
        opts?.timeoutMs ?? limits.timeoutMs, opts?.instructions ?? limits.instructions, fn, resolve))
      this.#dispatch(fn)
    })
  }

  #newId (): string {
    const n = this.#idCounter++
    const low = n % ID_LOW.length
    if (low === 0 || this.#idHigh === '') this.#idHigh = this.#idPrefix + Math.floor(n / ID_LOW.length).toString(16).padStart(9, '0')
    return this.#idHigh + ID_LOW[low]
  }

  #dispatch (fn: Loaded): void {
    const left = fn.queue.length > 0 ? fn.quarantine.remaining(this.#opts.now) : 0
    if (left > 0) {
      // Quarantined while these waited: they are turned away now rather than run one by one.
      for (const call of fn.queue.splice(0)) {
        call.resolve(quarantinedOutcome(fn, call, left))
        this.#settled()
      }
      return
    }
    const limit = Math.min(this.#opts.inflightPerSlot, fn.window)
    while (fn.queue.length > 0) {
      let slot = 0
      for (let i = 1; i < fn.slots.length; i++) if (fn.slotInflight[i] < fn.slotInflight[slot]) slot = i
      if (fn.slotInflight[slot] >= limit) return
      const call = fn.queue.shift() as PendingCall
      call.slot = slot
      fn.slotInflight[slot]++
      fn.inflight++
      fn.slots[slot].invoke(call)
    }
  }

  /** A call's raw outcome from its worker host, exactly once per call. */
  #onResult (call: PendingCall, raw: RawOutcome): void {
    const fn = call.fn
    fn.slotInflight[call.slot]--
    fn.inflight--
    const outcome = buildOutcome(raw, fn.spec, call, INSTRUCTIONS_PER_POLL)
    if (outcome.ok && outcome.stateVersion !== undefined && outcome.stateVersion > (fn.latest?.version ?? -1)) {
      fn.latest = { version: outcome.stateVersion, value: outcome.state }
    }
    fn.stats.invocations++
    if (outcome.coldStart) fn.stats.coldStarts++
    const code = outcome.ok ? undefined : outcome.error.code
    fn.quarantine.record(code, this.#opts.now)
    fn.window = code !== undefined && isFault(code) ? 1 : Math.min(this.#opts.inflightPerSlot, fn.window + 1)
    call.resolve(outcome)
    this.#settled()
    this.#dispatch(fn)
  }

  /** One accepted call has its outcome; drain() waiters go once none is left. */
  #settled (): void {
    if (--this.#pendingTotal === 0) for (const done of this.#drained.splice(0)) done()
  }

  #onRebuild (culprit: PendingCall | undefined): void {
    if (culprit === undefined) return
    const fn = this.#fns.get(culprit.key)
    if (fn !== undefined) fn.stats.rebuilds++
  }

  /**
   * A call sent again after its thread died: one that asked for versioned state goes on from
   * the newest state handed over, as it would have on the old thread (calls run in order per
   * slot, and an outcome handed over may already be committed by the caller).
   */
  #onResend (call: PendingCall): void {
    const latest = call.fn.latest
    if (latest === undefined || call.stateVersion < 0 || latest.version <= call.stateVersion) return
    latest.json ??= JSON.stringify(latest.value ?? {})
    call.state = latest.json
    call.stateVersion = latest.version
  }

  stats (key: string): (Loaded['stats'] & { queued: number, inflight: number, quarantinedMs: number }) | undefined {
    const fn = this.#fns.get(key)
    if (fn === undefined) return undefined
    return { ...fn.stats, queued: fn.queue.length, inflight: fn.inflight, quarantinedMs: fn.quarantine.remaining(this.#opts.now) }
  }

  /** Thread rebuilds so far, all causes. */
  get rebuilds (): number {
    return this.#hosts.reduce((n, h) => n + h.rebuilds, 0)
  }

  /** Resolves once every accepted call has an outcome. */
  drain (): Promise<void> {
    if (this.#pendingTotal === 0) return Promise.resolve()
    return new Promise((resolve) => this.#drained.push(resolve))
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const fn of this.#fns.values()) {
      for (const call of fn.queue.splice(0)) {
        call.resolve(rejectedOutcome(fn.spec, call, { code: ErrorCodes.CLOSED, message: 'the sandbox pool was closed before this call ran' }))
        this.#pendingTotal--
      }
    }
    await Promise.all(this.#hosts.map((h) => h.close()))
    for (const done of this.#drained.splice(0)) done()
  }
}
