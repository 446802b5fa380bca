// The agent's connection to its trigger broker (a LAN broker, or the agent's embedded aedes):
// one MQTT.js client with a persistent session. It starts whether or not the broker is up
// and keeps reconnecting; QoS 1 messages are acknowledged only after their effects are
// committed (mqtt-ack-hold.ts). Functions' publishes leave through the same client; QoS 1
// ones wait in the store, not in memory, until connected (durable-publishes.ts).
import type { LogFn } from '../../src/log-priority.js'
import { readFileSync } from 'node:fs'
import mqtt from 'mqtt'
import type { IClientOptions, IConnackPacket, MqttClient } from 'mqtt'
import type { MqttConfig } from '../config/index.js'
import type { OutboxStore } from '../store/index.js'
import { DurablePublishes } from './durable-publishes.js'
import type { OutgoingPublish } from './durable-publishes.js'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { mqttClientLog } from '../../src/mqtt/client-log.js'
import { corkPerTurn } from '../../src/mqtt/cork-per-turn.js'
import { writeWholePackets } from '../../src/mqtt/whole-packets.js'
import { parseIncomingLean } from '../../src/mqtt/lean-parse.js'
import { oversizedBytes } from '../../src/mqtt/packet-cap.js'
import { OversizedTriggers } from '../../src/mqtt/oversized-trigger.js'
import { leanPublisher, storeWithoutCopy } from '../../src/mqtt/lean-publish.js'
import type { LeanPublish } from '../../src/mqtt/lean-publish.js'
import { holdAcks } from './mqtt-ack-hold.js'
import { endWithin } from './mqtt-end.js'
import type { AckHold } from './mqtt-ack-hold.js'
import type { OnTriggerMessage, SubscribeHooks, TriggerLink, TriggerMessage, TriggerSubscription } from './trigger-link.js'
import type { FunctionMetrics } from '../metrics/index.js'
import { hopProperties, RecentPublishes } from './hops.js'
import { publishProperties } from './request-response.js'
import { BrokerLimits, MQTT_MAX_PACKET_BYTES, PACKET_TOO_LARGE, protocolOptions, publishPacketBytes, refusalOf } from './publish-limits.js'
import type { Refusal } from './publish-limits.js'
import { PublishRefusals } from './publish-refusals.js'
import { ResendStore } from './resend-store.js'
import { refusesCredentials } from '../sync/connect-refusal.js'

export interface LinkOptions {
  url: string
  config: MqttConfig
  /** Called for every message; its promise settles once the message's effects are durable. */
  onMessage: OnTriggerMessage
  log: LogFn
  /** Told each time the connection comes up (true) or goes down (false). */
  onState?: (up: boolean) => void
  /** Told how many QoS 1 publishes are handed to the client and not yet acknowledged. */
  onInflight?: (n: number) => void
  /** Counts refused publishes (publishes_refused_total). */
  metrics?: FunctionMetrics
}

/** A publish's MQTT 5 request properties when it has none: shared, not made per publish. */
const NO_REQUEST: ReturnType<typeof publishProperties> = Object.freeze({})

/** How long start() waits for the first connection attempt before the agent goes on without it. */
export const FIRST_ATTEMPT_MS = 10_000

export class MqttLink implements TriggerLink {
  readonly client: MqttClient
  #closing = false
  #sentQoS0Dropped = 0
  #up = false
  /** Whether the broker has our subscriptions (a session it kept, or a SUBACK this run). */
  #subscribed = false
  #filters = new Map<string, TriggerSubscription>()
  #hooks: SubscribeHooks = {}
  #sessionPresent = false
  #subscribing: Promise<void> | undefined
  readonly #publishes: DurablePublishes
  /** client.publish() without its per-call option merging (lean-publish.ts). */
  #publish: LeanPublish = () => {}
  #gate: AckHold = { held: 0, failed: 0 }
  readonly #opts: LinkOptions
  readonly #limits: BrokerLimits
  readonly #refusals: PublishRefusals
  /** W9's fallback while the link speaks MQTT 3.1.1 (hops.ts). */
  readonly #recent = new RecentPublishes()
  /** Connections so far, counted at each CONNACK, and whether the last one resumed the session (processed once). */
  #connection = 0
  #resumed = false

