// One run() of the invoker (invoker.ts) between its slot and its answer, and the record and
// outcome of an invocation that never ran.
import type { Hop } from '../links/hops.js'
import type { MetaWrite } from '../store/index.js'
import { randomUUID } from 'node:crypto'
import type { Outcome, OutcomeError } from '../../src/sandbox/index.js'
import { rejectedOutcome } from '../../src/sandbox/outcome.js'
import type { Registered } from './aliases.js'
import type { ChainItem } from './state-chain.js'
import type { InvocationRecord } from './types.js'

/** The record of an invocation that never reached its function (not loaded, or throttled). */
export function notRan (fn: string, source: string, code: string, message: string): InvocationRecord {
  return { fn, source, ok: false, code, message, durationMs: 0, invocationId: '', attempts: 0 }
}

/** The outcome of an event refused before it reached function `fn` at `version` (Invoker.refuse()): a dead letter with `error`. */
export function refusedOutcome (fn: string, version: string, error: OutcomeError): Outcome {
  const id = `refused-${randomUUID()}`
  return rejectedOutcome({ name: fn, version }, { invocationId: id, traceId: id }, error)
}

/** One run() between its slot and its answer: what each step needs, and the caller's promise. */
export class Call implements ChainItem {
  tries = 0
  /** The state epoch of its latest attempt (state-chain.ts); a refusal never ran, so none is stale. */
  epoch = Number.POSITIVE_INFINITY
  /** Set with `outcome` when it goes to be committed: it carries a new ctx.state. */
  changesState = false
  /** The outcome to commit, with its tries in all and the hop its publishes carry [W9]. */
  outcome: Outcome | undefined
  attempts = 0
  nextHop = 1
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
    readonly refusal = false,
    /** RunOptions.committed. */
    readonly committed?: () => void
  ) {
    this.traceId = hop?.traceId
  }
}
