// What the trigger link does with a PUBLISH that packet-cap.ts skipped for being over
// mqtt.maxPacketBytes: one dead letter (source 'mqtt', the topic and the announced size, error
// LAMBKIN_BROKER_PACKET_TOO_LARGE), committed before the message is acknowledged, so the broker
// does not send it again and what is acknowledged is kept (docs/durability.md). No function runs.
import { ErrorCodes } from '../errors.js'

/** The dead-letter record committed for a skipped PUBLISH (device/store NewRecord's shape). */
export interface OversizedRecord {
  kind: 'dead-letter'
  time: number
  data: { source: 'mqtt', topic: string, qos: number, retain: boolean, packetBytes: number, error: { code: string, message: string, maxBytes: number } }
}

export interface OversizedTriggerOptions {
  /** Commits the records in one unit (the outbox store's commit). */
  commit: (unit: { records: OversizedRecord[] }) => Promise<unknown>
  log: (line: string, level?: 'warning') => void
  now: () => number
  maxBytes: number
}

/** Packet ids dead-lettered lately whose acknowledgement may have been lost, remembered for a redelivery (DUP). */
const REMEMBERED = 256

export class OversizedTriggers {
  readonly #o: OversizedTriggerOptions
  readonly #recent = new Map<number, string>()
  #count = 0

  constructor (opts: OversizedTriggerOptions) {
    this.#o = opts
  }

  /** How many skipped PUBLISH packets were dead-lettered since start. */
  get count (): number { return this.#count }

  /**
   * Dead-letters one skipped PUBLISH of `bytes` (its whole size); resolves once committed, which
   * is when its QoS 1 acknowledgement may go. A redelivery (DUP, the same packet id, topic and
   * size) of one this process already dead-lettered is acknowledged without a second dead letter.
   */
  async take (msg: { topic: string, qos: number, retain: boolean, packetId?: number, dup?: boolean }, bytes: number): Promise<void> {
    const key = `${msg.topic}\u0000${bytes}`
    if (msg.packetId !== undefined && msg.dup === true && this.#recent.get(msg.packetId) === key) return
    const { maxBytes } = this.#o
    const message = `the trigger broker sent a ${bytes}-byte PUBLISH on ${JSON.stringify(msg.topic)}, over mqtt.maxPacketBytes (${maxBytes}); its payload was skipped unread and the message dead-lettered`
    await this.#o.commit({
      records: [{
        kind: 'dead-letter',
        time: this.#o.now(),
        data: { source: 'mqtt', topic: msg.topic, qos: msg.qos, retain: msg.retain, packetBytes: bytes, error: { code: ErrorCodes.BROKER_PACKET_TOO_LARGE, message, maxBytes } }
      }]
    })
    if (msg.packetId !== undefined) {
      this.#recent.delete(msg.packetId)
      this.#recent.set(msg.packetId, key)
      if (this.#recent.size > REMEMBERED) this.#recent.delete(this.#recent.keys().next().value as number)
    }
    // Logged the first time and then every 100th.
    if (this.#count++ % 100 === 0) this.#o.log(`${ErrorCodes.BROKER_PACKET_TOO_LARGE}: ${message} (${this.#count} so far)`, 'warning')
  }
}
