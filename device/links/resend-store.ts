// The trigger link's MQTT.js outgoing store: MQTT.js's own in-memory store, except that a QoS 1
// PUBLISH it sends again on a new connection (one the last connection left unacknowledged)
// carries DUP=1. MQTT.js 5 resends the stored packet as it was first sent, DUP=0, which MQTT
// 3.1.1 section 3.3.1.1 [MQTT-3.3.1-1] and MQTT 5 section 3.3.1.1 forbid: a receiver may tell
// a re-delivery by the flag. Built on MQTT.js's public store API (the `outgoingStore` option).
import { Store } from 'mqtt'
import type { IStore } from 'mqtt'

type Packet = Parameters<IStore['put']>[0]
type Callback = Parameters<IStore['del']>[1]

export class ResendStore extends Store {
  /** What the store holds now, by packet id (MQTT.js's own map is private). */
  readonly #held = new Map<number, Packet>()

  override put (packet: Packet, cb: Parameters<IStore['put']>[1]): this {
    if (packet.messageId !== undefined) this.#held.set(packet.messageId, packet)
    return super.put(packet, cb)
  }

  override del (packet: Pick<Packet, 'messageId'>, cb: Callback): this {
    if (packet.messageId !== undefined) this.#held.delete(packet.messageId)
    return super.del(packet, cb)
  }

  /**
   * MQTT.js reads this only when a connection comes up, to send again every packet still
   * held: each PUBLISH among them has been (or may have been) sent before, so it is marked.
   */
  override createStream (): ReturnType<IStore['createStream']> {
    for (const p of this.#held.values()) if (p.cmd === 'publish') p.dup = true
    return super.createStream()
  }

  override close (cb: Parameters<IStore['close']>[0]): void {
    this.#held.clear()
    super.close(cb)
  }
}
