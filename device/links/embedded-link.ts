// The trigger link when the trigger broker is the agent's own aedes: no MQTT client in between.
// A sensor's QoS 1 publish is answered only after the invocations it triggered are committed,
// so a crash of the agent (and with it the broker) before that leaves the message with the
// sensor, which sends it again when it reconnects. A commit that fails gets no PUBACK: aedes
// closes that sensor's connection (MQTT 3.1.1 has no negative acknowledgement) and the
// sensor sends the message again after it reconnects.
import type { EmbeddedBroker } from './broker/index.js'
import type { OutboxStore } from '../store/index.js'
import { DurablePublishes } from './durable-publishes.js'
import type { OutgoingPublish } from './durable-publishes.js'
import type { OnTriggerMessage, SubscribeHooks, TriggerLink, TriggerSubscription } from './trigger-link.js'
import { hopProperties } from './hops.js'

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
      // Taken as it is published, never replayed from the retained store: to the function it
      // is a live message, as a subscriber sees one (MQTT 5 section 3.3.1.3, Retain As
      // Published off), whatever the publisher's retain flag.
      await onMessage({ ...msg, retain: false })
    })
  }

  /**
   * Nothing to subscribe: the agent sees every publish in aedes's publish hook, so a `$share/`
   * filter (one agent, the only member of its group) and any retainHandling hold by themselves.
   */
  async subscribe (subs: Map<string, TriggerSubscription>, hooks: SubscribeHooks = {}): Promise<void> {
    await hooks.prepare?.(false)
    await hooks.done?.([...subs.keys()], undefined)
  }

  /** No session: messages never reach the agent through a subscription. */
  get sessionPresent (): boolean { return false }

  /** Every client publish passes the hook, whether a trigger matches it or not. */
  readonly seesAllTopics = true

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
    // still see them, as they would through an external broker, with the publish's hop [W9].
    if (!this.#closing) {
      void this.#onMessage({
        topic: p.topic,
        payload,
        qos: p.qos,
        retain: false,
        userProperties: p.hop === undefined ? undefined : hopProperties(p.hop)
      }).catch(() => {})
    }
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
