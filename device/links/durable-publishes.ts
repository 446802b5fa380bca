// Functions' QoS 1 publishes on their way to the trigger broker, shared by both trigger links.
// They are committed to the store with the invocation; from there at most WINDOW of them are
// handed to the MQTT client at a time, and only while it is connected. A publish leaves the
// store once its broker acknowledged it. Behind the window they wait in a bounded queue in
// memory (they are in the store too), so the window refills without reading back what was just
// written; past that bound, and whenever the broker is away, the rest wait in the store only
// and the queue is refilled from it a page at a time, in id order.
import type { Hop } from './hops.js'
import { requestProps } from './request-response.js'
import type { OutboxStore } from '../store/index.js'

/**
 * A function's publish on its way to the trigger broker: `id` is its store id (QoS 1), `hop`
 * its place in a chain of functions [W9], `fn` the function that made it. Both are stored with
 * a QoS 1 publish, so one re-sent after a restart keeps them; only publishes a version before
 * that stored (store/publish-value.ts) come back without them.
 */
export interface OutgoingPublish {
  topic: string
  payload: string | Uint8Array
  qos: 0 | 1
  retain: boolean
  id?: number
  hop?: Hop
  fn?: string
  correlationData?: string
  responseTopic?: string
}

/** Where the publishes go: an MQTT client, or the embedded broker. */
export interface PublishSink {
  /** True while a publish handed over now goes out on a live connection. */
  ready: () => boolean
  /**
   * Sends `p`; `done` runs once the broker acknowledged it (QoS 1 PUBACK), with an error if it
   * never will, or with `refused` set when the broker will not take it (publish-refusals.ts
   * then calls retry() or forget() for it).
   */
  send: (p: OutgoingPublish, done: (err?: Error, refused?: boolean) => void) => void
}

/**
 * QoS 1 publishes handed to the client and not yet acknowledged. MQTT.js keeps these in
 * memory (and sends them again after a reconnect), so this bounds that memory: at most WINDOW
 * of them and, past the first, MAX_INFLIGHT_BYTES of payload.
 */
export const PUBLISH_WINDOW = 256
export const MAX_INFLIGHT_BYTES = 1024 * 1024

/**
 * Committed publishes queued in memory behind the window, at most (count, and payload bytes:
 * string length for strings). Past either, the rest wait in the store only.
 */
export const MAX_QUEUED = 1024
export const MAX_QUEUED_BYTES = 1024 * 1024

/** Publishes read from the store at once to refill the queue. */
const PAGE = 256

type Waiting = OutgoingPublish & { id: number }

export class DurablePublishes {
  readonly #store: OutboxStore
  readonly #window: number
  #sink: PublishSink | undefined
  /** Ids handed to the sink and not yet acknowledged, with their payload bytes. */
  readonly #inflight = new Map<number, number>()
  #inflightBytes = 0
  /** Ids acknowledged whose removal from the store has not finished. */
  readonly #removing = new Set<number>()
  readonly #removals = new Set<Promise<void>>()
  /** Ids acknowledged in this turn, removed together at its end (#removeAcked). */
  #acked: number[] = []
  /** Ids whose removal finished while the store was being read: the read may still hold them. */
  #removedDuringRead: Set<number> | undefined
  /** Ids the broker refused, waiting for their retry or dead letter: not read from the store meanwhile. */
  readonly #held = new Set<number>()
  /** Committed publishes not yet handed over, in id order (all are in the store too). */
  #queue: Waiting[] = []
  #queuedBytes = 0
  readonly #queuedIds = new Set<number>()
  /**
   * The store may hold publishes neither handed over nor queued, all with ids past #cursor
   * (true at start: a previous run's). False: everything waiting is in the queue.
   */
  #backlog = true
  /** Ids up to here are handed over, queued, or gone (0: read from the start). */
  #cursor = 0
  #pumping: Promise<void> | undefined
  #again = false
  #closed = false

  readonly #onInflight: (n: number) => void

  /** `onInflight` hears the number of publishes handed over and not yet acknowledged, on each change. */
  constructor (store: OutboxStore, onInflight: (n: number) => void = () => {}, window = PUBLISH_WINDOW) {
    this.#store = store
    this.#window = window
    this.#onInflight = onInflight
  }

  /** Connects the sink; call kick() when it becomes ready. */
  attach (sink: PublishSink): void {
    this.#sink = sink
  }

