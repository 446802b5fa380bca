// Routes trigger-broker messages to the functions whose `mqtt` filters match. A QoS 1 message
// settles (and so is acknowledged) only after its invocations committed. Every message ends as
// a result or a dead letter: a payload its trigger cannot decode or that is over a cap becomes
// a LAMBKIN_PAYLOAD_INVALID / LAMBKIN_INPUT_LIMIT dead letter without running. Batched triggers
// keep their pending records in the store's meta, written before the message is acknowledged
// and replaced in the same commit as the batch's results, so neither a crash nor a restart
// loses a record that was acknowledged.
import { ErrorCodes } from '../../../src/errors.js'
import { isValidTopicName, levelsMatch, matchingFilter, TRIGGER_DEFAULTS } from '../../../src/function/index.js'
import type { MqttPayloadFormat, MqttTrigger, RetainHandling } from '../../../src/function/index.js'
import { IO_CAP_DEFAULTS } from '../../../src/sandbox/index.js'
import type { Clock } from '../../../src/clock.js'
import type { Invoker } from '../../invoke/invoker.js'
import type { FunctionMetrics } from '../../metrics/index.js'
import type { OutboxStore } from '../../store/index.js'
import { META_KEYS } from '../../store/meta-keys.js'
import { decodePayload, isRefusal, REFUSED_PREVIEW_BYTES } from './payload.js'
import type { DecodedPayload, PayloadRefusal } from './payload.js'
import type { SubscribeHooks, TriggerMessage, TriggerSubscription } from '../../links/trigger-link.js'
import { RecordBatch } from './batch.js'
import type { BatchRecord } from './batch.js'
import { readHop } from '../../links/hops.js'
import { requestFields } from '../../links/request-response.js'
import type { MetaWrite } from '../../store/index.js'
import { routeKey } from './processed-once.js'
import type { ProcessedOnce, Ticket } from './processed-once.js'

/** What the router asks of a trigger link: subscriptions, and whether the broker kept its session. */
export interface SubscribingLink {
  subscribe: (subs: Map<string, TriggerSubscription>, hooks?: SubscribeHooks) => Promise<void>
  /** True when the broker resumed the agent's session (CONNACK Session Present): its subscriptions exist. */
  readonly sessionPresent: boolean
  /**
   * True when every publish reaches the agent, subscribed or not (the embedded broker's hook):
   * a message no trigger matches is then traffic between other clients, not a dropped message.
   */
  readonly seesAllTopics?: boolean
}

interface Route {
  fn: string
  trigger: MqttTrigger
  format: MqttPayloadFormat
  retainHandling: RetainHandling
  /** The filter messages are matched against (without `$share/{name}/`), split at '/'. */
  levels: string[]
  /** False when the trigger's retainHandling says retained messages are not wanted now. */
  acceptRetained: boolean
  batch?: RecordBatch
  /** Names the route in processed-once marks. */
  onceKey: string
}

export interface MqttTriggersOptions {
  invoker: Invoker
  store: OutboxStore
  clock: Clock
  log: (line: string) => void
  /** The sandbox's event cap in bytes (IO_CAP_DEFAULTS.eventBytes unless the pool was given another). */
  eventBytes?: number
  /** Where the router's own counters go (Prometheus names without the `lambkin_` prefix). */
  metrics?: Pick<FunctionMetrics, 'register' | 'inc'>
  /** Marks of committed QoS 1 messages, so one sent again is not run again (processed-once.ts). */
  once?: ProcessedOnce
}

/** Store meta key: the filters the agent subscribed last time, for retainHandling 1 on MQTT 3.1.1. */
const SUBSCRIBED_KEY = META_KEYS.mqttSubscribed
/** Room for the event's own fields around a payload or a batch's records. */
const ENVELOPE_BYTES = 256
const UNMATCHED = 'mqtt_messages_unmatched_total'
const RETAINED_SKIPPED = 'mqtt_retained_skipped_total'
const REDELIVERED = 'mqtt_redeliveries_skipped_total'

export class MqttTriggers {
  readonly #o: MqttTriggersOptions
  readonly #eventBytes: number
  readonly #routes: Route[] = []
  #unmatched = 0
  #countUnmatched = true
  #retainedSkipped = 0
  #redelivered = 0

  constructor (opts: MqttTriggersOptions) {
    this.#o = opts
    this.#eventBytes = opts.eventBytes ?? IO_CAP_DEFAULTS.eventBytes
    opts.metrics?.register(UNMATCHED, { type: 'counter', help: "Trigger messages that matched no function's trigger (acknowledged and dropped)." })
    opts.metrics?.register(RETAINED_SKIPPED, {
      type: 'counter',
      help: "Retained trigger messages not delivered because the trigger's retainHandling did not want them."
    })
    opts.metrics?.register(REDELIVERED, {
      type: 'counter',
      help: 'QoS 1 trigger messages sent again (a PUBACK lost) whose outcome was already committed: acknowledged without running again.'
    })
  }

