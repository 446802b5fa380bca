// The heap bound the agent sets on itself under Node's defaults (LAMBKIN_MEMORY=node), without
// Node flags or a re-run: a V8 flag changed with v8.setFlagsFromString once the heap exists.
// Measured on Node 20 (V8 11.3), docs/performance.md "Under Node's defaults":
// `--heap-growing-percent` is read at every GC, so it works set that way (`--max-semi-space-size`
// is not: the heap reads it once, when it is made). A young-generation cap kept through
// `--semi-space-growth-factor` took 20-25 MiB more off the relay job's peak but cost about 20%
// more CPU per message when saturated, and is not used.
import { setFlagsFromString } from 'node:v8'
import { memoryProfile } from '../device/config/memory-profile.js'
import { givenNodeFlags } from '../src/node-flags.js'

/**
 * `--heap-growing-percent`: the old generation may grow by this much past what survived the
 * last full GC before the next one (V8 otherwise allows up to 100%). A growth factor, not a cap.
 */
export const HEAP_GROWING_PERCENT = 50

/** The V8 flags a user tuning the heap would give Node (execArgv, NODE_OPTIONS): any of them turns the bound off. */
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
 * Whether to bound the heap's growth: only under the "node" memory profile (the small one gives its
 * flags on Node's command line, cli/node-runtime.ts), and only when the user set none of
 * the V8 flags above. An unknown LAMBKIN_MEMORY is bin.ts's error to report: false here.
 */
export function wantsHeapBounds (input: HeapBoundsInput): boolean {
  if (memoryProfile(input.env, input.arch) !== 'node') return false
  const given = givenNodeFlags(input.execArgv, input.env.NODE_OPTIONS).map(([name]) => name)
  return !OWN_FLAGS.some((f) => given.includes(f))
}

/**
 * Sets the bound on the process's isolates (call it on the main thread, early, before the heap
 * has grown; V8 flags are process-wide, so the sandbox threads' heaps follow it too).
 */
export function startHeapBounds (growingPercent = HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${growingPercent}`)
}
