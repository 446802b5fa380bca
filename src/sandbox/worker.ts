// Entry point of a sandbox worker thread. It keeps warm instances per function version and
// runs loads and invocations strictly in arrival order, one at a time. Before each call it
// writes the call's deadline into shared memory, so the main thread's watchdog can end this
// whole thread when work never reaches the interrupt handler.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { ErrorCodes, errorMessage } from '../errors.js'
import { FunctionInstance, prepare } from './instance.js'
import { warmUp } from './warm-up.js'
import { memoryPagesFor } from './budget.js'
import { WasmFactory } from './wasm-factory.js'
import { WATCH_DEADLINE, WATCH_ITEM } from './protocol.js'
import { ResultBatch } from './result-batch.js'
import { QuietWork } from './worker-quiet.js'
import { checkEnvelope, failureEnvelope, plainResult } from './output-check.js'
import type { FromWorker, RawOutcome, ToWorker, WorkerInit } from './protocol.js'
import { INVOKE_NUMS, expandStates } from './invoke-batch.js'
import type { PackedInvokes } from './invoke-batch.js'
import type { FunctionSpec } from './types.js'

const init = workerData as WorkerInit
const port = parentPort as NonNullable<typeof parentPort>
const watch = new Float64Array(init.watch)
const factory = new WasmFactory(init.binary, init.spares, prepare, warmUp)

/** A function version loaded in this thread, under the number its host gave it. */
interface Loaded {
  spec: FunctionSpec
  staticMeta: string
  idle: FunctionInstance[]
  /**
   * The envelope that carried the newest state this thread has seen. The state's JSON is cut
   * out of it only when an instance that lacks it must be handed it (after a rebuild, or with
   * several instances), not on every call.
   */
  latest?: { envelope: string, version: number, json?: string }
}
const fns = new Map<number, Loaded>()
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
/** The loads' check instances waiting for first calls, and the GC after deploys. */
const quiet = new QuietWork<Loaded, FunctionInstance>(() => pumping || ops.length > 0)
const now = Date.now
const FLUSH_MS = 2

function post (msg: FromWorker): void {
  port.postMessage(msg)
}

/**
 * Moves the messages already waiting on the port into `ops` without a turn of the event loop:
 * while calls keep coming, the next batch is taken up as soon as this one ends (no idle gap,
 * no wake-up), and its results go out with this one's at the next flush.
 */
function pull (): void {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) ops.push(m.message as ToWorker)
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
    const pages = memoryPagesFor(spec.limits.memoryKiB)
    capsUsed.add(pages)
    wasm = (await factory.take(pages)).instance
    watch[WATCH_ITEM] = watchId
    watch[WATCH_DEADLINE] = now() + spec.limits.timeoutMs
  } catch (err) {
    // V8 reserves ~10 GiB of address space per wasm memory unless the trap handler is off;
    // on a 39-bit ARM kernel that runs out after a few dozen functions (docs/architecture.md, "Sandbox").
    return { failure: { code: ErrorCodes.SANDBOX_CRASHED, message: `could not create a wasm memory for ${spec.name} (${errorMessage(err)}): the process is out of address space; run Node with --disable-wasm-trap-handler (lambkin does on ARM; elsewhere set LAMBKIN_WASM_TRAP_HANDLER=off)` } }
  }
  return FunctionInstance.create(spec, wasm, now, staticMeta)
}

async function load (id: number, fnId: number, spec: FunctionSpec): Promise<void> {
  const staticMeta = staticMetaOf(spec)
  const before = fns.get(fnId)
  const fn: Loaded = { spec, staticMeta, idle: before?.idle ?? [], latest: before?.latest }
  fns.set(fnId, fn)
  // One instance is always built, so a compile error or a throwing module is reported by the
  // load; it is kept warm when `provisioned` asks for warm ones. Otherwise it waits in `quiet`
  // for the function's first message and is dropped by the thread's next load or quiet moment
  // if none came (worker-quiet.ts): an idle function then holds no wasm memory nor QuickJS heap
  // (docs/performance.md, "Memory"), and a first message after that pays a cold start.
  const want = spec.provisioned
  const carried = before === undefined ? undefined : quiet.take(before)
  if (carried !== undefined) {
    if (fn.idle.length < want) fn.idle.push(carried)
    else quiet.keep(fn, carried)
  }
  let checked = fn.idle.length > 0 || carried !== undefined
  while (!checked || fn.idle.length < want) {
    const { instance, failure } = await build(spec, staticMeta, -id)
    watch[WATCH_DEADLINE] = 0
    if (failure !== undefined || instance === undefined) {
      unload(fnId)
      const f = failure ?? { code: ErrorCodes.SANDBOX_CRASHED, message: 'no instance was built' }
      post({ t: 'loaded', id, failure: { code: f.code, message: f.message, stack: f.stack } })
      return
    }
    checked = true
    if (fn.idle.length < want) fn.idle.push(instance)
    else quiet.keep(fn, instance)
  }
  post({ t: 'loaded', id })
}

