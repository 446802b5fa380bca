// The agent's connection to its trigger broker (a LAN broker, or the agent's embedded aedes):
// one MQTT.js client with a persistent session, whose handleMessage answers a QoS 1 message
// only after the invocations it triggered are committed, so a crash before that means the
// broker delivers it again. Functions' publishes leave through the same client; QoS 1 ones
// stay in the store until the broker's PUBACK.
import { readFileSync } from 'node:fs'
import mqtt from 'mqtt'
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt'
import { ErrorCodes, LambkinError } from '../src/errors.js'
import type { MqttConfig } from './config/index.js'
import type { OutboxStore } from './store/index.js'
import { DurablePublishes } from './durable-publishes.js'
import type { OutgoingPublish } from './durable-publishes.js'
import type { OnTriggerMessage, TriggerSubscription } from './trigger-message.js'

export interface LinkOptions {
  url: string
  config: MqttConfig
  /** Called for every message; its promise settles once the message's effects are durable. */
  onMessage: OnTriggerMessage
  log: (line: string) => void
}

/** QoS 1 messages taken in before their PUBACK has been released (see #holdAcks). */
const MAX_HELD = 256

/** How the agent meets its trigger broker: over MQTT, or in-process (embedded-link.ts). */
export interface TriggerLink {
  subscribe: (subs: Map<string, TriggerSubscription>) => Promise<void>
  /** True when the broker resumed the agent's session, so its subscriptions already exist. */
  readonly sessionPresent: boolean
  /** True when the link sees every publish, not only subscribed ones (the embedded broker). */
  readonly seesAllTopics?: boolean
  send: (p: OutgoingPublish) => void
  resendPending: () => Promise<number>
  stopAccepting: () => void
  close: () => Promise<void>
}

export class MqttLink implements TriggerLink {
  readonly client: MqttClient
  #closing = false
  #sentQoS0Dropped = 0
  readonly #publishes: DurablePublishes

  private constructor (client: MqttClient, store: OutboxStore) {
    this.client = client
    this.#publishes = new DurablePublishes(store)
  }

