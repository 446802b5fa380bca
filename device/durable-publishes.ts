// The store side of functions' QoS 1 publishes, shared by both trigger links: forget a publish
// once its broker acknowledged it (close() waits for those removals, so the store does not
// shut first), and re-send what a previous run committed but never saw acknowledged.
import type { Hop } from './hops.js'
import type { OutboxStore } from './store/index.js'

/**
 * A function's publish on its way to the trigger broker: `id` is its store id (QoS 1), `hop`
 * its place in a chain of functions [W9], `fn` the function that made it. Publishes re-sent
 * after a restart have neither `hop` nor `fn`.
 */
export interface OutgoingPublish { topic: string, payload: string | Uint8Array, qos: 0 | 1, retain: boolean, id?: number, hop?: Hop, fn?: string }

export class DurablePublishes {
  readonly #store: OutboxStore
  readonly #removals = new Set<Promise<void>>()

  constructor (store: OutboxStore) {
    this.#store = store
  }

  /** Call when the broker has acknowledged `p`; a publish without a store id is not kept. */
  acknowledged (p: OutgoingPublish): void {
    if (p.id === undefined) return
    const removal = this.#store.removePublish(p.id).catch(() => {})
    this.#removals.add(removal)
    void removal.finally(() => this.#removals.delete(removal))
  }

  async resend (send: (p: OutgoingPublish) => void): Promise<number> {
    const pending = await this.#store.pendingPublishes()
    for (const p of pending) send({ topic: p.topic, payload: p.payload, qos: p.qos === 0 ? 0 : 1, retain: p.retain, id: p.id })
    return pending.length
  }

  async settled (): Promise<void> {
    await Promise.all(this.#removals)
  }
}
