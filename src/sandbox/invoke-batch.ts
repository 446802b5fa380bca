// Packs a run of InvokeItems into one message, as result-batch.ts does for the answers:
// numbers in one Float64Array and each string field in its own array, because structured
// clone writes every property name of every object it copies. The worker reads the columns in
// place. A trace id equal to the invocation id (the default) travels as undefined.
import type { InvokeItem } from './protocol.js'

/** Numbers per item in `nums`, in this order: id, stateVersion, timeoutMs, instructions. */
export const INVOKE_STRIDE = 4
const STRIDE = INVOKE_STRIDE

export interface PackedInvokes {
  nums: Float64Array
  keys: string[]
  events: string[]
  invocationIds: string[]
  traceIds: Array<string | undefined>
  states: Array<string | undefined>
}

export function packInvokes (items: readonly InvokeItem[]): PackedInvokes {
  const n = items.length
  const nums = new Float64Array(n * STRIDE)
  const keys = new Array<string>(n)
  const events = new Array<string>(n)
  const invocationIds = new Array<string>(n)
  const traceIds = new Array<string | undefined>(n)
  const states = new Array<string | undefined>(n)
  for (let i = 0; i < n; i++) {
    const it = items[i]
    const o = i * STRIDE
    nums[o] = it.id
    nums[o + 1] = it.stateVersion
    nums[o + 2] = it.timeoutMs
    nums[o + 3] = it.instructions
    keys[i] = it.key
    events[i] = it.event
    invocationIds[i] = it.invocationId
    traceIds[i] = it.traceId === it.invocationId ? undefined : it.traceId
    states[i] = it.state
  }
  return { nums, keys, events, invocationIds, traceIds, states }
}
