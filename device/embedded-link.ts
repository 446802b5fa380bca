// The trigger link when the trigger broker is the agent's own aedes: no MQTT client in between.
// A sensor's QoS 1 publish is answered only after the invocations it triggered are committed,
// so a crash of the agent (and with it the broker) before that leaves the message with the
// sensor, which sends it again when it reconnects. A commit that fails gets no PUBACK: aedes
// closes that sensor's connection (MQTT 3.1.1 has no negative acknowledgement) and the
// sensor sends the message again after it reconnects.
import type { EmbeddedBroker } from './broker.js'
import type { TriggerLink } from './mqtt-link.js'
import type { OutboxStore } from './store/index.js'
import { DurablePublishes } from './durable-publishes.js'
import type { OutgoingPublish } from './durable-publishes.js'
import type { OnTriggerMessage } from './trigger-message.js'

export class EmbeddedLink implements TriggerLink {
  readonly #broker: EmbeddedBroker
  readonly #publishes: DurablePublishes
  #closing = false
  readonly #onMessage: OnTriggerMessage

  constructor (broker: EmbeddedBroker, store: OutboxStore, onMessage: OnTriggerMessage, onInflight?: (n: number) => void) {
    this.#broker = broker
    this.#publishes = new DurablePublishes(store, onInflight)
    this.#publishes.attach({
      ready: () => !this.#closing,
      send: (p, done) => { this.#deliver(p, done) }
    })
    this.#onMessage = onMessage
    broker.onPublish(async (msg) => {
      // Refused while closing: the publisher keeps the message for its next connection.
      if (this.#closing) throw new Error('agent closing')
      await onMessage(msg)
    })
  }

  async subscribe (): Promise<void> {}

  async start (): Promise<void> {
    this.#publishes.kick()
  }

  send (p: OutgoingPublish): void {
    if (p.qos === 1 && p.id !== undefined) this.#publishes.offer({ ...p, id: p.id })
    else this.#deliver(p, () => {})
  }

  #deliver (p: OutgoingPublish, done: (err?: Error) => void): void {
    const payload = Buffer.from(p.payload)
    // Publishes from inside skip aedes's publish hook; functions subscribed to the topic must
    // still see them, as they would through an external broker.
    if (!this.#closing) void this.#onMessage({ topic: p.topic, payload, qos: p.qos, retain: p.retain }).catch(() => {})
    this.#broker.publish(p.topic, payload, p.qos, p.retain, done)
  }

  stopAccepting (): void {
    this.#closing = true
  }

  async close (): Promise<void> {
    this.#closing = true
    await this.#publishes.close()
  }
}