  add (fn: string, trigger: MqttTrigger, index: number): void {
    const retainHandling = trigger.retainHandling ?? TRIGGER_DEFAULTS.mqtt.retainHandling
    const route: Route = {
      fn,
      trigger,
      format: trigger.payload ?? TRIGGER_DEFAULTS.mqtt.payload,
      retainHandling,
      levels: matchingFilter(trigger.mqtt).split('/'),
      acceptRetained: retainHandling !== 2,
      onceKey: routeKey(fn, index, trigger.mqtt)
    }
    if (trigger.batch !== undefined) {
      route.batch = new RecordBatch({
        key: META_KEYS.mqttBatch(fn, index),
        size: trigger.batch.size,
        windowMs: trigger.batch.windowMs,
        maxBytes: this.#eventBytes - ENVELOPE_BYTES,
        store: this.#o.store,
        clock: this.#o.clock,
        fn,
        log: this.#o.log,
        run: async (records, meta, hop) => {
          await this.#o.invoker.run(fn, { source: 'mqtt', time: this.#o.clock.now(), records }, { meta, hop })
        }
      })
    }
    this.#routes.push(route)
  }

  /** Every filter to subscribe to, at the highest QoS any function asks of it; see subscribe() for retainHandling. */
  filters (): Map<string, TriggerSubscription> {
    const out = new Map<string, TriggerSubscription>()
    for (const r of this.#routes) {
      const f = r.trigger.mqtt
      const had = out.get(f)
      // Two triggers on one filter share one subscription: it takes the most generous
      // retain handling, and the router drops retained messages per trigger.
      out.set(f, {
        qos: Math.max(had?.qos ?? 0, r.trigger.qos) as 0 | 1,
        retainHandling: Math.min(had?.retainHandling ?? 2, r.retainHandling) as RetainHandling
      })
    }
    return out
  }

  /** Messages that matched no trigger (a subscription left from an older manifest, a broker's extra copy). */
  get unmatched (): number {
    return this.#unmatched
  }

  /** Retained messages dropped because their trigger's retainHandling did not want them. */
  get retainedSkipped (): number {
    return this.#retainedSkipped
  }

  /** Route runs not made because the message was sent again after its outcome was committed. */
  get redelivered (): number {
    return this.#redelivered
  }

  /**
   * Hands every filter to the link, which subscribes on each connect that needs it.
   * retainHandling 1 ("only when the subscription is new") is also applied here, for links that
   * speak MQTT 3.1.1 and cannot ask the broker: before a round of SUBSCRIBEs in a session the
   * broker kept, a filter this agent subscribed last time drops the retained messages it gets
   * now. A filter the broker refuses (no shared subscriptions, an ACL) is logged with
   * LAMBKIN_SUBSCRIBE_REFUSED; the agent's other triggers keep running.
   */
  async subscribe (link: SubscribingLink): Promise<void> {
    this.#countUnmatched = link.seesAllTopics !== true
    const subs = this.filters()
    if (subs.size === 0) return
    await link.subscribe(subs, {
      prepare: async (sessionPresent) => {
        const before = sessionPresent ? await this.#o.store.getMeta(SUBSCRIBED_KEY) : undefined
        const existed = new Set(Array.isArray(before) ? (before as string[]) : [])
        for (const r of this.#routes) {
          if (r.retainHandling === 1) r.acceptRetained = !existed.has(r.trigger.mqtt)
        }
      },
      done: async (granted, refused) => {
        if (refused !== undefined) this.#o.log(`${refused.code}: ${refused.message}`)
        await this.#o.store.commit({ meta: [{ key: SUBSCRIBED_KEY, value: granted }] })
      }
    })
  }