  private constructor (client: MqttClient, store: OutboxStore, opts: LinkOptions) {
    this.client = client
    this.#opts = opts
    this.#limits = new BrokerLimits(opts.config.maxPacketBytes)
    this.#refusals = new PublishRefusals({
      store,
      metrics: opts.metrics,
      log: opts.log,
      now: () => Date.now(),
      retryDelayMs: (n) => opts.config.reconnectMs * 2 ** (n - 1)
    })
    this.#publishes = new DurablePublishes(store, opts.onInflight)
    this.#publishes.attach({
      // Only after a CONNACK (connected): the size check needs the broker's Maximum Packet Size.
      ready: () => this.client.connected && !this.client.disconnecting,
      send: (p, done) => { this.#transmit(p, done) }
    })
  }

  /** Builds the client without connecting; start() connects. */
  static create (opts: LinkOptions, store: OutboxStore): MqttLink {
    const c = opts.config
    const options: IClientOptions = {
      clientId: c.clientId,
      clean: false,
      keepalive: c.keepaliveSec,
      reconnectPeriod: c.reconnectMs,
      connectTimeout: FIRST_ATTEMPT_MS,
      // Subscriptions are made on connect by this link, only when the broker has no session.
      resubscribe: false,
      // A QoS 0 publish while away is dropped and counted, never queued in memory.
      queueQoSZero: false,
      // QoS 1 publishes sent again after a reconnect carry DUP=1.
      outgoingStore: new ResendStore(),
      username: c.username,
      password: c.password,
      rejectUnauthorized: c.rejectUnauthorized,
      ca: c.caFile === undefined ? undefined : readFileSync(c.caFile),
      cert: c.certFile === undefined ? undefined : readFileSync(c.certFile),
      key: c.keyFile === undefined ? undefined : readFileSync(c.keyFile),
      manualConnect: true,
      // MQTT.js's default pre-builds 65,536 two-byte packet-id Buffers (mqtt-packet's number
      // cache, process-wide): 8 MiB of the agent's idle heap, for no speed it measured.
      writeCache: false,
      log: mqttClientLog(),
      // A PINGREQ every keepalive whatever else was sent, instead of MQTT.js clearing and
      // setting its keepalive timer again on every PUBACK it receives (once per QoS 1 publish
      // on the relay path). Silence is still detected: no PINGRESP in 1.5x keepalive ends the connection.
      reschedulePings: false,
      ...protocolOptions(c.protocolVersion)
    }
    // The agent's own cap on incoming packets (src/mqtt/packet-cap.ts); under MQTT 5 the broker is
    // told it as Maximum Packet Size (MQTT 5 section 3.1.2.11.4) and does not send larger ones.
    const cap = c.maxPacketBytes < MQTT_MAX_PACKET_BYTES ? c.maxPacketBytes : undefined
    if (cap !== undefined && options.properties !== undefined) options.properties.maximumPacketSize = cap
    const link = new MqttLink(mqtt.connect(opts.url, options), store, opts)
    // A trigger's PUBACK, the publishes its commit released and the next ones a PUBACK let
    // through leave in one socket write per event-loop turn, not one each.
    corkPerTurn(link.client)
    // Each packet reaches the socket as one Buffer, not a write per field.
    writeWholePackets(link.client)
    // A PUBLISH or PUBACK whole in a socket chunk is read in one pass, the rest by mqtt-packet.
    // A packet neither can read ends its connection (MQTT 5 section 4.13): MQTT.js would keep it
    // and mqtt-packet read on out of step until the keepalive gave up.
    parseIncomingLean(link.client, (err, stream) => {
      const tooLarge = (err as { code?: unknown }).code === ErrorCodes.BROKER_PACKET_TOO_LARGE
      opts.log(`${tooLarge ? ErrorCodes.BROKER_PACKET_TOO_LARGE : ErrorCodes.BROKER_MALFORMED}: the trigger broker ${opts.url} sent a ${tooLarge ? 'packet too large to read' : 'malformed packet'} (${err.message}); closing the connection and reconnecting`, 'warning')
      stream?.destroy()
    }, cap)
    const oversized = new OversizedTriggers({ commit: async (u) => await store.commit(u), log: opts.log, now: () => Date.now(), maxBytes: c.maxPacketBytes })
    // A QoS 1 publish is stored by a shallow copy (its payload is the fresh Buffer #transmit
    // makes), and published without MQTT.js's option merging.
    storeWithoutCopy(link.client)
    link.#publish = leanPublisher(link.client)
    // Before #watch: the CONNACK's limits are known before publishes are sent on connect.
    link.#limits.attach(link.client, opts.log)
    // Counted on the CONNACK itself: a resumed session's messages may arrive before 'connect'.
    link.client.on('packetreceive', (p) => {
      if (p.cmd !== 'connack') return
      link.#connection++
      link.#resumed = (p as IConnackPacket).sessionPresent
    })
    const session = `mqtt-link ${opts.url} ${c.clientId}`
    // PUBACKs written per packet id (MessageOrigin.pubacks): at most 65,535 entries.
    const pubacks = new Map<number, number>()
    link.#gate = holdAcks(link.client, {
      // The trigger's promise itself, not an async wrapper around it (one promise fewer per message).
      onMessage: (msg) => {
        try {
          // A PUBLISH over the cap, skipped unread: dead-lettered, then acknowledged like any trigger.
          const skipped = oversizedBytes(msg.payload)
          if (skipped !== undefined) return oversized.take({ ...msg, packetId: msg.origin?.packetId, dup: msg.origin?.dup }, skipped)
          return opts.onMessage(link.#withHop(msg))
        } catch (err) {
          return Promise.reject(err)
        }
      },
      log: opts.log,
      closing: () => link.#closing,
      origin: (packetId, dup) => ({ session, connection: link.#connection, resumed: link.#resumed, persistent: true, packetId, dup, pubacks }),
      written: (packetId) => { pubacks.set(packetId, (pubacks.get(packetId) ?? 0) + 1) }
    })
    link.#watch()
    return link
  }

  /** create() then start(): resolves connected, or degraded if the broker is not up. */
  static async connect (opts: LinkOptions, store: OutboxStore): Promise<MqttLink> {
    const link = MqttLink.create(opts, store)
    await link.start()
    return link
  }

  /** Session Present of the last CONNACK (MQTT 3.1.1 section 3.2.2.2); false before the first. */
  get sessionPresent (): boolean {
    return this.#sessionPresent
  }

  get up (): boolean { return this.#up }

  /** Logs each change of state once (not each retry) and tells onState. */
  #watch (): void {
    const { client } = this
    const url = this.#opts.url
    let lastError: Error | undefined
    client.on('error', (err) => { lastError = err })
    client.on('connect', (connack: IConnackPacket) => {
      this.#up = true
      lastError = undefined
      this.#sessionPresent = connack.sessionPresent
      if (!connack.sessionPresent) this.#subscribed = false
      this.#opts.log(`trigger broker: connected to ${url}${connack.sessionPresent ? ' (session resumed)' : ''}`, 'info')
      this.#opts.onState?.(true)
      void this.#subscribeNow().then(() => this.#publishes.kick())
    })
    // Down is reported once per outage: when a live connection is lost, or when the first
    // attempt of a link that was never up fails; retries in between stay quiet.
    let reported = false
    client.on('close', () => {
      if (this.#closing || reported || this.#limits.fallingBack) return
      reported = true
      const refused = lastError !== undefined && refusesCredentials(lastError)
      const why = lastError === undefined
        ? ''
        : refused ? ` (${ErrorCodes.UNAUTHORIZED}: refused: ${lastError.message}; check mqtt.username and mqtt.password (LAMBKIN_MQTT_USERNAME, LAMBKIN_MQTT_PASSWORD))` : ` (${lastError.message})`
      const every = this.#opts.config.reconnectMs
      if (this.#up) this.#opts.log(`trigger broker: connection to ${url} lost${why}; retrying every ${every} ms, QoS 1 publishes wait in the store`, 'warning')
      else this.#opts.log(`trigger broker: ${url} is not ${refused ? 'usable' : 'reachable'}${why}; the agent runs without it and retries every ${every} ms`, 'warning')
      this.#up = false
      this.#opts.onState?.(false)
    })
    client.on('connect', () => { reported = false })
  }

  /** Connects; resolves after the first attempt succeeded (and subscribed) or failed. */
  async start (): Promise<void> {
    const { client } = this
    await new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = (): void => {
        clearTimeout(timer)
        client.off('close', onClose)
        client.off('connect', onConnect)
        resolve()
      }
      const onConnect = (): void => { void this.#subscribeNow().finally(done) }
      // A broker that refuses MQTT 5 is asked again in 3.1.1 (publish-limits.ts): not a failure yet.
      const onClose = (): void => { if (!this.#limits.fallingBack) done() }
      timer = setTimeout(done, FIRST_ATTEMPT_MS)
      timer.unref()
      client.once('connect', onConnect)
      client.on('close', onClose)
      client.connect()
    })
  }

  async subscribe (subs: Map<string, TriggerSubscription>, hooks: SubscribeHooks = {}): Promise<void> {
    this.#filters = new Map(subs)
    this.#hooks = hooks
    this.#subscribed = false
    if (this.client.connected) await this.#subscribeNow()
  }

  /**
   * Subscribes with each filter as given (a `$share/{name}/` filter too, MQTT 5 section 4.8.2).
   * Retain Handling (MQTT 5 section 3.8.3.1) goes in the SUBSCRIBE options when the connection
   * speaks MQTT 5; on MQTT 3.1.1 there is no such option and MqttTriggers drops the retained
   * messages a trigger did not want (told of the session through hooks.prepare). Filters the
   * broker refuses are reported to hooks.done as LAMBKIN_SUBSCRIBE_REFUSED and not asked again
   * on this connection; a connection lost meanwhile leaves the round to the next connect.
   */
  async #subscribeNow (): Promise<void> {
    if (this.#subscribed || this.#filters.size === 0 || !this.client.connected) return
    this.#subscribing ??= (async () => {
      const subs = [...this.#filters]
      const hooks = this.#hooks
      try {
        await hooks.prepare?.(this.#sessionPresent)
        const v5 = this.client.options.protocolVersion === 5
        // One SUBSCRIBE per filter: MQTT.js rejects a whole SUBSCRIBE when SUBACK refuses any of
        // its filters (reason code >= 0x80), and the log must name the ones that were refused.
        const results = await Promise.allSettled(subs.map(async ([f, s]) => {
          await this.client.subscribeAsync(f, v5 ? { qos: s.qos, rh: s.retainHandling } : { qos: s.qos })
        }))
        // Cut off in the middle: nothing is known, the next connect subscribes again.
        if (!this.client.connected) return
        this.#subscribed = true
        const refused = subs.filter((_, i) => results[i].status === 'rejected').map(([f]) => f)
        const granted = subs.filter((_, i) => results[i].status === 'fulfilled').map(([f]) => f)
        let error: LambkinError | undefined
        if (refused.length > 0) {
          const why = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error
          error = new LambkinError(ErrorCodes.SUBSCRIBE_REFUSED, `the trigger broker refused the subscription to ${refused.join(', ')} (${why.message}); triggers on ${refused.length === 1 ? 'it' : 'them'} will not fire. Check the filter and the broker's ACL`, { details: { filters: refused } })
          if (hooks.done === undefined) this.#opts.log(`${error.code}: ${error.message}`)
        }
        await hooks.done?.(granted, error)
      } catch (err) {
        // A hook's store write failed: the next connect tries again.
        this.#opts.log(`trigger broker: subscribing failed: ${errorMessage(err)}`, 'warning')
      } finally {
        this.#subscribing = undefined
      }
    })()
    await this.#subscribing
  }

  /**
   * Sends a committed publish; a QoS 1 one goes through the store's window (durable-publishes.ts)
   * and leaves the store when the broker acknowledges it. A QoS 0 one goes now, or is dropped
   * and counted while not connected.
   */
  send (p: OutgoingPublish): void {
    if (p.qos === 0 || p.id === undefined) {
      if (!this.client.connected) {
        this.#sentQoS0Dropped++
        return
      }
      this.#transmit(p, () => {})
      return
    }
    this.#publishes.offer({ ...p, id: p.id })
  }

  /**
   * Puts one publish on the wire. Under MQTT 5 it carries its hop as user properties [W9];
   * under 3.1.1 its hop is remembered for when it comes back (hops.ts). One the broker will
   * never take (larger than min(mqtt.maxPacketBytes, CONNACK Maximum Packet Size), which would
   * close the connection; or refused with a PUBACK reason code) is answered with `refused` and
   * handed to publish-refusals.ts, which retries it or makes it a LAMBKIN_PUBLISH_REFUSED dead letter.
   */
  #transmit (p: OutgoingPublish, done: (err?: Error, refused?: boolean) => void): void {
    const v5 = this.client.options.protocolVersion === 5
    // Properties only under MQTT 5 (3.1.1 has none), and no request object when it sets no field.
    const userProperties = v5 && p.hop !== undefined ? hopProperties(p.hop) : undefined
    const request = v5 && (p.responseTopic !== undefined || p.correlationData !== undefined) ? publishProperties(p) : NO_REQUEST
    const size = publishPacketBytes(p.topic, p.payload, p.qos, v5 ? 5 : 4, userProperties, request)
    if (size > this.#limits.maxPacketBytes) {
      done(undefined, true)
      this.#refuse(p, { reasonCode: PACKET_TOO_LARGE, permanent: true, message: `its ${size}-byte packet is larger than the trigger broker's maximum packet size of ${this.#limits.maxPacketBytes} bytes` })
      return
    }
    if (!v5 && p.hop !== undefined) this.#recent.remember(p.topic, p.payload, p.hop)
    let properties: object | undefined
    if (userProperties !== undefined) properties = request === NO_REQUEST ? { userProperties } : Object.assign({ userProperties }, request)
    else if (request !== NO_REQUEST) properties = request
    // A copy of the payload: the outgoing store keeps this very Buffer until the PUBACK.
    this.#publish(p.topic, typeof p.payload === 'string' ? p.payload : Buffer.from(p.payload), p.qos, p.retain, properties, (err) => {
      if (err == null) { done(); return }
      const refusal = refusalOf(err)
      if (refusal === undefined) { done(err); return }
      done(undefined, true)
      this.#refuse(p, refusal)
    })
  }

  #refuse (p: OutgoingPublish, r: Refusal): void {
    this.#refusals.refused(p, r, (q) => { if (q.id !== undefined) this.#publishes.retry({ ...q, id: q.id }) }, (id) => this.#publishes.forget(id))
  }

  /** Under MQTT 3.1.1 a message this agent published carries the hop it was sent with [W9]. */
  #withHop (msg: TriggerMessage): TriggerMessage {
    if (this.client.options.protocolVersion === 5) return msg
    const hop = this.#recent.lookup(msg.topic, msg.payload)
    return hop === undefined ? msg : { ...msg, userProperties: hopProperties(hop) }
  }

  get droppedQoS0 (): number { return this.#sentQoS0Dropped }

  /**
   * What this link has in flight, each bounded so that overload waits at the broker: `held`,
   * QoS 1 messages taken and not yet acknowledged (MAX_HELD, the Receive Maximum it announces);
   * `publishing`, QoS 1 publishes handed to the client awaiting their PUBACK (PUBLISH_WINDOW);
   * `queued`, committed publishes waiting in memory behind them (MAX_QUEUED).
   */
  get inFlight (): { held: number, publishing: number, queued: number } {
    return { held: this.#gate.held, publishing: this.#publishes.inflight, queued: this.#publishes.queued }
  }

  stopAccepting (): void {
    this.#closing = true
  }

  async close (): Promise<void> {
    this.#closing = true
    // A graceful end waits for in-flight QoS 1 publishes to be acknowledged; with the broker
    // gone that never happens. They are in the store and go again on the next start, so wait
    // a little while connected, then let go.
    if (this.client.connected) {
      await endWithin(this.client, 2000)
    } else {
      await this.client.endAsync(true)
    }
    await this.#publishes.close()
    await this.#refusals.settled()
  }
}
