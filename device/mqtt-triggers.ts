// Routes trigger-broker messages to the functions whose `mqtt` filters match. A QoS 1 message
// settles (and so is acknowledged) only after its invocations committed. Batched triggers keep
// their pending records in the store's meta, written before the message is acknowledged and
// replaced in the same commit as the batch's results, so neither a crash nor a restart loses
// a record that was acknowledged.
import { isValidTopicName, levelsMatch } from '../src/function/index.js'
import type { MqttTrigger } from '../src/function/index.js'
import type { Clock } from './triggers/index.js'
import type { Invoker } from './invoker.js'
import type { OutboxStore } from './store/index.js'
import { decodePayload } from './trigger-message.js'
import type { TriggerMessage } from './trigger-message.js'
import { deeper, readHop } from './hops.js'
import type { Hop } from './hops.js'

interface BatchRecord { topic: string, payload: unknown, qos: number, time: number }

interface Route {
  fn: string
  trigger: MqttTrigger
  /** The trigger's filter split at '/', once. */
  levels: string[]
  batch?: {
    key: string
    pending: BatchRecord[]
    inflight: BatchRecord[]
    timer: unknown
    flushing: Promise<void> | undefined
    /** The deepest hop [W9] among pending records; the batch runs at it. Not kept over restarts. */
    hop?: Hop
  }
}

export interface MqttTriggersOptions {
  invoker: Invoker
  store: OutboxStore
  clock: Clock
  log: (line: string) => void
}

export class MqttTriggers {
  readonly #o: MqttTriggersOptions
  readonly #routes: Route[] = []
  #closed = false

  constructor (opts: MqttTriggersOptions) {
    this.#o = opts
  }

  add (fn: string, trigger: MqttTrigger, index: number): void {
    const route: Route = { fn, trigger, levels: trigger.mqtt.split('/') }
    if (trigger.batch !== undefined) route.batch = { key: `batch:${fn}:${index}`, pending: [], inflight: [], timer: undefined, flushing: undefined }
    this.#routes.push(route)
  }

  /** Every filter to subscribe to, at the highest QoS any function asks of it. */
  filters (): Map<string, 0 | 1> {
    const out = new Map<string, 0 | 1>()
    for (const r of this.#routes) out.set(r.trigger.mqtt, Math.max(out.get(r.trigger.mqtt) ?? 0, r.trigger.qos) as 0 | 1)
    return out
  }

  async subscribe (link: { subscribe: (f: Map<string, 0 | 1>) => Promise<void> }): Promise<void> {
    await link.subscribe(this.filters())
  }

  /** Reloads batch records acknowledged before a restart and schedules their flush. */
  async restore (): Promise<void> {
    for (const r of this.#routes) {
      if (r.batch === undefined) continue
      const saved = await this.#o.store.getMeta(r.batch.key)
      if (Array.isArray(saved) && saved.length > 0) {
        r.batch.pending.push(...(saved as BatchRecord[]))
        this.#arm(r)
      }
    }
  }

  async onMessage ({ topic, payload, qos, userProperties }: TriggerMessage): Promise<void> {
    const time = this.#o.clock.now()
    const hop = readHop(userProperties)
    const decoded = decodePayload(payload)
    const work: Array<Promise<unknown>> = []
    // A topic that is no valid name (wildcards, empty) matches no filter.
    const levels = isValidTopicName(topic) ? topic.split('/') : undefined
    for (const r of this.#routes) {
      if (levels === undefined || !levelsMatch(r.levels, levels)) continue
      if (r.batch !== undefined) {
        r.batch.hop = deeper(r.batch.hop, hop)
        work.push(this.#append(r, { topic, payload: decoded, qos, time }))
      } else {
        work.push(this.#o.invoker.run(r.fn, { source: 'mqtt', time, topic, payload: decoded, qos }, { hop }))
      }
    }
    // QoS 0 carries no acknowledgement to hold back: let the next message in at once.
    if (qos === 0) return
    await Promise.all(work)
  }

  async #append (r: Route, rec: BatchRecord): Promise<void> {
    const b = r.batch as NonNullable<Route['batch']>
    b.pending.push(rec)
    await this.#o.store.commit({ meta: [{ key: b.key, value: [...b.inflight, ...b.pending] }] })
    if (b.pending.length >= (r.trigger.batch as { size: number }).size) void this.#flush(r)
    else this.#arm(r)
  }

  #arm (r: Route): void {
    const b = r.batch as NonNullable<Route['batch']>
    if (b.timer !== undefined || this.#closed) return
    b.timer = this.#o.clock.setTimeout(() => {
      b.timer = undefined
      void this.#flush(r)
    }, (r.trigger.batch as { windowMs: number }).windowMs)
  }

  async #flush (r: Route): Promise<void> {
    const b = r.batch as NonNullable<Route['batch']>
    while (b.flushing !== undefined) await b.flushing
    if (b.pending.length === 0 || this.#closed) return
    if (b.timer !== undefined) { this.#o.clock.clearTimeout(b.timer); b.timer = undefined }
    const size = (r.trigger.batch as { size: number }).size
    b.inflight = b.pending.splice(0, size)
    const records = b.inflight
    const hop = b.hop
    b.hop = undefined
    b.flushing = (async () => {
      // The meta write is built at commit time, so records appended meanwhile stay durable.
      await this.#o.invoker.run(r.fn, { source: 'mqtt', time: this.#o.clock.now(), records }, {
        meta: () => [{ key: b.key, value: [...b.pending] }],
        hop
      })
      b.inflight = []
    })()
    try {
      await b.flushing
    } finally {
      b.flushing = undefined
    }
    if (b.pending.length >= size) void this.#flush(r)
    else if (b.pending.length > 0) this.#arm(r)
  }

  /** Stops batch timers; pending batch records stay in the store for the next start. */
  async close (): Promise<void> {
    this.#closed = true
    for (const r of this.#routes) {
      if (r.batch?.timer !== undefined) this.#o.clock.clearTimeout(r.batch.timer)
      if (r.batch?.flushing !== undefined) await r.batch.flushing
    }
  }
}
