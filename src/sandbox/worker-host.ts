// The main thread's handle on one sandbox worker: batches invocations into it, keeps the
// watchdog that ends the thread when a call outlives its timeout plus a grace period, and
// rebuilds it (reloading its functions, re-sending calls that had not started) after any death.
import { Worker } from 'node:worker_threads'
import { ErrorCodes } from '../errors.js'
import { WATCH_DEADLINE, WATCH_ITEM } from './protocol.js'
import { unpackResults } from './result-batch.js'
import { packInvokes } from './invoke-batch.js'
import type { FromWorker, HostCall, RawOutcome, ToWorker, WorkerInit } from './protocol.js'
import type { RawFailure } from './classify.js'
import type { FunctionSpec, IoCaps } from './types.js'
import type { QuickJSBinary } from './quickjs-binary.js'

export interface WorkerHostOptions<C extends HostCall> {
  binary: QuickJSBinary
  spares: number
  caps: IoCaps
  deviceId: string
  defaultPages: number
  graceMs: number
  watchdogIntervalMs: number
  /** V8 heap cap of the worker itself (not of the wasm memories). */
  heapMiB: number
  /** Called once per rebuild with the reason and the culprit call, if one was running. */
  onRebuild: (reason: string, culprit: C | undefined) => void
  /** Called for each call sent again to the rebuilt thread, in order, before it is queued (it may update the call). */
  onResend?: (call: C) => void
  /**
   * Gets each call's raw outcome exactly once, on every path (one function for all calls,
   * not a promise or a closure per call: this runs for every call). `r` may be reused for the
   * next call once this returns: read it, do not keep it.
   */
  onResult: (call: C, r: RawOutcome) => void
}

const WORKER_URL = new URL('./worker.js', import.meta.url)

/** A raw outcome for a call that never got one from its thread. */
function failed (id: number, failure: RawFailure): RawOutcome {
  return { id, failure, polls: 0, memoryBytes: 0, memoryLimitBytes: 0, durationMs: 0, coldStart: false }
}

export class WorkerHost<C extends HostCall = HostCall> {
  readonly #opts: WorkerHostOptions<C>
  readonly #specs = new Map<string, FunctionSpec>()
  /** The number each loaded function key has in the worker (calls carry it instead of the key). */
  readonly #fnIds = new Map<string, number>()
  #nextFn = 1
  readonly #pending = new Map<number, C>()
  readonly #loads = new Map<number, { key: string, done: (f: RawFailure | undefined) => void }>()
  #worker!: Worker
  #watch!: Float64Array
  #outbox: C[] = []
  #flushQueued = false
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #killedByWatchdog = false
  #nextLoad = 1
  #ready!: Promise<void>
  /** Whether the current thread said 'ready'; one that exits before is a start that failed. */
  #up = false
  /** Why the current thread failed, from its 'error' event (a worker file missing or cut short). */
  #startError: string | undefined
  /** Set when a thread failed to start: the next load or call starts one, not a loop of restarts. */
  #down = false
  rebuilds = 0

  constructor (opts: WorkerHostOptions<C>) {
    this.#opts = opts
  }

