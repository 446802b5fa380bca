// Wire rule W9 on the wire: what a function publishes carries its trace id and hop count as
// MQTT 5 user properties, and a message arriving with them continues that trace. Also the
// MQTT 3.1.1 fallback, where a message has no properties: the agent remembers its own recent
// publishes by topic and payload and recognises them when the broker sends them back.
import { createHash } from 'node:crypto'
import { systemClock } from '../../src/clock.js'

/** MQTT 5 user property names (MQTT 5 section 3.3.2.3.7) carrying W9's trace id and hop count. */
export const TRACE_PROPERTY = 'lambkin-trace'
export const HOP_PROPERTY = 'lambkin-hop'

/**
 * Where a message sits in a chain of functions triggering each other [W9]: `traceId` is the
 * chain's trace (ctx.traceId of every invocation in it), `hop` the number of function
 * publishes between the chain's first message (hop 0) and this one.
 */
export interface Hop { traceId: string, hop: number }

/** Above this a hop property is not a count lambkin wrote; the message starts a new trace. */
const MAX_HOP = 1_000_000
/** Trace ids lambkin writes are UUIDs; anything printable up to this length is carried on. */
const TRACE_ID = /^[\x21-\x7e]{1,128}$/

type UserProperties = Record<string, string | string[]> | undefined

/**
 * The hop a message carries, from its MQTT 5 user properties; undefined when it carries none
 * or values lambkin did not write (a repeated property, a hop that is no decimal count): such
 * a message starts a new trace, as one from a sensor does.
 */
export function readHop (props: UserProperties): Hop | undefined {
  const traceId = props?.[TRACE_PROPERTY]
  const hop = props?.[HOP_PROPERTY]
  if (typeof traceId !== 'string' || typeof hop !== 'string') return undefined
  if (!TRACE_ID.test(traceId) || !/^\d{1,7}$/.test(hop)) return undefined
  const n = Number(hop)
  return n <= MAX_HOP ? { traceId, hop: n } : undefined
}

/** The user properties a publish at `h` carries (MQTT 5 section 3.3.2.3.7). */
export function hopProperties (h: Hop): Record<string, string> {
  return { [TRACE_PROPERTY]: h.traceId, [HOP_PROPERTY]: String(h.hop) }
}

/** The deeper of two hops: a batch of messages runs at the deepest hop among them. */
export function deeper (a: Hop | undefined, b: Hop | undefined): Hop | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return b.hop > a.hop ? b : a
}

export interface RecentPublishesOptions {
  /** How long a publish is remembered, in ms. */
  ttlMs: number
  /** Publishes remembered at most; the oldest go first. */
  maxEntries: number
  now: () => number
}

export const RECENT_PUBLISHES_DEFAULTS: Readonly<RecentPublishesOptions> = Object.freeze({
  ttlMs: 60_000,
  maxEntries: 4096,
  // An age: on the clock NTP does not step (src/clock.ts).
  now: systemClock.monotonic as () => number
})

/**
 * The MQTT 3.1.1 fallback of W9 (3.1.1 has no user properties, section 3.3): the hops of this
 * agent's own publishes, by a hash of topic and payload, for ttlMs. A message that comes back
 * from the broker with the same topic and payload within that time continues the chain. It
 * catches loops among functions on this agent (the common case: a function publishing to its
 * own trigger), not chains that pass through another agent over 3.1.1; and an outside
 * publisher sending the very same bytes to the same topic within ttlMs is counted into the
 * chain. Memory is bounded by maxEntries.
 */
export class RecentPublishes {
  readonly #o: RecentPublishesOptions
  readonly #entries = new Map<string, { hop: Hop, at: number }>()

  constructor (opts: Partial<RecentPublishesOptions> = {}) {
    this.#o = { ...RECENT_PUBLISHES_DEFAULTS, ...opts }
  }

  remember (topic: string, payload: Uint8Array | string, hop: Hop): void {
    const key = keyOf(topic, payload)
    // Re-inserted so the Map's order stays oldest first.
    this.#entries.delete(key)
    this.#entries.set(key, { hop, at: this.#o.now() })
    while (this.#entries.size > this.#o.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
  }

  /** The hop this agent published `topic`/`payload` at within ttlMs, if it did. */
  lookup (topic: string, payload: Uint8Array | string): Hop | undefined {
    this.#expire()
    return this.#entries.get(keyOf(topic, payload))?.hop
  }

  get size (): number { return this.#entries.size }

  #expire (): void {
    const oldest = this.#o.now() - this.#o.ttlMs
    for (const [key, e] of this.#entries) {
      if (e.at > oldest) break
      this.#entries.delete(key)
    }
  }
}

function keyOf (topic: string, payload: Uint8Array | string): string {
  // The topic's length first, so no topic/payload split of the same bytes collides.
  return createHash('sha256').update(`${Buffer.byteLength(topic)}:${topic}`).update(payload).digest('base64')
}
