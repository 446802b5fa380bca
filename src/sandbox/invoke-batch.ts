// Packs a run of InvokeItems into one message, as result-batch.ts does for the answers:
// numbers in one Float64Array and each string field in its own array, because structured
// clone writes every property name of every object it copies. The worker reads the columns in
// place. A trace id equal to the invocation id (the default) travels as undefined.
import type { InvokeItem } from './protocol.js'

/** Where each item's numbers sit in `nums`: STRIDE per item, then the offset of each. */
export const INVOKE_NUMS = Object.freeze({ STRIDE: 5, ID: 0, FN: 1, STATE_VERSION: 2, TIMEOUT_MS: 3, INSTRUCTIONS: 4 })
const { STRIDE, ID, FN, STATE_VERSION, TIMEOUT_MS, INSTRUCTIONS } = INVOKE_NUMS

export interface PackedInvokes {
  /** Per item (see INVOKE_NUMS): call id, function number (as in the load message), state version, timeoutMs, instructions. */
  nums: Float64Array
  events: string[]
  invocationIds: string[]
  traceIds: Array<string | undefined>
  states: Array<string | undefined>
}

/** `fnIds`: the number each function key was loaded under in the worker (-1: not loaded). */
export function packInvokes (items: readonly InvokeItem[], fnIds: ReadonlyMap<string, number>): PackedInvokes {
  const n = items.length
  const nums = new Float64Array(n * STRIDE)
  const events = new Array<string>(n)
  const invocationIds = new Array<string>(n)
  const traceIds = new Array<string | undefined>(n)
  const states = new Array<string | undefined>(n)
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
    traceIds[i] = it.traceId === it.invocationId ? undefined : it.traceId
    states[i] = it.state
  }
  return { nums, events, invocationIds, traceIds, states }
}
