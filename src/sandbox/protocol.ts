// Messages between the pool (main thread) and a sandbox worker. Invocations travel in
// batches because one postMessage per call would cost more than QuickJS itself
// (docs/architecture.md, "Sandbox").
import type { FunctionSpec, IoCaps } from './types.js'
import type { QuickJSBinary } from './quickjs-binary.js'
import type { RawFailure } from './classify.js'
import type { PackedResults } from './result-batch.js'
import type { PackedInvokes } from './invoke-batch.js'

export interface WorkerInit {
  /** The compiled QuickJS build, shared by every thread (see quickjs-binary.ts). */
  binary: QuickJSBinary
  /** Float64Array view: [0] deadline (epoch ms) of the running call or 0, [1] its item id. */
  watch: SharedArrayBuffer
  spares: number
  caps: IoCaps
  deviceId: string
  defaultPages: number
}

export interface InvokeItem {
  id: number
  key: string
  event: string
  invocationId: string
  traceId: string
  /** ctx.state as JSON, parsed inside the sandbox only if the handler reads it. */
  state: string | undefined
  /** The version of `state`; an instance holding a newer version of its own uses that. */
  stateVersion: number
  timeoutMs: number
  instructions: number
}

/** A call as a worker host holds it until its outcome: the item, and how often its thread died under it. */
export interface HostCall extends InvokeItem {
  crashes: number
}

export type ToWorker =
  /** `fn`: the number the host gave this function version; calls name their function by it. */
  | { t: 'load', id: number, fn: number, spec: FunctionSpec }
  | { t: 'unload', fn: number }
  | ({ t: 'inv' } & PackedInvokes)

export interface RawOutcome {
  id: number
  /** The prelude's envelope, checked; or, when `plain`, only its result's JSON ('' for none). */
  envelope?: string
  plain?: boolean
  failure?: RawFailure
  polls: number
  memoryBytes: number
  memoryLimitBytes: number
  durationMs: number
  coldStart: boolean
}

export type FromWorker =
  | { t: 'loaded', id: number, failure?: RawFailure }
  | ({ t: 'res' } & PackedResults)
  | { t: 'ready' }

export const WATCH_DEADLINE = 0
export const WATCH_ITEM = 1
