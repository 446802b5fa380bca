// Budget arithmetic shared by the worker and the pool: how instructions are counted, how a
// memory budget becomes a wasm memory cap, and the stack ceiling measured to be safe.
import { LIMIT_DEFAULTS } from '../function/limits.js'

/**
 * QuickJS calls the interrupt handler once its internal counter (JS_INTERRUPT_COUNTER_INIT,
 * 10,000) runs down; the counter drops on every backward branch and every function call.
 * So one poll stands for about 10,000 such steps, and the instruction budget is enforced
 * with that granularity: a budget of N allows ceil(N / 10,000) polls. A plain `for` loop
 * costs about 2 steps per iteration (calibrated in test/src/sandbox/budget.test.ts).
 */
export const INSTRUCTIONS_PER_POLL = 10_000

/** The manifest's default memoryKiB: spare instances are primed for this cap. */
export const DEFAULT_MEMORY_KIB = LIMIT_DEFAULTS.memoryKiB

export const WASM_PAGE_BYTES = 65_536
/** The smallest wasm memory cap (16 MiB): the size the QuickJS build was made for. */
export const MIN_MEMORY_PAGES = 256

/**
 * QuickJS's stack check estimates C stack use. Measured in a sandbox worker (4 MiB native
 * stack): plain recursion reaches about 5.3 frames per KiB (64 KiB: 338, 512 KiB: 2,727);
 * at 2 MiB some paths (deep recursion, JSON.parse of deep nesting) overflow V8's native
 * stack first, which still ends as LAMBKIN_STACK_LIMIT but costs a rebuild of the instance.
 * Calibrated in test/src/sandbox/budget.test.ts. Larger requests are clamped here.
 */
export const MAX_SAFE_STACK_KIB = 1024

export function pollsFor (instructions: number): number {
  return Math.max(1, Math.ceil(instructions / INSTRUCTIONS_PER_POLL))
}

export function memoryPagesFor (memoryKiB: number): number {
  return Math.max(MIN_MEMORY_PAGES, Math.ceil((memoryKiB * 1024) / WASM_PAGE_BYTES))
}

export function stackBytesFor (stackKiB: number): number {
  return Math.min(stackKiB, MAX_SAFE_STACK_KIB) * 1024
}
