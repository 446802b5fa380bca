// Functions' publishes the trigger broker will never take (too large for it, or refused with
// a PUBACK reason code): after bounded attempts each becomes a dead letter with
// LAMBKIN_PUBLISH_REFUSED, leaves the store's pending publishes, and is counted, instead of
// being sent again on every connection (and, when too large, dropping that connection).
import { ErrorCodes } from '../../src/errors.js'
import type { OutgoingPublish } from './durable-publishes.js'
import type { FunctionMetrics } from '../metrics/index.js'
import { PUBLISH_ATTEMPTS } from './publish-limits.js'
import type { Refusal } from './publish-limits.js'
import type { OutboxStore } from '../store/index.js'

export const REFUSED_METRIC = 'publishes_refused_total'

/** Bytes of a refused payload kept in its dead letter; the rest is counted, not stored. */
export const DEAD_LETTER_PAYLOAD_BYTES = 4096

export interface PublishRefusalsOptions {
  store: OutboxStore
  metrics?: FunctionMetrics
  log: (line: string) => void
  now: () => number
  /** Waits before sending a publish again after a refusal that may pass (attempt 1, 2...). */
  retryDelayMs: (attempt: number) => number
}

export class PublishRefusals {
  readonly #o: PublishRefusalsOptions
  readonly #pending = new Set<Promise<void>>()
  /** Refusals seen per stored publish id (publishes without an id are not retried). */
  readonly #attempts = new Map<number, number>()
  #closed = false

  constructor (opts: PublishRefusalsOptions) {
    this.#o = opts
    opts.metrics?.register(REFUSED_METRIC, {
      type: 'counter',
      help: 'Function publishes dead-lettered because the trigger broker will not take them, by MQTT 5 reason code (0x95: larger than its maximum packet size).',
      labelNames: ['reason_code']
    })
  }

  /**
   * A refusal of `p`: sends it again later through `resend` while the refusal may pass and
   * attempts remain (PUBLISH_ATTEMPTS), otherwise dead-letters it.
   */
  refused (p: OutgoingPublish, r: Refusal, resend: (p: OutgoingPublish) => void, settled: (id: number) => void = () => {}): void {
    const attempts = (p.id === undefined ? 0 : this.#attempts.get(p.id) ?? 0) + 1
    if (!r.permanent && p.id !== undefined && attempts < PUBLISH_ATTEMPTS) {
      this.#attempts.set(p.id, attempts)
      const t = setTimeout(() => { if (!this.#closed) resend(p) }, this.#o.retryDelayMs(attempts))
      t.unref()
      return
    }
    if (p.id !== undefined) this.#attempts.delete(p.id)
    this.#track(p, this.#deadLetter(p, r, attempts), settled)
  }

  /** Dead letter committed first, then the pending publish removed: a crash between re-sends it once more. */
  async #deadLetter (p: OutgoingPublish, r: Refusal, attempts: number): Promise<void> {
    const { store, metrics, log, now } = this.#o
    const message = `publish to ${JSON.stringify(p.topic)} (${p.qos === 1 ? 'QoS 1' : 'QoS 0'}) dropped after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${r.message}`
    const bytes = typeof p.payload === 'string' ? Buffer.from(p.payload) : Buffer.from(p.payload)
    const kept = bytes.subarray(0, DEAD_LETTER_PAYLOAD_BYTES)
    await store.commit({
      records: [{
        kind: 'dead-letter',
        fn: p.fn,
        time: now(),
        data: {
          source: 'publish',
          traceId: p.hop?.traceId,
          topic: p.topic,
          qos: p.qos,
          retain: p.retain,
          payloadBytes: bytes.byteLength,
          payload: typeof p.payload === 'string' ? kept.toString('utf8') : new Uint8Array(kept),
          error: { code: ErrorCodes.PUBLISH_REFUSED, message, reasonCode: r.reasonCode },
          attempts
        }
      }]
    })
    if (p.id !== undefined) await store.removePublish(p.id)
    metrics?.inc(REFUSED_METRIC, { reason_code: `0x${r.reasonCode.toString(16)}` })
    log(`${p.fn ?? 'a function'}: ${ErrorCodes.PUBLISH_REFUSED}: ${message}`)
  }

  /** `settled` hears a stored publish's id once its dead letter is written (or failed to be). */
  #track (p: OutgoingPublish, work: Promise<void>, settled: (id: number) => void): void {
    const done = work.catch((err: Error) => {
      // Still pending in the store: it is sent, and refused, again on the next start.
      this.#o.log(`refused publish to ${JSON.stringify(p.topic)} not dead-lettered: ${err.message}`)
    })
    this.#pending.add(done)
    void done.finally(() => {
      this.#pending.delete(done)
      if (p.id !== undefined) settled(p.id)
    })
  }

  /** Resolves when every dead letter started has been written (call before the store closes). */
  async settled (): Promise<void> {
    this.#closed = true
    await Promise.all(this.#pending)
  }
}