  /**
   * Reloads batch records acknowledged before a restart (or before `fn` was replaced) and
   * schedules their flush; all functions' when `fn` is not given.
   */
  async restore (fn?: string): Promise<void> {
    for (const r of this.#routes) if (fn === undefined || r.fn === fn) await r.batch?.restore()
  }

  /**
   * Drops `fn`'s routes (its deployed version was replaced or removed). Their batch timers
   * stop; pending batch records stay in the store for the routes that replace them.
   */
  async remove (fn: string): Promise<void> {
    for (let i = this.#routes.length - 1; i >= 0; i--) {
      const r = this.#routes[i] as Route
      if (r.fn !== fn) continue
      this.#routes.splice(i, 1)
      await r.batch?.close()
    }
  }

  /**
   * Routes one message; the promise settles once its effects are durable (rejects: not). Not an
   * async function, and the one route's promise is handed back as it is: each layer of async on
   * this path is a promise and a resumption per relayed message (docs/performance.md, "The relay
   * job"). Never throws: a throw becomes the rejection.
   */
  onMessage (msg: TriggerMessage): Promise<void> {
    try {
      return this.#onMessage(msg)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  #onMessage (msg: TriggerMessage): Promise<void> {
    const { topic, qos, retain } = msg
    const time = this.#o.clock.now()
    const hop = readHop(msg.userProperties)
    const work: Array<Promise<unknown>> = []
    // Decoded once per payload format asked for; most messages need only one, so the first
    // is kept without a Map and one is made only for a second format.
    let firstFormat: string | undefined
    let firstDecoded: DecodedPayload | PayloadRefusal | undefined
    let decoded: Map<string, DecodedPayload | PayloadRefusal> | undefined
    // A topic that is no valid name (wildcards, empty) matches no filter.
    const levels = isValidTopicName(topic) ? topic.split('/') : undefined
    const ticket = qos === 1 && msg.origin !== undefined ? this.#o.once?.take(msg.origin, topic, msg.payload) : undefined
    let matched = false
    for (const r of this.#routes) {
      if (levels === undefined || !levelsMatch(r.levels, levels)) continue
      matched = true
      if (retain && !r.acceptRetained) {
        this.#retainedSkipped++
        this.#o.metrics?.inc(RETAINED_SKIPPED)
        continue
      }
      const format = r.format
      let d: DecodedPayload | PayloadRefusal | undefined
      if (firstFormat === undefined) {
        firstFormat = format
        d = firstDecoded = this.#decode(msg, format)
      } else if (format === firstFormat) d = firstDecoded as DecodedPayload | PayloadRefusal
      else {
        decoded ??= new Map()
        d = decoded.get(format)
        if (d === undefined) decoded.set(format, (d = this.#decode(msg, format)))
      }
      if (ticket === undefined) {
        work.push(this.#route(r, msg, d, time, hop, undefined))
        continue
      }
      const decision = ticket.decide(r.onceKey)
      if (decision === 'skip') this.#skipRedelivery(r, topic)
      else if (decision === 'run') work.push(this.#marked(ticket, r, msg, d, time, hop))
      else {
        const decodedPayload = d
        work.push(decision.then((x) => (x === 'skip' ? this.#skipRedelivery(r, topic) : this.#marked(ticket, r, msg, decodedPayload, time, hop))))
      }
    }
    if (!matched && this.#countUnmatched) this.#noRoute(topic)
    // QoS 0 carries no acknowledgement to hold back: let the next message in at once. Its
    // work is not awaited, so a failure (a store error) is logged here rather than left unhandled.
    if (qos === 0) {
      for (const w of work) w.catch((err: Error) => this.#o.log(`QoS 0 message on ${topic} not handled: ${err.message}`))
      return SETTLED
    }
    // One route is the common case: its promise as it is (its value is not read), without Promise.all's.
    if (work.length === 1) return work[0] as Promise<unknown> as Promise<void>
    if (work.length === 0) return SETTLED
    return Promise.all(work) as Promise<unknown> as Promise<void>
  }

  /** One route's part of a message: a dead letter, a batch record or an invocation, with `meta` in its commit. */
  #route (
    r: Route,
    msg: TriggerMessage,
    d: DecodedPayload | PayloadRefusal,
    time: number,
    hop: ReturnType<typeof readHop>,
    meta: (() => MetaWrite[]) | undefined,
    committed?: () => void
  ): Promise<unknown> {
    const { topic, qos, retain } = msg
    if (isRefusal(d)) return this.#o.invoker.refuse(r.fn, refusedEvent(msg, time), d, { meta, committed })
    if (r.batch !== undefined) {
      const rec: BatchRecord = { topic, ...d, qos, retain, time, ...requestFields(msg) }
      const bytes = Buffer.byteLength(JSON.stringify(rec))
      if (bytes > this.#eventBytes - ENVELOPE_BYTES) {
        return this.#o.invoker.refuse(r.fn, refusedEvent(msg, time), overCap(bytes, this.#eventBytes), { meta, committed })
      }
      // Its promise is the commit of the record with `meta`, nothing after it.
      return r.batch.append(rec, bytes, hop, meta)
    }
    // Most messages carry neither request field: no object for them then.
    const request = msg.responseTopic === undefined && msg.correlationData === undefined ? undefined : requestFields(msg)
    const event = { source: 'mqtt', time, topic, ...d, qos, retain, ...request }
    const bytes = eventBytes(event, msg, this.#eventBytes)
    if (bytes > this.#eventBytes) return this.#o.invoker.refuse(r.fn, refusedEvent(msg, time), overCap(bytes, this.#eventBytes), { meta, committed })
    // QoS 0 may be dropped under overload (counted); QoS 1 waits, holding its ack back.
    return this.#o.invoker.run(r.fn, event, { overload: qos === 0 ? 'throttle' : 'wait', hop, meta, committed })
  }

  /**
   * #route with the message's processed-once mark in its commit, telling the mark how the commit
   * went: as soon as it is written (RunOptions.committed), so a publish or an observer that throws
   * after it does not take back a mark that is on disk (a copy would run again). One then() rather
   * than an async function (a promise and a resumption fewer per message).
   */
  #marked (ticket: Ticket, r: Route, msg: TriggerMessage, d: DecodedPayload | PayloadRefusal, time: number, hop: ReturnType<typeof readHop>): Promise<unknown> {
    const m = ticket.mark(r.onceKey)
    let p: Promise<unknown>
    try {
      p = this.#route(r, msg, d, time, hop, m.meta, () => { m.settled(true) })
    } catch (err) {
      m.settled(false)
      return Promise.reject(err)
    }
    return p.then((out) => { m.settled(true); return out }, (err: unknown) => { m.settled(false); throw err })
  }

  #skipRedelivery (r: Route, topic: string): void {
    this.#o.metrics?.inc(REDELIVERED)
    // Logged the first time and then every 1,000th.
    if (this.#redelivered++ % 1000 === 0) {
      this.#o.log(
        `message on ${topic} came again (its PUBACK was lost) and ${r.fn}'s outcome of it is already stored: acknowledged without running it again (${this.#redelivered} so far)`
      )
    }
  }

  #decode (msg: TriggerMessage, format: MqttPayloadFormat): DecodedPayload | PayloadRefusal {
    // Over the cap before decoding: no need to build a string the sandbox would refuse.
    if (msg.payload.length > this.#eventBytes) return overCap(msg.payload.length, this.#eventBytes, 'payload')
    return decodePayload(msg.payload, format)
  }

  #noRoute (topic: string): void {
    this.#o.metrics?.inc(UNMATCHED)
    // Logged the first time and then every 1,000th, so a stray stream cannot flood the log.
    if (this.#unmatched++ % 1000 === 0) {
      this.#o.log(
        `message on ${topic} matches no function's trigger (${this.#unmatched} so far); it was acknowledged and dropped. A subscription left from an older manifest stays with a persistent session until the broker forgets it`
      )
    }
  }

  /** Stops batch timers; pending batch records stay in the store for the next start. */
  async close (): Promise<void> {
    for (const r of this.#routes) await r.batch?.close()
  }
}

/** What onMessage answers for a message with nothing to wait for: one settled promise, shared. */
const SETTLED: Promise<void> = Promise.resolve()

function overCap (bytes: number, cap: number, what = 'event'): PayloadRefusal {
  return { code: ErrorCodes.INPUT_LIMIT, message: `the ${what} is ${bytes} bytes, over the ${cap} byte event cap`, details: { limit: 'eventBytes', bytes, max: cap } }
}

/**
 * The event's JSON size in bytes, or an upper bound of it when that is under the cap. JSON escapes a byte as at most 6 (`\u0000`), so a message
 * far under the cap is not stringified twice (the sandbox pool stringifies it again).
 */
function eventBytes (event: Record<string, unknown>, msg: TriggerMessage, cap: number): number {
  // Re-stringified JSON grows at most ~5x too (`1e20` becomes 21 digits).
  const bound = ENVELOPE_BYTES + 6 * (Buffer.byteLength(msg.topic) + msg.payload.length + Buffer.byteLength(msg.responseTopic ?? '') + 2 * (msg.correlationData?.length ?? 0))
  return bound <= cap ? bound : Buffer.byteLength(JSON.stringify(event))
}

/**
 * What a dead letter keeps of a message that never reached its function: the first
 * REFUSED_PREVIEW_BYTES bytes as base64 and the full size, so a flood of large or deep
 * payloads cannot fill the outbox, and nothing in it trips the store's encoder.
 */
function refusedEvent (msg: TriggerMessage, time: number): Record<string, unknown> {
  return {
    source: 'mqtt',
    time,
    topic: msg.topic,
    qos: msg.qos,
    retain: msg.retain,
    payloadBytes: msg.payload.length,
    payloadPreviewBase64: msg.payload.subarray(0, REFUSED_PREVIEW_BYTES).toString('base64')
  }
}
