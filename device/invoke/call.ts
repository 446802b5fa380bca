// One run() of the invoker (invoker.ts) between its slot and its answer, and the record of an
// invocation that never ran.
import type { Hop } from '../links/hops.js'
import type { MetaWrite } from '../store/index.js'
import type { Registered } from './aliases.js'
import type { InvocationRecord } from './types.js'

/** The record of an invocation that never reached its function (not loaded, or throttled). */
export function notRan (fn: string, source: string, code: string, message: string): InvocationRecord {
  return { fn, source, ok: false, code, message, durationMs: 0, invocationId: '', attempts: 0 }
}

/** One run() between its slot and its answer: what each step needs, and the caller's promise. */
export class Call {
  tries = 0
  /** The state epoch of its latest attempt (state-chain.ts); a refusal never ran, so none is stale. */
  epoch = Number.POSITIVE_INFINITY
  traceId: string | undefined
  // Set by the promise's executor before anything can settle the call.
  resolve!: (rec: InvocationRecord) => void
  reject!: (err: unknown) => void
  constructor (
    readonly fn: string,
    readonly reg: Registered,
    readonly event: Record<string, unknown>,
    readonly source: string,
    readonly meta: (() => MetaWrite[]) | undefined,
    readonly hop: Hop | undefined,
    /** A refuse(): no slot, no sandbox key, only a commit. */
    readonly refusal = false
  ) {
    this.traceId = hop?.traceId
  }
}