  get inflight (): number { return this.#inflight.size }

  /** Publishes queued in memory behind the window (at most MAX_QUEUED). */
  get queued (): number { return this.#queue.length }

  /**
   * A publish just committed with store id `p.id`. It joins the queue (and goes out at once if
   * the window has room) while the queue has room and nothing older waits in the store only;
   * otherwise it waits in the store, not in memory.
   */
  offer (p: Waiting): void {
    if (this.#closed || this.#sink === undefined) return
    if (!this.#backlog && this.#enqueue(p)) {
      this.#drain()
      return
    }
    this.#backlog = true
    // Committed out of id order behind the cursor: read again from before it (what is handed
    // over or queued is skipped).
    if (p.id <= this.#cursor) this.#cursor = p.id - 1
    this.kick()
  }

  /** A refused publish to send again (publish-refusals.ts): queued if there is room, else from the store. */
  retry (p: Waiting): void {
    this.#held.delete(p.id)
    if (this.#closed || this.#sink === undefined) return
    if (this.#queue.length === 0 && this.#enqueue(p)) {
      this.#drain()
      return
    }
    this.#backlog = true
    this.#cursor = 0
    this.kick()
  }

  /** A refused publish that was dead-lettered and removed from the store (or is left for the next start). */
  forget (id: number): void {
    this.#held.delete(id)
  }

  /** Sends what waits in memory, then refills the queue from the store while it holds more. */
  kick (): void {
    this.#drain()
    if (this.#pumping !== undefined) { this.#again = true; return }
    if (!this.#backlog || this.#closed || this.#sink?.ready() !== true) return
    this.#pumping = this.#pump().catch(() => {
      // The store failed to read: leave the backlog flagged; the next ack or connect tries again.
    }).finally(() => {
      this.#pumping = undefined
      if (this.#again) { this.#again = false; this.kick() }
    })
  }

  /** Queues `p` if the queue has room for it; false if not. */
  #enqueue (p: Waiting): boolean {
    const bytes = p.payload.length
    if (this.#queue.length >= MAX_QUEUED || (this.#queue.length > 0 && this.#queuedBytes + bytes > MAX_QUEUED_BYTES)) return false
    this.#queue.push(p)
    this.#queuedIds.add(p.id)
    this.#queuedBytes += bytes
    return true
  }

  /** Hands queued publishes to the sink while it is ready and the window has room. */
  #drain (): void {
    const sink = this.#sink
    if (sink === undefined || this.#closed) return
    while (this.#queue.length > 0 && sink.ready() && this.#inflight.size < this.#window &&
      (this.#inflight.size === 0 || this.#inflightBytes + this.#queue[0].payload.length <= MAX_INFLIGHT_BYTES)) {
      const p = this.#queue.shift() as Waiting
      this.#queuedIds.delete(p.id)
      this.#queuedBytes -= p.payload.length
      this.#send(sink, p)
    }
  }

  async #pump (): Promise<void> {
    for (;;) {
      this.#again = false
      const room = Math.min(PAGE, MAX_QUEUED - this.#queue.length)
      if (!this.#backlog || this.#closed || this.#sink?.ready() !== true || room <= 0) return
      const gone = new Set<number>()
      this.#removedDuringRead = gone
      const from = this.#cursor
      let pending
      try {
        // Reads only what lies past the cursor: payloads handed over are not loaded again.
        pending = await this.#store.pendingPublishes({ afterId: from, limit: room })
      } finally {
        this.#removedDuringRead = undefined
      }
      // Sent back below `from` while this read ran (a publish the closed client gave back, a
      // retry, a commit out of order): what this read saw must not move the cursor past it.
      const rewound = this.#cursor < from
      const advance = (id: number): void => { if (!rewound) this.#cursor = Math.max(this.#cursor, id) }
      let full = false
      for (const p of pending) {
        // Handed over, or acknowledged and being removed (or removed while this read ran), or
        // refused and waiting for its retry or dead letter, or already queued: left alone.
        if (this.#inflight.has(p.id) || this.#removing.has(p.id) || gone.has(p.id) || this.#held.has(p.id) || this.#queuedIds.has(p.id)) {
          advance(p.id)
          continue
        }
        // The hop [W9] and function come from the store (absent in publishes an older version stored).
        const w: Waiting = { topic: p.topic, payload: p.payload, qos: 1, retain: p.retain, ...requestProps(p), id: p.id }
        if (p.hop !== undefined) w.hop = p.hop
        if (p.fn !== undefined) w.fn = p.fn
        if (!this.#enqueue(w)) { full = true; break }
        advance(p.id)
      }
      this.#drain()
      // Everything the store holds is queued or handed over: new publishes may be queued directly.
      if (rewound) this.#again = true
      if (!full && pending.length < room && !this.#again) { this.#backlog = false; return }
      if (full || (pending.length === 0 && !this.#again)) return
    }
  }

  #send (sink: PublishSink, p: Waiting): void {
    const bytes = p.payload.length
    this.#inflight.set(p.id, bytes)
    this.#inflightBytes += bytes
    this.#onInflight(this.#inflight.size)
    sink.send(p, (err, refused) => {
      this.#inflight.delete(p.id)
      this.#inflightBytes -= bytes
      this.#onInflight(this.#inflight.size)
      if (refused === true) {
        this.#held.add(p.id)
        this.kick()
        return
      }
      if (err !== undefined) {
        // Never acknowledged (the client was closed): it stays in the store, read again from the start.
        this.#backlog = true
        this.#cursor = 0
        this.kick()
        return
      }
      this.#acknowledged(p.id)
      this.kick()
    })
  }

  /**
   * Takes an acknowledged publish out of the store. The PUBACKs of one socket read arrive over
   * several ticks; their ids are gathered and removed in one store call at the end of the turn
   * (a setImmediate), not one call and promise each. The removal is lazy anyway (it rides with
   * the next commit, store/level-store.ts): until it is written a restart sends the publish again.
   */
  #acknowledged (id: number): void {
    this.#removing.add(id)
    this.#acked.push(id)
    if (this.#acked.length === 1) setImmediate(this.#removeAcked)
  }

  readonly #removeAcked = (): void => {
    const ids = this.#acked
    if (ids.length === 0) return
    this.#acked = []
    // One settled handler for both outcomes (a failed removal leaves the publishes in the store,
    // sent again after a restart).
    const removed = (): void => {
      for (const id of ids) {
        this.#removing.delete(id)
        this.#removedDuringRead?.add(id)
      }
      this.#removals.delete(removal)
    }
    const removal: Promise<void> = this.#store.removePublishes(ids).then(removed, removed)
    this.#removals.add(removal)
  }

  /** Stops sending and waits for removals of acknowledged publishes, so the store closes last. */
  async close (): Promise<void> {
    this.#closed = true
    this.#queue = []
    this.#queuedIds.clear()
    this.#queuedBytes = 0
    await this.#pumping
    this.#removeAcked()
    await Promise.all(this.#removals)
  }
}