  get inflight (): number { return this.#pending.size }

  start (): Promise<void> {
    const watch = new SharedArrayBuffer(16)
    this.#watch = new Float64Array(watch)
    const { binary, spares, caps, deviceId, defaultPages } = this.#opts
    const init: WorkerInit = { binary, watch, spares, caps, deviceId, defaultPages }
    this.#up = false
    this.#startError = undefined
    const worker = this.#worker = new Worker(WORKER_URL, {
      workerData: init,
      resourceLimits: { maxOldGenerationSizeMb: this.#opts.heapMiB, stackSizeMb: 4 }
    })
    this.#ready = new Promise((resolve) => {
      const onReady = (m: FromWorker): void => {
        if (m.t !== 'ready') return
        worker.off('message', onReady)
        this.#up = true
        if (this.#timer === undefined && !this.#closed) worker.unref()
        resolve()
      }
      worker.on('message', onReady)
      worker.once('exit', () => resolve())
    })
    worker.on('message', (m: FromWorker) => this.#onMessage(m))
    // 'error' precedes 'exit' for an uncaught throw or a heap overrun in the worker.
    worker.on('error', (err) => { if (!this.#up) this.#startError = err.message })
    worker.once('exit', (code) => this.#onExit(worker, code))
    return this.#ready
  }

  load (key: string, spec: FunctionSpec): Promise<RawFailure | undefined> {
    this.#specs.set(key, spec)
    const fn = this.#fnIds.get(key) ?? this.#nextFn++
    this.#fnIds.set(key, fn)
    const id = this.#nextLoad++
    return new Promise((resolve) => {
      this.#loads.set(id, {
        key,
        done: (failure) => {
          if (failure !== undefined && this.#specs.delete(key)) this.#fnIds.delete(key)
          resolve(failure)
        }
      })
      this.#post({ t: 'load', id, fn, spec })
      this.#arm()
    })
  }

  unload (key: string): void {
    const fn = this.#fnIds.get(key)
    this.#specs.delete(key)
    this.#fnIds.delete(key)
    if (fn !== undefined) this.#post({ t: 'unload', fn })
  }

  /** Sends one call; its outcome goes to `onResult`. */
  invoke (call: C): void {
    this.#pending.set(call.id, call)
    this.#queue(call)
  }

  /**
   * Outcomes made while the thread is being rebuilt or closed reach the pool only once that
   * is done: the pool may send new calls from them.
   */
  #later (call: C, r: RawOutcome): void {
    queueMicrotask(() => this.#opts.onResult(call, r))
  }

  #queue (call: C): void {
    this.#outbox.push(call)
    if (!this.#flushQueued) {
      this.#flushQueued = true
      setImmediate(() => this.#flush())
    }
    this.#arm()
  }

  #flush (): void {
    this.#flushQueued = false
    if (this.#outbox.length === 0) return
    const items = this.#outbox
    this.#outbox = []
    this.#post({ t: 'inv', ...packInvokes(items, this.#fnIds) })
  }

  #post (msg: ToWorker): void {
    if (this.#closed) return
    if (this.#down) {
      // A new thread, with every function it should have (those a load waits for come with it).
      this.#down = false
      void this.start()
      const waiting = new Set([...this.#loads.values()].map((l) => l.key))
      for (const [key, spec] of this.#specs) {
        if (!waiting.has(key)) this.#worker.postMessage({ t: 'load', id: this.#nextLoad++, fn: this.#fnIds.get(key) as number, spec } satisfies ToWorker)
      }
    }
    this.#worker.postMessage(msg)
  }

  #onMessage (m: FromWorker): void {
    if (m.t === 'res') {
      unpackResults(m, (r) => {
        const call = this.#pending.get(r.id)
        if (call === undefined) return
        this.#pending.delete(r.id)
        this.#opts.onResult(call, r)
      })
    } else if (m.t === 'loaded') {
      const load = this.#loads.get(m.id)
      this.#loads.delete(m.id)
      load?.done(m.failure)
    }
    if (this.#pending.size === 0 && this.#loads.size === 0) this.#disarm()
  }

  // The thread holds the process open only while it owes an answer, so an idle pool never
  // keeps a CLI or a test run alive.
  #arm (): void {
    if (this.#timer !== undefined) return
    this.#worker.ref()
    this.#timer = setInterval(() => this.#check(), this.#opts.watchdogIntervalMs)
    this.#timer.unref()
  }

  #disarm (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#worker.unref()
  }

  #check (): void {
    const deadline = this.#watch[WATCH_DEADLINE]
    // Once is enough: terminate() adds an 'exit' listener each call, and the thread may take
    // a few ticks to go.
    if (deadline !== 0 && !this.#killedByWatchdog && Date.now() > deadline + this.#opts.graceMs) {
      this.#killedByWatchdog = true
      void this.#worker.terminate()
    }
  }

  #onExit (worker: Worker, code: number): void {
    if (worker !== this.#worker) return
    this.#disarm()
    if (this.#closed) return
    if (!this.#up) {
      this.#startFailed(code)
      return
    }
    const running = this.#watch[WATCH_DEADLINE] !== 0 ? this.#watch[WATCH_ITEM] : undefined
    const reason = this.#killedByWatchdog ? 'watchdog' : `exit ${code}`
    this.#killedByWatchdog = false
    // A negative id in the watch slot is a load (module top-level code) that never ended.
    const culpritLoad = running !== undefined && running < 0 ? this.#loads.get(-running) : undefined
    if (culpritLoad !== undefined) {
      this.#loads.delete(-running!)
      culpritLoad.done(reason === 'watchdog'
        ? { code: ErrorCodes.TIMEOUT, message: 'the module\'s top-level code did not finish within timeoutMs and its sandbox thread was ended by the watchdog' }
        : { code: ErrorCodes.SANDBOX_CRASHED, message: `the sandbox thread died (${reason}) while loading this function; it was rebuilt` })
    }
    const culprit = running === undefined ? undefined : this.#pending.get(running)
    this.rebuilds++
    this.#opts.onRebuild(reason, culprit)
    if (culprit !== undefined) {
      this.#pending.delete(culprit.id)
      const failure: RawFailure = reason === 'watchdog'
        ? { code: ErrorCodes.TIMEOUT, message: `the function did not stop at its timeoutMs of ${culprit.timeoutMs} ms and its sandbox thread was ended by the watchdog`, details: { watchdog: true } }
        : { code: ErrorCodes.SANDBOX_CRASHED, message: `the sandbox thread died (${reason}) while this function ran; it was rebuilt` }
      this.#later(culprit, failed(culprit.id, failure))
    }
    // Loads in flight die with the thread: every known spec is loaded again, keeping the
    // ids of those a caller still waits for.
    void this.start()
    const waiting = new Map([...this.#loads].map(([id, l]) => [l.key, id]))
    for (const [key, spec] of this.#specs) {
      this.#post({ t: 'load', id: waiting.get(key) ?? this.#nextLoad++, fn: this.#fnIds.get(key) as number, spec })
    }
    // Calls that had not started are innocent: send them again, but not forever.
    // Every call still pending is queued again here, so the outbox is rebuilt from them.
    this.#outbox = []
    for (const call of [...this.#pending.values()]) {
      call.crashes++
      if (call.crashes > 2) {
        this.#pending.delete(call.id)
        this.#later(call, failed(call.id, { code: ErrorCodes.SANDBOX_CRASHED, message: 'the sandbox thread kept dying while this call waited; giving up' }))
      } else {
        this.#opts.onResend?.(call)
        this.#queue(call)
      }
    }
  }

  /**
   * A thread that exited before 'ready' (its module did not load: dist/bundle/worker.js
   * missing or cut short, no memory for its heap) ran nothing: every load and call waiting on
   * it fails with SANDBOX_CRASHED instead of waiting for ever, and the next load or call tries
   * a new thread. Restarting here would spin, a thread a few milliseconds, for as long as the
   * cause stays.
   */
  #startFailed (code: number): void {
    const reason = `the sandbox thread could not start (${this.#startError ?? `exit ${code}`})`
    this.rebuilds++
    this.#opts.onRebuild(reason, undefined)
    this.#down = true
    this.#outbox = []
    for (const call of this.#pending.values()) this.#later(call, failed(call.id, { code: ErrorCodes.SANDBOX_CRASHED, message: reason }))
    this.#pending.clear()
    const loads = [...this.#loads.values()]
    this.#loads.clear()
    for (const load of loads) load.done({ code: ErrorCodes.SANDBOX_CRASHED, message: reason })
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#disarm()
    for (const call of this.#pending.values()) {
      this.#later(call, failed(call.id, { code: ErrorCodes.CLOSED, message: 'the sandbox pool was closed before this call ran' }))
    }
    this.#pending.clear()
    for (const load of this.#loads.values()) load.done({ code: ErrorCodes.CLOSED, message: 'the sandbox pool was closed' })
    this.#loads.clear()
    // The thread holds the process open until it has gone, and one still starting (rebuilt
    // after a crash) is let say 'ready' first: terminate() of a thread not yet running never
    // emitted 'exit' in about 1 run in 25 of invoker-batch (Node 20), and the process, with
    // nothing else to do, ended there, so the caller's next steps (the agent closing its
    // store) never ran. #ready also settles when the thread exits instead.
    this.#worker.ref()
    if (!this.#up) await this.#ready
    await this.#worker.terminate()
  }
}
