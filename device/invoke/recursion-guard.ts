// Wire rule W9's stop: a message that arrives at the end of a chain of functions triggering
// each other (hop >= invocation.maxHops) runs nothing. It becomes a dead letter with
// LAMBKIN_RECURSION_LIMIT, is counted, and is logged once per trace, as AWS Lambda's
// recursive loop detection stops a loop after about 16 invocations and reports it once.
import { ErrorCodes } from '../../src/errors.js'
import { deadLetterEvent } from './dead-letter.js'
import type { Hop } from '../links/hops.js'
import type { InvocationRecord } from './invoker.js'
import type { FunctionMetrics } from '../metrics/index.js'
import type { MetaWrite, OutboxStore } from '../store/index.js'

/** Lambda's depth: it stops a recursive loop after about 16 invocations. */
export const DEFAULT_MAX_HOPS = 16

/** Lambda's metric name, RecursiveInvocationsDropped, in Prometheus form. */
export const RECURSION_METRIC = 'recursive_invocations_dropped_total'

/** Traces already logged, remembered at most; a trace forgotten may be logged once more. */
const LOGGED_TRACES = 1024

export interface RecursionGuardOptions {
  store: OutboxStore
  metrics: FunctionMetrics
  log: (line: string) => void
  now: () => number
  /** Invocations a chain may have; the message at hop maxHops runs nothing [W9]. */
  maxHops: number
}

export class RecursionGuard {
  readonly #o: RecursionGuardOptions
  readonly #logged = new Set<string>()

  constructor (opts: RecursionGuardOptions) {
    this.#o = opts
    opts.metrics.register(RECURSION_METRIC, {
      type: 'counter',
      help: 'Messages not run because their chain of functions triggering each other reached invocation.maxHops [W9], by function.',
      labelNames: ['function']
    })
  }

  get maxHops (): number { return this.#o.maxHops }

  /** True when a message at `hop` must not run: its chain already had maxHops invocations. */
  exceeded (hop: Hop | undefined): boolean {
    return hop !== undefined && hop.hop >= this.#o.maxHops
  }

  /**
   * Records the stopped message as a dead letter (kind `dead-letter`, error code
   * LAMBKIN_RECURSION_LIMIT, with the trace and hop, and the `version` of `fn` the message
   * would have run), counts it and logs it once per trace.
   * Resolves once the dead letter is committed; rejects with the store's error when it fails
   * (nothing counted or logged then).
   */
  async stop (fn: string, event: Record<string, unknown>, source: string, hop: Hop, meta?: () => MetaWrite[], version?: string): Promise<InvocationRecord> {
    const message = `the message reached hop ${hop.hop} of trace ${hop.traceId}, and invocation.maxHops is ${this.#o.maxHops}: ${fn} was not run, to stop a loop of functions triggering each other (raise invocation.maxHops if the chain is meant to be this long)`
    const error = { code: ErrorCodes.RECURSION_LIMIT, message }
    await this.#o.store.commit({
      records: [{ kind: 'dead-letter', fn, time: this.#o.now(), data: { invocationId: '', traceId: hop.traceId, ...(version === undefined ? {} : { version }), hop: hop.hop, source, event: deadLetterEvent(event), error, attempts: 0 } }],
      meta: meta?.()
    })
    this.#o.metrics.inc(RECURSION_METRIC, { function: fn })
    if (!this.#logged.has(hop.traceId)) {
      this.#logged.add(hop.traceId)
      if (this.#logged.size > LOGGED_TRACES) this.#logged.delete(this.#logged.values().next().value as string)
      this.#o.log(`${fn}: ${ErrorCodes.RECURSION_LIMIT}: ${message}`)
    }
    return { fn, source, ok: false, code: ErrorCodes.RECURSION_LIMIT, message, durationMs: 0, invocationId: '', attempts: 0 }
  }
}
