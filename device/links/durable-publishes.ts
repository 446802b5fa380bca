// Functions' QoS 1 publishes on their way to the trigger broker, shared by both trigger links.
// They are committed to the store with the invocation; from there at most WINDOW of them are
// handed to the MQTT client at a time, and only while it is connected. A publish leaves the
// store once its broker acknowledged it. While connected and keeping up, the few committed
// behind a full window wait in a bounded queue in memory (they are in the store too), so the
// window refills without reading back what was just written; past that bound, and whenever the
// broker is away, they wait in the store only and the window is refilled from it in id order.
import type { Hop } from './hops.js'
import type { OutboxStore } from '../store/index.js'

/**
 * A function's publish on its way to the trigger broker: `id` is its store id (QoS 1), `hop`
 * its place in a chain of functions [W9], `fn` the function that made it. Publishes re-sent
 * after a restart have neither `hop` nor `fn`.
 */
export interface OutgoingPublish { topic: string, payload: string | Uint8Array, qos: 0 | 1, retain: boolean, id?: number, hop?: Hop, fn?: string }

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
 * memory (and sends them again after a reconnect), so this bounds that memory: at most
 * WINDOW x the 128 KiB publish cap.
 */
export const PUBLISH_WINDOW = 64

/** Publishes waiting in the store whose hop [W9] is remembered in memory, at most. */
const MAX_ORIGINS = 4096

/**
 * Committed publishes queued in memory behind a full window, at most (count, and payload
 * bytes: string length for strings). Past either, the queue is let go and the store serves.
 */
export const MAX_QUEUED = 1024
export const MAX_QUEUED_BYTES = 1024 * 1024

