// Entry point of a sandbox worker thread. It keeps warm instances per function version and
// runs loads and invocations strictly in arrival order, one at a time. Before each call it
// writes the call's deadline into shared memory, so the main thread's watchdog can end this
// whole thread when work never reaches the interrupt handler.
import { parentPort, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { ErrorCodes } from '../errors.js'
import { FunctionInstance, prepare } from './instance.js'
import { memoryPagesFor } from './budget.js'
import { WasmFactory } from './wasm-factory.js'
import { WATCH_DEADLINE, WATCH_ITEM } from './protocol.js'
import { ResultBatch } from './result-batch.js'
import { invokeAt } from './invoke-batch.js'
import { checkEnvelope, failureEnvelope } from './output-check.js'
import type { FromWorker, InvokeItem, RawOutcome, ToWorker, WorkerInit } from './protocol.js'
import type { FunctionSpec } from './types.js'

const init = workerData as WorkerInit
const port = parentPort as NonNullable<typeof parentPort>
const watch = new Float64Array(init.watch)
const factory = new WasmFactory(init.binary, init.spares, prepare)
const specs = new Map<string, { spec: FunctionSpec, staticMeta: string }>()
const idle = new Map<string, FunctionInstance[]>()
/**
 * Per function, the envelope that carried the newest state this thread has seen. The state's
 * JSON is cut out of it only when an instance that lacks it must be handed it (after a
 * rebuild, or with several instances), not on every call.
 */
const latestState = new Map<string, { envelope: string, version: number, json?: string }>()
const STATE_LEAD = '{"ok":true,"sv":'
const KEEP_ENVELOPE_CHARS = 16 * 1024

/** The new state's JSON inside an envelope that carries one. */
function stateJsonOf (envelope: string): string {
  return JSON.stringify((JSON.parse(envelope) as { s?: unknown }).s)
}

/** The state version an envelope leads with, or -1 when the call left the state unchanged. */
function stateVersionOf (envelope: string | undefined): number {
  if (envelope === undefined || !envelope.startsWith(STATE_LEAD)) return -1
  return Number.parseInt(envelope.slice(STATE_LEAD.length, envelope.indexOf(',', STATE_LEAD.length)), 10)
}
const ops: ToWorker[] = []
let pumping = false
const now = Date.now
const FLUSH_MS = 2

function post (msg: FromWorker): void {
  port.postMessage(msg)
}

function staticMetaOf (spec: FunctionSpec): string {
  // The part of ctx that never changes between calls, handed to each instance once.
  return JSON.stringify({ fn: spec.name, version: spec.version, deviceId: init.deviceId, env: spec.env, perms: spec.publish, caps: init.caps })
}

/**
 * A new instance of `spec`. The watchdog (watch slot `watchId`: a call's id, or minus a
 * load's) is armed only once the wasm instance is in hand: instantiating it is the host's
 * work, which on a busy board can take longer than a function's whole timeoutMs, while the
 * module's own top-level code is what the timeout is for. The caller disarms it.
 */
async function build (spec: FunctionSpec, staticMeta: string, watchId: number): Promise<{ instance?: FunctionInstance, failure?: RawOutcome['failure'] }> {
  let wasm
  try {
    wasm = (await factory.take(memoryPagesFor(spec.limits.memoryKiB))).instance
    watch[WATCH_ITEM] = watchId
    watch[WATCH_DEADLINE] = now() + spec.limits.timeoutMs
  } catch (err) {
    // V8 reserves ~10 GiB of address space per wasm memory unless the trap handler is off;
    // on a 39-bit ARM kernel that runs out after a few dozen functions (docs/architecture.md, "Sandbox").
    return { failure: { code: ErrorCodes.SANDBOX_CRASHED, message: `could not create a wasm memory for ${spec.name} (${(err as Error).message}): the process is out of address space; run Node with --disable-wasm-trap-handler (lambkin does on ARM; elsewhere set LAMBKIN_WASM_TRAP_HANDLER=off)` } }
  }
  return FunctionInstance.create(spec, wasm, now, staticMeta)
}

async function load (id: number, key: string, spec: FunctionSpec): Promise<void> {
  const staticMeta = staticMetaOf(spec)
  specs.set(key, { spec, staticMeta })
  const warm = idle.get(key) ?? []
  idle.set(key, warm)
  const want = Math.max(1, spec.provisioned)
  while (warm.length < want) {
    const { instance, failure } = await build(spec, staticMeta, -id)
    watch[WATCH_DEADLINE] = 0
    if (failure !== undefined || instance === undefined) {
      specs.delete(key)
      for (const w of warm) w.dispose()
      idle.delete(key)
      const f = failure ?? { code: ErrorCodes.SANDBOX_CRASHED, message: 'no instance was built' }
      post({ t: 'loaded', id, failure: { code: f.code, message: f.message, stack: f.stack } })
      return
    }
    warm.push(instance)
  }
  post({ t: 'loaded', id })
}

function unload (key: string): void {
  specs.delete(key)
  latestState.delete(key)
  for (const inst of idle.get(key) ?? []) inst.dispose()
  idle.delete(key)
}

async function invoke (item: InvokeItem): Promise<RawOutcome> {
  const entry = specs.get(item.key)
  if (entry === undefined) {
    return { id: item.id, failure: { code: 'LAMBKIN_FUNCTION_NOT_FOUND', message: `function ${item.key} is not loaded in this sandbox` }, polls: 0, memoryBytes: 0, memoryLimitBytes: 0, durationMs: 0, coldStart: false }
  }
  const warm = idle.get(item.key) as FunctionInstance[]
  let instance = warm.pop()
  let coldStart = false
  const t0 = performance.now()
  if (instance === undefined) {
    coldStart = true
    const built = await build(entry.spec, entry.staticMeta, item.id)
    if (built.failure !== undefined || built.instance === undefined) {
      watch[WATCH_DEADLINE] = 0
      return { id: item.id, failure: built.failure ?? { code: ErrorCodes.SANDBOX_CRASHED, message: 'no instance was built' }, polls: 0, memoryBytes: 0, memoryLimitBytes: 0, durationMs: performance.now() - t0, coldStart }
    }
    instance = built.instance
  }
  watch[WATCH_ITEM] = item.id
  watch[WATCH_DEADLINE] = now() + item.timeoutMs
  // The newest state this thread has seen for the function beats an older copy from the host
  // (a call queued behind one whose instance was discarded must not go back in time). An
  // instance holding that version itself needs nothing: it prefers its own over an older one.
  const held = latestState.get(item.key)
  let call = item
  if (held !== undefined && item.stateVersion >= 0 && held.version > item.stateVersion && held.version > instance.heldVersion) {
    held.json ??= stateJsonOf(held.envelope)
    call = { ...item, state: held.json, stateVersion: held.version }
  }
  const raw = instance.invoke(call, now, item.timeoutMs, item.instructions)
  // What the sandbox returned is checked before anything of it is kept or sent on; an instance
  // whose output failed is discarded, since the state it holds may be the one refused.
  if (raw.envelope !== undefined) {
    const bad = checkEnvelope(raw.envelope, init.caps, entry.spec.publish)
    if (bad !== undefined) {
      raw.envelope = failureEnvelope(bad)
      instance.poisoned = true
    }
  }
  const produced = stateVersionOf(raw.envelope)
  if (produced >= 0) {
    instance.heldVersion = produced
    if (produced > (held?.version ?? -1)) {
      const envelope = raw.envelope as string
      // A big envelope (a large result beside the state) is not kept whole: the state is cut out now.
      latestState.set(item.key, envelope.length <= KEEP_ENVELOPE_CHARS
        ? { envelope, version: produced }
        : { envelope: '', version: produced, json: stateJsonOf(envelope) })
    }
  }
  watch[WATCH_DEADLINE] = 0
  const out: RawOutcome = {
    id: item.id,
    envelope: raw.envelope,
    failure: raw.failure,
    polls: raw.polls,
    memoryBytes: raw.memoryBytes,
    memoryLimitBytes: instance.maxBytes,
    durationMs: performance.now() - t0,
    coldStart
  }
  if (instance.poisoned || !specs.has(item.key)) instance.dispose()
  else warm.push(instance)
  return out
}

async function pump (): Promise<void> {
  if (pumping) return
  pumping = true
  const results = new ResultBatch()
  let flushedAt = performance.now()
  const flush = (): void => { flushedAt = performance.now(); if (results.length > 0) post({ t: 'res', ...results.take() }) }
  try {
    while (ops.length > 0) {
      const op = ops.shift() as ToWorker
      if (op.t === 'inv') {
        // A long batch sends its results every FLUSH_MS while it runs, so the main thread
        // builds outcomes (and sends the next calls) alongside this thread. Not more often:
        // each message costs both threads a wake-up, ~30 us of CPU in all, which on a busy
        // machine outweighs the overlap (chunks of 16 cost 13.5 us CPU a trivial call, 11.6 us
        // with this).
        for (let i = 0; i < op.events.length; i++) {
          results.push(await invoke(invokeAt(op, i)))
          if (performance.now() - flushedAt >= FLUSH_MS) flush()
        }
        if (ops.length === 0 || ops[0].t !== 'inv') flush()
      } else if (op.t === 'load') {
        await load(op.id, op.key, op.spec)
      } else {
        unload(op.key)
      }
    }
  } finally {
    flush()
    pumping = false
  }
  scheduleRefill()
}

/**
 * Spares are made only once the thread has been quiet for SPARE_DELAY_MS: a load is most
 * often followed at once by its first call, which would otherwise wait behind a spare's
 * instantiation started in between (the cold start's p90 was that wait).
 */
const SPARE_DELAY_MS = 5
let refillTimer: NodeJS.Timeout | undefined
function scheduleRefill (): void {
  if (refillTimer !== undefined) clearTimeout(refillTimer)
  refillTimer = setTimeout(() => {
    refillTimer = undefined
    void factory.refill(() => !pumping && ops.length === 0)
  }, SPARE_DELAY_MS)
}

port.on('message', (msg: ToWorker) => {
  ops.push(msg)
  void pump()
})

void factory.prime(init.defaultPages).then(() => post({ t: 'ready' }))
