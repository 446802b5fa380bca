// Packs a run of InvokeItems into one message, as result-batch.ts does for the answers:
// numbers in one Float64Array and each string field in its own array, because structured
// clone writes every property name of every object it copies. The worker reads the columns in
// place. A trace id equal to the invocation id (the default) travels as undefined, a column
// with nothing in it (no trace ids, no states) as undefined, and a state that is the very string
// the item before carried (the invoker hands every call the same JSON until the state changes)
// as null: structured clone would otherwise copy it once per call.
import type { InvokeItem } from './protocol.js'

/** Where each item's numbers sit in `nums`: STRIDE per item, then the offset of each. */
export const INVOKE_NUMS = Object.freeze({ STRIDE: 5, ID: 0, FN: 1, STATE_VERSION: 2, TIMEOUT_MS: 3, INSTRUCTIONS: 4 })
const { STRIDE, ID, FN, STATE_VERSION, TIMEOUT_MS, INSTRUCTIONS } = INVOKE_NUMS

export interface PackedInvokes {
  /** Per item (see INVOKE_NUMS): call id, function number (as in the load message), state version, timeoutMs, instructions. */
  nums: Float64Array
  events: string[]
  invocationIds: string[]
  /** Undefined when no item has a trace id of its own. */
  traceIds: Array<string | undefined> | undefined
  /** Undefined when no item has a state; null: the same state as the item before (see expandStates). */
  states: Array<string | null | undefined> | undefined
}

/** `fnIds`: the number each function key was loaded under in the worker (-1: not loaded). */
export function packInvokes (items: readonly InvokeItem[], fnIds: ReadonlyMap<string, number>): PackedInvokes {
  const n = items.length
  const nums = new Float64Array(n * STRIDE)
  const events = new Array<string>(n)
  const invocationIds = new Array<string>(n)
  const traceIds = new Array<string | undefined>(n)
  const states = new Array<string | null | undefined>(n)
  let traced = false
  let stated = false
  for (let i = 0; i < n; i++) {
    const it = items[i]
    const o = i * STRIDE
    nums[o + ID] = it.id
    nums[o + FN] = fnIds.get(it.key) ?? -1
    nums[o + STATE_VERSION] = it.stateVersion
    nums[o + TIMEOUT_MS] = it.timeoutMs
    nums[o + INSTRUCTIONS] = it.instructions
    events[i] = it.event
    invocationIds[i] = it.invocationId
    if (it.traceId !== it.invocationId) {
      traceIds[i] = it.traceId
      traced = true
    }
    if (it.state !== undefined) {
      states[i] = i > 0 && it.state === items[i - 1].state ? null : it.state
      stated = true
    }
  }
  return { nums, events, invocationIds, traceIds: traced ? traceIds : undefined, states: stated ? states : undefined }
}

/** Puts back, in place, each state packInvokes sent as null (the same as the item before's). */
export function expandStates (p: PackedInvokes): Array<string | undefined> | undefined {
  const states = p.states
  if (states === undefined) return undefined
  for (let i = 0; i < states.length; i++) if (states[i] === null) states[i] = states[i - 1]
  return states as Array<string | undefined>
}
