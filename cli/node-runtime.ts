// Which Node/V8 flags and allocator settings the `lambkin` executable re-runs Node with, decided
// before anything heavy is loaded (bin.ts). Pure, so the rules are tested without a board.
import { memoryProfile } from '../device/config/memory-profile.js'

/** The wasm address-space flag: V8 otherwise reserves ~10 GiB per wasm memory (docs/architecture.md, "Sandbox"). */
export const TRAP_HANDLER_FLAG = '--disable-wasm-trap-handler'

/**
 * The small-RAM profile (`LAMBKIN_MEMORY=small`, the default on ARM), priced with bench/cost
 * on the agent with 50 functions (docs/performance.md, "Memory"):
 * - `--max-semi-space-size=1`: V8's young generation otherwise grows to 16 MiB per semi-space
 *   on a large host and stays there (up to 14 MiB of the idle main heap); 2 took 4-6 MiB off.
 *   1 once promoted so much under load that the peak rose; since the embedded broker works on
 *   64 publishes at once (`broker.maxTaken`), it takes the main heap's peak from 21.8 to 19.2
 *   MiB committed and RSS 3 MiB lower, with twice the scavenges at no more scavenge time (593
 *   against 660 ms over 25,000 messages: each is smaller) and the same CPU per message.
 * - `--v8-pool-size=1`: fewer V8 helper threads, each of which takes a malloc arena.
 * - `--heap-growing-percent=10`: V8 lets each heap grow by up to 100% past what survived the
 *   last full GC before the next; under a saturating load the heaps (main thread and sandbox
 *   thread) grew by about 90 MiB. 10% keeps the peak at idle + about 45 MiB (184 -> 129 MiB
 *   with 50 functions receiving). A growth factor, not a cap: a heap that needs more still gets
 *   it (unlike `--max-old-space-size`, which ends the process when reached). Not allowed in
 *   NODE_OPTIONS, so it is given on the command line only.
 * - `--incremental-marking-soft-trigger=45`: V8 starts marking the old generation (incremental
 *   and concurrent) once it holds 45% of its limit, instead of near the limit. V8 lets the main
 *   heap grow at least 8 MiB past what survived before collecting, whatever the growth factor;
 *   starting early, the collection ends sooner: the main heap peaked 3-4 MiB lower under a
 *   saturating load with 50 functions (old space 16.7-17.0 MiB against 20.0-20.5), with about
 *   twice the full collections (18 against 10) and no more CPU per message told from the host's
 *   noise. Not allowed in NODE_OPTIONS.
 * - `--no-sparkplug`: no baseline (Sparkplug) code beside the bytecode and TurboFan's; under a
 *   saturating QoS 1 load the agent used no more CPU per message without it (3 interleaved pairs), and
 *   held 1-2 MiB less, idle and at the peak (the main and sandbox threads' heaps).
 * Not `--optimize-for-size` (peak 5 MiB lower, 17% more CPU per message), `--lite-mode` (turns
 * WebAssembly off) nor `--single-threaded-gc` (no gain measured, longer pauses).
 */
export const SMALL_RAM_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=1', '--v8-pool-size=1', '--heap-growing-percent=10', '--incremental-marking-soft-trigger=45', '--no-sparkplug'])

/**
 * glibc's malloc settings, read at process start (docs/performance.md, "The small-RAM profile"):
 * - `MALLOC_ARENA_MAX=2`: an arena per thread by default (up to 8 per core), each keeping what it freed;
 * - `MALLOC_MMAP_THRESHOLD_=32768`: blocks of 32 KiB or more get their own mapping, returned
 *   when freed. glibc otherwise raises that threshold to the largest block freed so far (up to
 *   32 MiB) and its trim threshold to twice that. The agent's start allocates and frees about
 *   35 MiB in blocks of 32 to 64 KiB (glibc's own count of mapped bytes: 40 MiB at most with
 *   32768, 5.6 with 65536; V8's compiler zones grow in segments of up to 32 KiB), and the
 *   long-lived blocks allocated among them kept the freed pages below the heap's top resident:
 *   malloc 8-15.7 MiB idle, 6 of it in use, with 131072; 5.8-6.3 with 32768, at the same CPU
 *   per message under load.
 */
export const SMALL_RAM_ENV: Readonly<Record<string, string>> = Object.freeze({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' })

export interface RuntimeInput {
  /** process.arch */
  arch: string
  /** The environment (LAMBKIN_WASM_TRAP_HANDLER, LAMBKIN_MEMORY, MALLOC_ARENA_MAX, NODE_OPTIONS). */
  env: Readonly<Record<string, string | undefined>>
  /** process.execArgv: flags the user already gave Node win over the profile's. */
  execArgv: readonly string[]
}

export interface RuntimePlan {
  /** Flags to add in front of the script when re-running Node; empty: no re-run needed. */
  flags: string[]
  /** Environment variables to set in the re-run process. */
  env: Record<string, string>
}

/** Thrown for a LAMBKIN_MEMORY or LAMBKIN_WASM_TRAP_HANDLER value that is not one of its choices. */
export class RuntimeSettingError extends Error {
  readonly code = 'LAMBKIN_CONFIG_INVALID'
}

/** A flag's name for "given already": `_` read as `-`, and `--no-x` as `--x` (either is the user's choice). */
const flagName = (f: string): string => f.split('=')[0].replace(/_/g, '-').replace(/^--no-/, '--')

/**
 * Decides the re-run. `LAMBKIN_MEMORY`: "small" (SMALL_RAM_FLAGS and SMALL_RAM_ENV; the default
 * on arm and arm64) or "node" (Node's own defaults; the default elsewhere). A flag the user
 * already passed to Node (in execArgv or NODE_OPTIONS, by name) and a MALLOC_ARENA_MAX already
 * in the environment are kept as given. Throws RuntimeSettingError for an unknown value.
 */
export function planRuntime (input: RuntimeInput): RuntimePlan {
  const board = input.arch === 'arm64' || input.arch === 'arm'
  const trap = input.env.LAMBKIN_WASM_TRAP_HANDLER
  if (trap !== undefined && trap !== '' && trap !== 'on' && trap !== 'off') throw new RuntimeSettingError(`LAMBKIN_WASM_TRAP_HANDLER must be "on" or "off", got ${JSON.stringify(trap)}`)
  const profile = memoryProfile(input.env, input.arch)
  if (profile === undefined) throw new RuntimeSettingError(`LAMBKIN_MEMORY must be "small" (the default on ARM) or "node" (Node's defaults), got ${JSON.stringify(input.env.LAMBKIN_MEMORY)}`)
  const wanted = [
    ...((trap === 'off' || ((trap === undefined || trap === '') && board)) ? [TRAP_HANDLER_FLAG] : []),
    ...(profile === 'small' ? SMALL_RAM_FLAGS : [])
  ]
  const given = new Set([...input.execArgv, ...(input.env.NODE_OPTIONS ?? '').split(/\s+/)].filter((f) => f.startsWith('--')).map(flagName))
  const flags = wanted.filter((f) => !given.has(flagName(f)))
  const env: Record<string, string> = {}
  if (profile === 'small') for (const [k, v] of Object.entries(SMALL_RAM_ENV)) if (input.env[k] === undefined) env[k] = v
  // An env var alone needs a re-run too: glibc reads MALLOC_ARENA_MAX only at process start.
  return flags.length === 0 && Object.keys(env).length === 0 ? { flags: [], env: {} } : { flags, env }
}