function unload (fnId: number): void {
  const fn = fns.get(fnId)
  fns.delete(fnId)
  for (const inst of fn?.idle ?? []) inst.dispose()
  if (fn !== undefined) quiet.take(fn)?.dispose()
}

const results = new ResultBatch()
/**
 * When the last call that ran ended (performance.now()), or -1: pump() takes it as the next
 * call's start instead of reading the clock again.
 */
let endedAt = -1
const { STRIDE, FN, STATE_VERSION, TIMEOUT_MS, INSTRUCTIONS } = INVOKE_NUMS

function notLoaded (id: number): void {
  results.add(id, undefined, false, { code: ErrorCodes.FUNCTION_NOT_FOUND, message: 'the function was unloaded from its sandbox before this call ran' }, 0, 0, 0, 0, false)
}

/**
 * Runs call `i` of a batch on a warm instance and adds its result; false, with nothing done,
 * when the function has no warm instance (see invokeCold). Synchronous, so the common call
 * costs no promise and no turn of the microtask queue.
 */
function invokeWarm (op: PackedInvokes, i: number, t0: number): boolean {
  const o = i * STRIDE
  const fn = fns.get(op.nums[o + FN])
  if (fn === undefined) {
    notLoaded(op.nums[o])
    return true
  }
  const instance = fn.idle.pop() ?? quiet.take(fn)
  if (instance === undefined) return false
  invokeOn(instance, fn, op, i, t0, false)
  return true
}

/** A call whose function has no warm instance: one is built first (a cold start). */
async function invokeCold (op: PackedInvokes, i: number): Promise<void> {
  const o = i * STRIDE
  const id = op.nums[o]
  const t0 = performance.now()
  const fn = fns.get(op.nums[o + FN])
  if (fn === undefined) return notLoaded(id)
  const built = await build(fn.spec, fn.staticMeta, id)
  if (built.failure !== undefined || built.instance === undefined) {
    watch[WATCH_DEADLINE] = 0
    const f = built.failure ?? { code: ErrorCodes.SANDBOX_CRASHED, message: 'no instance was built' }
    results.add(id, undefined, false, f, 0, 0, 0, performance.now() - t0, true)
    return
  }
  invokeOn(built.instance, fn, op, i, t0, true)
}

function invokeOn (instance: FunctionInstance, fn: Loaded, op: PackedInvokes, i: number, t0: number, coldStart: boolean): void {
  const o = i * STRIDE
  const id = op.nums[o]
  const timeoutMs = op.nums[o + TIMEOUT_MS]
  const deadline = now() + timeoutMs
  watch[WATCH_ITEM] = id
  watch[WATCH_DEADLINE] = deadline
  // The newest state this thread has seen for the function beats an older copy from the host
  // (a call queued behind one whose instance was discarded must not go back in time). An
  // instance holding that version itself needs nothing: it prefers its own over an older one.
  const held = fn.latest
  let state = op.states?.[i] ?? undefined
  let stateVersion = op.nums[o + STATE_VERSION]
  if (held !== undefined && stateVersion >= 0 && held.version > stateVersion && held.version > instance.heldVersion) {
    held.json ??= stateJsonOf(held.envelope)
    state = held.json
    stateVersion = held.version
  }
  const raw = instance.invoke(op.events[i], op.invocationIds[i], op.traceIds?.[i], state, stateVersion, deadline, timeoutMs, op.nums[o + INSTRUCTIONS])
  // What the sandbox returned is checked before anything of it is kept or sent on; an instance
  // whose output failed is discarded, since the state it holds may be the one refused.
  let envelope = raw.envelope
  const plain = envelope === undefined ? undefined : plainResult(envelope, init.caps)
  if (envelope !== undefined && plain === undefined) {
    const bad = checkEnvelope(envelope, init.caps, fn.spec.publish)
    if (bad !== undefined) {
      envelope = failureEnvelope(bad)
      instance.poisoned = true
    }
  }
  const produced = plain === undefined ? stateVersionOf(envelope) : -1
  if (produced >= 0) {
    instance.heldVersion = produced
    if (produced > (held?.version ?? -1)) {
      const env = envelope as string
      // A big envelope (a large result beside the state) is not kept whole: the state is cut out now.
      fn.latest = env.length <= KEEP_ENVELOPE_CHARS
        ? { envelope: env, version: produced }
        : { envelope: '', version: produced, json: stateJsonOf(env) }
    }
  }
  watch[WATCH_DEADLINE] = 0
  const end = endedAt = performance.now()
  results.add(id, plain ?? envelope, plain !== undefined, raw.failure, raw.polls, raw.memoryBytes, instance.maxBytes, end - t0, coldStart)
  if (instance.poisoned || fns.get(op.nums[o + FN]) !== fn) instance.dispose()
  else fn.idle.push(instance)
}

