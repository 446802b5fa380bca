// The invoker's shapes (invoker.ts): what one invocation ends as, what the invoker is built
// with, and what a caller of run() may ask.
import type { LogEntry, PublishRequest, SandboxPool } from '../../src/sandbox/index.js'
import type { Hop } from '../links/hops.js'
import type { FunctionMetrics } from '../metrics/index.js'
import type { MetaWrite, OutboxStore } from '../store/index.js'

export interface InvocationRecord {
  fn: string
  source: string
  ok: boolean
  code?: string
  message?: string
  result?: unknown
  durationMs: number
  invocationId: string
  /** The function version that ran (content version, 16 hex digits); absent when none ran. */
  version?: string
  /**
   * Tries made in all: the first attempt plus the retries (`retry.attempts` in function.json
   * is the number of retries, as Lambda's MaximumRetryAttempts is); 0 when it never ran.
   */
  attempts: number
  /** What the function logged (`ctx.log`, `console.*`) in its last attempt; absent when nothing. */
  logs?: LogEntry[]
}

/** One of the invoker's observers (InvokerOptions.observers); it must not throw. */
export type InvocationObserver = (rec: InvocationRecord) => void

export interface InvokerOptions {
  pool: SandboxPool
  store: OutboxStore
  metrics: FunctionMetrics
  maxConcurrent: number
  queueDepth: number
  sleep: (ms: number) => Promise<void>
  now: () => number
  /**
   * Hands publishes to the trigger broker once committed (QoS 1 ones with their store ids),
   * each with the hop it is published at: one past the invocation's [W9].
   */
  publish: (pubs: Array<PublishRequest & { id?: number, hop?: Hop, fn?: string }>) => void
  /**
   * Told of every ended invocation, in list order (the agent's: the by-version counter, the
   * deploy health gate, the cloud link's upload nudge, then its own 'invocation' event). The
   * agent's start steps append to this list as the parts exist; the invoker reads it per call.
   */
  observers: readonly InvocationObserver[]
  /** invocation.maxHops [W9]; default 16. */
  maxHops?: number
  log?: (line: string) => void
  /** Picks canary or live per invocation (device/invoke/aliases.ts); Math.random by default. */
  random?: () => number
}

/**
 * What run() does when every slot is busy. 'wait': queue without bound and let the caller's
 * source wait (a QoS 1 message's acknowledgement, a sensor's next poll): the trigger links
 * bound how much they take, so overload stays at the broker. 'throttle': past `queueDepth`
 * waiting calls, answer LAMBKIN_THROTTLED at once (for QoS 0 messages, which MQTT lets a
 * receiver drop; counted in lambkin_throttles_total).
 */
export type Overload = 'wait' | 'throttle'

export interface RunOptions {
  /** Meta writes committed with this invocation, built at commit time. */
  meta?: () => MetaWrite[]
  /**
   * Called once the commit carrying `meta` succeeded, before its publishes are handed on and
   * the observers told: what it wrote stays written even when one of those throws (run() then
   * still rejects). The processed-once mark keeps to it (device/triggers/mqtt/processed-once.ts).
   */
  committed?: () => void
  /** Default 'wait'. */
  overload?: Overload
  /** The triggering message's place in a chain of functions [W9] (hops.ts). */
  hop?: Hop
}
