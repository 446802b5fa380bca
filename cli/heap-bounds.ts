// The heap bounds the agent sets on itself under Node's defaults (LAMBKIN_MEMORY=node), without
// Node flags or a re-run: V8 flags changed with v8.setFlagsFromString once the heap exists.
// Measured on Node 20 (V8 11.3), docs/performance.md "Where the bytes are":
// - `--max-semi-space-size` given that way is ignored (the heap reads it once, when it is made);
// - `--heap-growing-percent` and `--semi-space-growth-factor` are read at every GC, so they work;
// - every new isolate (each worker thread) sets `--semi-space-growth-factor` back to 2 when
//   its heap is made, so the cap below is asserted again after every GC of the main thread and
//   when a worker thread is online.
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import type { Worker } from 'node:worker_threads'
import { memoryProfile } from '../device/config/memory-profile.js'

/**
 * The main thread's young generation stops growing once its two semi-spaces reach this many
 * bytes (8 MiB each; V8's own limit on a large host is 16 MiB each, and it stays there).
 */
export const YOUNG_GENERATION_CAP_BYTES = 16 * 1024 * 1024

/**
 * `--heap-growing-percent`: the old generation may grow by this much past what survived the
 * last full GC before the next one (V8 otherwise allows up to 100%). A growth factor, not a cap.
 */
export const HEAP_GROWING_PERCENT = 50

/** The V8 flags these bounds stand for: one the user gave Node (execArgv, NODE_OPTIONS) turns them off. */
const OWN_FLAGS = ['--max-semi-space-size', '--semi-space-growth-factor', '--heap-growing-percent']

export interface HeapBoundsInput {
  /** process.arch */
  arch: string
  /** The environment (LAMBKIN_MEMORY, NODE_OPTIONS). */
  env: Readonly<Record<string, string | undefined>>
  /** process.execArgv */
  execArgv: readonly string[]
}

/**
 * Whether to bound the heap: only under the "node" memory profile (the small one gives its
 * flags on Node's command line, cli/node-runtime.ts), and only when the user set none of
 * the V8 flags above. An unknown LAMBKIN_MEMORY is bin.ts's error to report: false here.
 */
export function wantsHeapBounds (input: HeapBoundsInput): boolean {
  if (memoryProfile(input.env, input.arch) !== 'node') return false
  const given = [...input.execArgv, ...(input.env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) => f.split('=')[0].replace(/_/g, '-'))
  return !OWN_FLAGS.some((f) => given.includes(f))
}

/**
 * Sets the bounds on the calling thread's isolate (call it on the main thread, early, before
 * the heap has grown) and keeps the young generation's cap asserted after each GC. Returns a
 * function that stops watching (and lets the young generation grow again).
 */
export function startHeapBounds (youngCapBytes = YOUNG_GENERATION_CAP_BYTES, growingPercent = HEAP_GROWING_PERCENT): () => void {
  setFlagsFromString(`--heap-growing-percent=${growingPercent}`)
  const assertCap = (): void => {
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
    if (young === undefined) return
    // Growth doubles the capacity: below the cap it may, at the cap it must not.
    setFlagsFromString(`--semi-space-growth-factor=${young.space_size < youngCapBytes ? 2 : 1}`)
  }
  const observer = new PerformanceObserver(assertCap)
  observer.observe({ entryTypes: ['gc'] })
  // A worker thread's heap is made before it runs: asserted again when it is online, before
  // the main thread's next GC could grow the young generation (the sandbox threads start at
  // boot and again after a function took one down).
  const onWorker = (worker: Worker): void => { worker.once('online', assertCap) }
  process.on('worker', onWorker)
  return () => {
    process.off('worker', onWorker)
    observer.disconnect()
    setFlagsFromString('--semi-space-growth-factor=2')
  }
}