  static async connect (opts: LinkOptions, store: OutboxStore): Promise<MqttLink> {
    const c = opts.config
    const options: IClientOptions = {
      clientId: c.clientId,
      clean: false,
      keepalive: c.keepaliveSec,
      reconnectPeriod: c.reconnectMs,
      connectTimeout: 10_000,
      username: c.username,
      password: c.password,
      rejectUnauthorized: c.rejectUnauthorized,
      ca: c.caFile === undefined ? undefined : readFileSync(c.caFile),
      cert: c.certFile === undefined ? undefined : readFileSync(c.certFile),
      key: c.keyFile === undefined ? undefined : readFileSync(c.keyFile),
      manualConnect: true
    }
    const client = mqtt.connect(opts.url, options)
    const link = new MqttLink(client, store)
    // Set before connecting: a persistent session may deliver queued messages at once.
    link.#holdAcks(opts)
    client.on('error', (err) => opts.log(`trigger broker: ${err.message}`))
    client.on('reconnect', () => opts.log(`trigger broker: reconnecting to ${opts.url}`))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.end(true)
        reject(new LambkinError(ErrorCodes.BROKER_UNAVAILABLE, `could not connect to the trigger broker at ${opts.url} within 10 s; check mqtt.url and that the broker is running`))
      }, 10_000)
      client.once('connect', () => { clearTimeout(timer); resolve() })
      client.connect()
    })
    return link
  }

  /**
   * Subscribes with each filter as given (a `$share/{name}/` filter too, MQTT 5 section 4.8.2).
   * Retain Handling (MQTT 5 section 3.8.3.1) goes in the SUBSCRIBE options when the connection
   * speaks MQTT 5; on MQTT 3.1.1 there is no such option and MqttTriggers drops the retained
   * messages a trigger did not want.
   */
  async subscribe (subs: Map<string, TriggerSubscription>): Promise<void> {
    if (subs.size === 0) return
    const v5 = this.client.options.protocolVersion === 5
    // One SUBSCRIBE per filter: MQTT.js rejects a whole SUBSCRIBE when SUBACK refuses any of
    // its filters (reason code >= 0x80), and the log must name the ones that were refused.
    const results = await Promise.allSettled([...subs].map(async ([f, s]) => {
      await this.client.subscribeAsync(f, v5 ? { qos: s.qos, rh: s.retainHandling } : { qos: s.qos })
    }))
    const refused = [...subs.keys()].filter((_, i) => results[i].status === 'rejected')
    if (refused.length > 0) {
      const why = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error
      throw new LambkinError(ErrorCodes.SUBSCRIBE_REFUSED, `the trigger broker refused the subscription to ${refused.join(', ')} (${why.message}); triggers on ${refused.length === 1 ? 'it' : 'them'} will not fire. Check the filter and the broker's ACL`, { details: { filters: refused } })
    }
  }

  get sessionPresent (): boolean {
    // MQTT.js keeps the last CONNACK in a field its types mark private; read-only, and a
    // missing field reads as "no session", which at worst re-delivers retained messages.
    const connack = (this.client as unknown as { connackPacket?: { sessionPresent?: unknown } }).connackPacket
    return connack?.sessionPresent === true
  }

  /**
   * MQTT.js hands a connection's messages to handleMessage one at a time and sends a QoS 1
   * PUBACK when its callback runs; waiting there for each commit would serialise sandbox
   * call, LevelDB write and network round trip per message. Instead the callback runs at
   * once and the PUBACK it produces is held until that message's effects are committed.
   * PUBACKs leave in arrival order (MQTT 3.1.1 section 4.6) and at most MAX_HELD wait, after
   * which the next message is not taken until one is released. This reaches into MQTT.js's
   * _sendPacket (pinned major version 5); test/device/agent.test.ts and the kill -9 e2e test
   * guard the guarantee: nothing is acknowledged before it is durable.
   */
  #holdAcks (opts: LinkOptions): void {
    const client = this.client
    // MQTT.js's private packet writer; see the comment above for why it is wrapped.
    const internals = client as unknown as { _sendPacket: (packet: { cmd: string, messageId?: number }, cb?: () => void, ...rest: unknown[]) => void }
    const original = internals._sendPacket.bind(client)
    type Held = { id: number, durable: boolean, failed: boolean, packet?: { cmd: string, messageId?: number } }
    const held: Held[] = []
    // Messages whose PUBACK MQTT.js has not produced yet, by message id (ids are unique in flight).
    const awaitingAck = new Map<number, Held>()
    let waiting: (() => void) | undefined
    const release = (): void => {
      while (held.length > 0 && (held[0].durable || held[0].failed) && held[0].packet !== undefined) {
        const h = held.shift() as (typeof held)[number]
        // A message whose effects could not be stored is not acknowledged: the broker sends
        // it again on the next connection.
        if (!h.failed) original(h.packet as { cmd: string })
      }
      if (held.length < MAX_HELD && waiting !== undefined) { const go = waiting; waiting = undefined; go() }
    }
    internals._sendPacket = (packet, cb, ...rest) => {
      const h = packet.cmd === 'puback' && packet.messageId !== undefined ? awaitingAck.get(packet.messageId) : undefined
      if (h === undefined) { original(packet, cb, ...rest); return }
      awaitingAck.delete(h.id)
      h.packet = packet
      cb?.()
      release()
    }
    // Acks held for a connection that is gone mean nothing to the next one; the broker
    // redelivers those messages (at least once, as the design allows).
    client.on('close', () => { held.length = 0; awaitingAck.clear(); const go = waiting; waiting = undefined; go?.() })
    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
      if (this.#closing) {
        // Not acknowledged: the broker keeps it for the next session.
        callback(new Error('agent closing'))
        return
      }
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      const work = opts.onMessage({ topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, userProperties: packet.properties?.userProperties })
      if (packet.qos !== 1 || packet.messageId === undefined) {
        work.then(() => callback(), (err: Error) => callback(err))
        return
      }
      const h: Held = { id: packet.messageId, durable: false, failed: false }
      held.push(h)
      awaitingAck.set(h.id, h)
      work.then(() => { h.durable = true }, (err: Error) => { h.failed = true; opts.log(`message on ${packet.topic} not acknowledged: ${err.message}`) })
        .finally(release)
      if (held.length < MAX_HELD) callback()
      else waiting = () => callback()
    }
  }

  /** Sends a committed publish; a QoS 1 one leaves the store when the broker acknowledges it. */
  send (p: OutgoingPublish): void {
    if (p.qos === 0 && !this.client.connected) {
      this.#sentQoS0Dropped++
      return
    }
    this.client.publish(p.topic, typeof p.payload === 'string' ? p.payload : Buffer.from(p.payload), { qos: p.qos, retain: p.retain }, (err) => {
      if (err == null) this.#publishes.acknowledged(p)
    })
  }

  /** Re-sends QoS 1 publishes a previous run committed but never saw acknowledged. */
  async resendPending (): Promise<number> {
    return await this.#publishes.resend((p) => this.send(p))
  }

  get droppedQoS0 (): number { return this.#sentQoS0Dropped }

  stopAccepting (): void {
    this.#closing = true
  }

  async close (): Promise<void> {
    this.#closing = true
    // A graceful end waits for in-flight QoS 1 publishes to be acknowledged; with the broker
    // gone that never happens. They are in the store and go again on the next start, so wait
    // a little while connected, then let go.
    if (this.client.connected) {
      const graceful = this.client.endAsync(false)
      const bounded = await Promise.race([graceful.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref())])
      if (!bounded) await this.client.endAsync(true)
    } else {
      await this.client.endAsync(true)
    }
    await this.#publishes.settled()
  }
}
