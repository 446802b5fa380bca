// The trigger link when the trigger broker is the agent's own aedes: no MQTT client in between.
// A sensor's QoS 1 publish is answered only after the invocations it triggered are committed,
// so a crash of the agent (and with it the broker) before that leaves the message with the
// sensor, which sends it again when it reconnects.
import type { EmbeddedBroker } from './broker.js'
import type { TriggerLink } from './mqtt-link.js'
import type { OutboxStore } from './store/index.js'
import { DurablePublishes } from './durable-publishes.js'
import type { OutgoingPublish } from './durable-publishes.js'
import type { OnTriggerMessage } from './trigger-message.js'
import { hopProperties } from './hops.js'

export class EmbeddedLink implements TriggerLink {
  readonly #broker: EmbeddedBroker
  readonly #publishes: DurablePublishes
  #closing = false
  readonly #onMessage: OnTriggerMessage

  constructor (broker: EmbeddedBroker, store: OutboxStore, onMessage: OnTriggerMessage) {
    this.#broker = broker
    this.#publishes = new DurablePublishes(store)
    this.#onMessage = onMessage
    broker.onPublish(async (msg) => {
      // Refused while closing: the publisher keeps the message for its next connection.
      if (this.#closing) throw new Error('agent closing')
      await onMessage(msg)
    })
  }

  async subscribe (): Promise<void> {}

  send (p: OutgoingPublish): void {
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : Buffer.from(p.payload)
    // Publishes from inside skip aedes's publish hook; functions subscribed to the topic must
    // still see them, as they would through an external broker, with the publish's hop [W9].
    if (!this.#closing) void this.#onMessage({ topic: p.topic, payload, qos: p.qos, retain: p.retain, userProperties: p.hop === undefined ? undefined : hopProperties(p.hop) })
    this.#broker.publish(p.topic, payload, p.qos, p.retain, (err) => {
      if (err === undefined) this.#publishes.acknowledged(p)
    })
  }

  async resendPending (): Promise<number> {
    return await this.#publishes.resend((p) => this.send(p))
  }

  stopAccepting (): void {
    this.#closing = true
  }

  async close (): Promise<void> {
    this.#closing = true
    await this.#publishes.settled()
  }
}
