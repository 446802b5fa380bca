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
import type { OnTriggerMessage } from './trigger-message.js'
import type { FunctionMetrics } from './metrics/index.js'
import { hopProperties, RecentPublishes } from './hops.js'
import { BrokerLimits, PACKET_TOO_LARGE, protocolOptions, publishPacketBytes, refusalOf } from './publish-limits.js'
import { PublishRefusals } from './publish-refusals.js'

export interface LinkOptions {
  url: string
  config: MqttConfig
  /** Called for every message; its promise settles once the message's effects are durable. */
  onMessage: OnTriggerMessage
  log: (line: string) => void
  /** Counts refused publishes (publishes_refused_total). */
  metrics?: FunctionMetrics
}

/** QoS 1 messages taken in before their PUBACK has been released (see #holdAcks). */
const MAX_HELD = 256

/** How the agent meets its trigger broker: over MQTT, or in-process (embedded-link.ts). */
export interface TriggerLink {
  subscribe: (filters: Map<string, 0 | 1>) => Promise<void>
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
  readonly #limits: BrokerLimits
  readonly #refusals: PublishRefusals
  /** W9's fallback while the link speaks MQTT 3.1.1 (hops.ts). */
  readonly #recent = new RecentPublishes()

  private constructor (client: MqttClient, store: OutboxStore, opts: LinkOptions) {
    this.client = client
    this.#publishes = new DurablePublishes(store)
    this.#limits = new BrokerLimits(opts.config.maxPacketBytes)
    this.#refusals = new PublishRefusals({ store, metrics: opts.metrics, log: opts.log, now: () => Date.now(), retryDelayMs: (n) => opts.config.reconnectMs * 2 ** (n - 1) })
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
      manualConnect: true,
      ...protocolOptions(c.protocolVersion)
    }
    const client = mqtt.connect(opts.url, options)
    const link = new MqttLink(client, store, opts)
    link.#limits.attach(client, opts.log)
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

  async subscribe (filters: Map<string, 0 | 1>): Promise<void> {
    if (filters.size === 0) return
    const subs = Object.fromEntries([...filters].map(([f, qos]) => [f, { qos }]))
    await this.client.subscribeAsync(subs)
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
      let userProperties = packet.properties?.userProperties
      if (this.#speaks311) userProperties = this.#remembered(packet.topic, payload) ?? userProperties
      const work = opts.onMessage({ topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, userProperties })
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

  /**
   * Sends a committed publish; a QoS 1 one leaves the store when the broker acknowledges it.
   * Under MQTT 5 it carries its hop as user properties [W9]. One the broker will never take
   * (larger than its maximum packet size, which would close the connection; or refused with
   * a PUBACK reason code) is dead-lettered instead (publish-refusals.ts).
   */
  send (p: OutgoingPublish): void {
    if (p.qos === 0 && !this.client.connected) {
      this.#sentQoS0Dropped++
      return
    }
    const v5 = this.client.options.protocolVersion === 5
    const userProperties = p.hop === undefined ? undefined : hopProperties(p.hop)
    const size = publishPacketBytes(p.topic, p.payload, p.qos, v5 ? 5 : 4, v5 ? userProperties : undefined)
    if (size > this.#limits.maxPacketBytes) {
      this.#refusals.refused(p, { reasonCode: PACKET_TOO_LARGE, permanent: true, message: `its ${size}-byte packet is larger than the trigger broker's maximum packet size of ${this.#limits.maxPacketBytes} bytes` }, (q) => this.send(q))
      return
    }
    if (!v5 && p.hop !== undefined) this.#recent.remember(p.topic, p.payload, p.hop)
    const props = v5 && userProperties !== undefined ? { properties: { userProperties } } : {}
    this.client.publish(p.topic, typeof p.payload === 'string' ? p.payload : Buffer.from(p.payload), { qos: p.qos, retain: p.retain, ...props }, (err) => {
      if (err == null) { this.#publishes.acknowledged(p); return }
      const refusal = refusalOf(err)
      if (refusal !== undefined) this.#refusals.refused(p, refusal, (q) => this.send(q))
    })
  }

  get #speaks311 (): boolean { return this.client.options.protocolVersion !== 5 }

  /** Under MQTT 3.1.1 a message this agent published carries the hop it was sent with [W9]. */
  #remembered (topic: string, payload: Buffer): Record<string, string> | undefined {
    const hop = this.#recent.lookup(topic, payload)
    return hop === undefined ? undefined : hopProperties(hop)
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
    await this.#refusals.settled()
  }
}