export class DurablePublishes {
  readonly #store: OutboxStore
  readonly #window: number
  #sink: PublishSink | undefined
  /** Ids handed to the sink and not yet acknowledged. */
  readonly #inflight = new Set<number>()
  /** Ids acknowledged whose removal from the store has not finished. */
  readonly #removing = new Set<number>()
  readonly #removals = new Set<Promise<void>>()
  /** Ids whose removal finished while the store was being read: the read may still hold them. */
  #removedDuringRead: Set<number> | undefined
  /** Ids the broker refused, waiting for their retry or dead letter: not read from the store meanwhile. */
  readonly #held = new Set<number>()
  /** Hop and function of publishes offered while backlogged [W9], so they keep them when read back. */
  readonly #origin = new Map<number, Pick<OutgoingPublish, 'hop' | 'fn'>>()
  /**
   * Committed publishes not yet handed over, in id order, while the store holds no others
   * (never at once with #backlog), and their payload bytes.
   */
  #queue: Array<OutgoingPublish & { id: number }> = []
  #queuedBytes = 0
  /** The store may hold publishes not yet handed over (true at start: a previous run's). */
  #backlog = true
  /** Ids up to here have been handed over since the backlog began (0: read from the start). */
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
   * A publish just committed with store id `p.id`. It goes out at once if the window has
   * room and nothing older waits in the store; otherwise it waits there (not in memory).
   */
  offer (p: OutgoingPublish & { id: number }): void {
    const sink = this.#sink
    if (this.#closed || sink === undefined) return
    if (!this.#backlog && this.#pumping === undefined && sink.ready()) {
      if (this.#queue.length === 0 && this.#inflight.size < this.#window) {
        this.#send(sink, p)
        return
      }
      const bytes = p.payload.length
      if (this.#queue.length < MAX_QUEUED && this.#queuedBytes + bytes <= MAX_QUEUED_BYTES) {
        this.#queue.push(p)
        this.#queuedBytes += bytes
        return
      }
    }
    this.#remember(p)
    this.#toStore()
    this.kick()
  }

  /** Keeps a publish's hop while it waits in the store. */
  #remember (p: OutgoingPublish & { id: number }): void {
    if (p.hop === undefined && p.fn === undefined) return
    this.#origin.set(p.id, { hop: p.hop, fn: p.fn })
    // Bounded: past it the oldest lose their hop (a loop then runs a few hops more) [W9].
    if (this.#origin.size > MAX_ORIGINS) this.#origin.delete(this.#origin.keys().next().value as number)
  }

  /** From now on the store serves what waits: the memory queue is let go (all of it is in the store). */
  #toStore (): void {
    for (const q of this.#queue) this.#remember(q)
    this.#queue = []
    this.#queuedBytes = 0
    this.#backlog = true
  }

  /** A refused publish to send again (publish-refusals.ts): now if there is room, else from the store. */
  retry (p: OutgoingPublish & { id: number }): void {
    this.#held.delete(p.id)
    const sink = this.#sink
    if (this.#closed || sink === undefined) return
    if (sink.ready() && this.#inflight.size < this.#window) {
      this.#send(sink, p)
      return
    }
    this.#remember(p)
    this.#toStore()
    this.#cursor = 0
    this.kick()
  }

  /** A refused publish that was dead-lettered and removed from the store (or is left for the next start). */
  forget (id: number): void {
    this.#held.delete(id)
  }

  /** Sends what waits in memory or in the store, while the sink is ready and the window has room. */
  kick (): void {
    if (this.#pumping !== undefined) { this.#again = true; return }
    const sink = this.#sink
    while (this.#queue.length > 0 && !this.#closed && sink?.ready() === true && this.#inflight.size < this.#window) {
      const p = this.#queue.shift() as OutgoingPublish & { id: number }
      this.#queuedBytes -= p.payload.length
      this.#send(sink, p)
    }
    if (!this.#backlog || this.#closed || this.#sink?.ready() !== true) return
    this.#pumping = this.#pump().catch(() => {
      // The store failed to read: leave the backlog flagged; the next ack or connect tries again.
    }).finally(() => {
      this.#pumping = undefined
      if (this.#again) { this.#again = false; this.kick() }
    })
  }

  async #pump (): Promise<void> {
    for (;;) {
      this.#again = false
      const sink = this.#sink as PublishSink
      const room = this.#window - this.#inflight.size
      if (!this.#backlog || this.#closed || !sink.ready() || room <= 0) return
      // Reads only what lies past the cursor: payloads in flight are not loaded a second time.
      const gone = new Set<number>()
      this.#removedDuringRead = gone
      let pending
      try {
        pending = await this.#store.pendingPublishes({ afterId: this.#cursor, limit: room })
      } finally {
        this.#removedDuringRead = undefined
      }
      let sent = 0
      for (const p of pending) {
        if (!sink.ready()) { this.#again = false; return }
        this.#cursor = p.id
        // Sent directly by offer() before the backlog began, or acknowledged and being removed.
        // Refused and waiting for its retry or dead letter: left alone too.
        // Acknowledged and removed while this read ran: the read saw it before its removal.
        if (this.#inflight.has(p.id) || this.#removing.has(p.id) || this.#held.has(p.id) || gone.has(p.id)) continue
        this.#send(sink, { topic: p.topic, payload: p.payload, qos: 1, retain: p.retain, id: p.id, ...this.#origin.get(p.id) })
        sent++
      }
      // Everything the store holds has been handed over: new publishes may go out directly.
      if (pending.length < room && !this.#again) { this.#backlog = false; return }
      if (sent === 0 && pending.length === 0 && !this.#again) return
    }
  }

  #send (sink: PublishSink, p: OutgoingPublish & { id: number }): void {
    this.#inflight.add(p.id)
    this.#origin.delete(p.id)
    this.#onInflight(this.#inflight.size)
    sink.send(p, (err, refused) => {
      this.#inflight.delete(p.id)
      this.#onInflight(this.#inflight.size)
      if (refused === true) {
        this.#held.add(p.id)
        this.kick()
        return
      }
      if (err !== undefined) {
        // Never acknowledged (the client was closed): it stays in the store, read again from the start.
        this.#toStore()
        this.#cursor = 0
        return
      }
      this.#acknowledged(p.id)
      this.kick()
    })
  }

  #acknowledged (id: number): void {
    this.#removing.add(id)
    const removal = this.#store.removePublish(id).catch(() => {}).finally(() => {
      this.#removing.delete(id)
      this.#removedDuringRead?.add(id)
    })
    this.#removals.add(removal)
    void removal.finally(() => this.#removals.delete(removal))
  }

  /** Stops sending and waits for removals of acknowledged publishes, so the store closes last. */
  async close (): Promise<void> {
    this.#closed = true
    this.#queue = []
    await this.#pumping
    await Promise.all(this.#removals)
  }
}