/**
 * Results held from which a batch's results go back before FLUSH_MS once they reach the calls
 * still in hand (see halfDone). Below it, a flush's wake-ups cost more than the overlap wins.
 */
const OVERLAP_MIN = 64

/**
 * Whether `held` results reach the calls this thread has in hand after call `next - 1` of
 * `op` (the rest of `op` and the batches queued behind it; counted only as far as `held`).
 * Then they go back at once: the main thread turns them into outcomes and new calls while this
 * thread runs the other half, instead of the two taking turns (with 256 calls in flight a
 * trivial batch ends before FLUSH_MS, and the thread sat idle while the main thread answered
 * the whole batch).
 */
function halfDone (held: number, op: PackedInvokes, next: number): boolean {
  let n = op.events.length - next
  for (let k = 0; k < ops.length && n <= held; k++) {
    const q = ops[k]
    if (q.t === 'inv') n += q.events.length
  }
  return n <= held
}

async function pump (): Promise<void> {
  if (pumping) return
  pumping = true
  let flushedAt = performance.now()
  const flush = (at: number): void => { flushedAt = at; if (results.length > 0) post({ t: 'res', ...results.take() }) }
  try {
    while (ops.length > 0) {
      const op = ops.shift() as ToWorker
      if (op.t === 'inv') {
        // A long batch sends its results every FLUSH_MS while it runs, so the main thread
        // builds outcomes (and sends the next calls) alongside this thread. Not more often:
        // each message costs both threads a wake-up, ~30 us of CPU in all, which on a busy
        // machine outweighs the overlap (chunks of 16 cost 13.5 us CPU a trivial call, 11.6 us
        // with this).
        expandStates(op)
        let t = performance.now()
        for (let i = 0; i < op.events.length; i++) {
          endedAt = -1
          if (!invokeWarm(op, i, t)) await invokeCold(op, i)
          t = endedAt >= 0 ? endedAt : performance.now()
          if (t - flushedAt >= FLUSH_MS || (results.length >= OVERLAP_MIN && halfDone(results.length, op, i + 1))) {
            flush(t)
            pull()
          }
        }
        if (ops.length === 0) pull()
        if (ops.length === 0 || ops[0].t !== 'inv') flush(t)
      } else {
        if (op.t === 'load') await load(op.id, op.fn, op.spec)
        else unload(op.fn)
        quiet.changed()
        keepCapsInUse()
      }
    }
  } finally {
    flush(performance.now())
    pumping = false
  }
  scheduleRefill()
  quiet.settle()
}

/**
 * Spares are made only once the thread has been quiet for SPARE_DELAY_MS: a load is most
 * often followed at once by its first call, which would otherwise wait behind a spare's
 * instantiation started in between (the cold start's p90 was that wait).
 */
const SPARE_DELAY_MS = 5
let refillTimer: NodeJS.Timeout | undefined
/**
 * The memory caps (in pages) spares are kept for: those of the functions loaded here, or the
 * default one while none is. A cap no loaded function has kept its spares before: with every
 * function at 16 MiB, the default 32 MiB cap's 2 spares held 0.54 MiB of wasm memory and
 * 0.12 MiB of V8 heap for nothing. The first load of a function with a new cap instantiates
 * its check instance itself (a few ms of the deploy); its first message still finds a spare.
 */
const capsUsed = new Set<number>([init.defaultPages])

function keepCapsInUse (): void {
  capsUsed.clear()
  for (const fn of fns.values()) capsUsed.add(memoryPagesFor(fn.spec.limits.memoryKiB))
  if (capsUsed.size === 0) capsUsed.add(init.defaultPages)
  factory.keepOnly(capsUsed)
}

/**
 * Whether some cap has fewer spares than the target. Most batches take none (warm calls), and
 * a refill with nothing to do still cost a timer and a wake-up of this thread SPARE_DELAY_MS
 * after each batch: at a trigger's pace, one more wake-up a message (about 60 us of CPU on a
 * loaded 2-core VM; docs/performance.md, "The sandbox per call"). A spare left unprepared by
 * a refill cut short counts as there: its first user prepares it (instance.ts).
 */
function sparesShort (): boolean {
  for (const pages of capsUsed) if (factory.spares(pages) < init.spares) return true
  return false
}

function scheduleRefill (): void {
  if (refillTimer === undefined && !sparesShort()) return
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
