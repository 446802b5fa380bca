// The MqttLink's commit gate: a QoS 1 message's PUBACK leaves only once the message's effects
// are durable, and overload is answered by taking no more (flow control), never by taking and
// dropping. The one place that reaches into MQTT.js's private `_sendPacket` (mqtt 5.x).
import type { IPublishPacket, MqttClient } from 'mqtt'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import type { MessageOrigin, OnTriggerMessage, TriggerMessage } from './trigger-link.js'

/** QoS 1 messages taken in before their PUBACK has been released. */
export const MAX_HELD = 256

/** After a message could not be stored: the first wait before its redelivery is asked for. */
const RETRY_FIRST_MS = 1000
/** ...doubling per consecutive failure up to this. */
const RETRY_MAX_MS = 60_000

export interface AckHoldOptions {
  onMessage: OnTriggerMessage
  log: (line: string) => void
  /** True once the agent stops taking work: messages are then left with the broker. */
  closing: () => boolean
  /** A QoS 1 message's identity in the session (processed once); the link knows the connection. */
  origin?: (packetId: number, dup: boolean) => MessageOrigin
}

type Packet = { cmd: string, messageId?: number }
type SendPacket = (packet: Packet, cb?: () => void, ...rest: unknown[]) => void

interface Held { id: number, durable: boolean, failed: boolean, packet?: Packet }

/** What the gate holds now: QoS 1 messages taken whose PUBACK has not left (at most MAX_HELD, plus the one whose callback waits). */
export interface AckHold { readonly held: number }

/**
 * Installs the gate on `client` (before it connects: a persistent session may deliver queued
 * messages at once).
 *
 * MQTT.js hands a connection's messages to handleMessage one at a time and sends a QoS 1
 * PUBACK when its callback runs; waiting there for each commit would serialise sandbox call,
 * LevelDB write and network round trip per message. Instead the callback runs at once and
 * the PUBACK it produces is held until that message's effects are committed. PUBACKs leave
 * in arrival order (MQTT 3.1.1 section 4.6, MQTT 5 section 4.6) and at most MAX_HELD wait;
 * past that the callback is not run, so MQTT.js reads nothing more and the broker keeps the
 * rest (its own flow control: mosquitto's max_inflight_messages / MQTT 5 Receive Maximum).
 *
 * A message whose effects could not be stored (the invoker's commit rejected) gets no PUBACK
 * at all, not even an MQTT 5 reason code, which would let the broker forget it. Brokers
 * resend unacknowledged messages only on a new connection (MQTT 5 section 4.4), so the gate
 * then waits (1 s, doubling to 60 s while commits keep failing) with other messages flowing,
 * then drains: takes nothing new, lets what it holds settle and leave, and drops the
 * connection. MQTT.js reconnects with the persistent session and the broker delivers the
 * message again; one message that keeps failing never starves the others.
 */
export function holdAcks (client: MqttClient, opts: AckHoldOptions): AckHold {
  const internals = mqttInternals(client)
  const gate = new AckGate(internals._sendPacket.bind(client), () => internals.stream?.destroy(), opts)
  internals._sendPacket = (packet, cb, ...rest) => { gate.send(packet, cb, rest) }
  client.on('close', () => { gate.connectionClosed() })
  client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => { gate.take(packet, callback) }
  return gate
}

type Internals = { _sendPacket: SendPacket, stream?: { destroy: () => void } }

/**
 * The two MQTT.js internals the gate wraps, checked before anything runs: an MQTT.js whose
 * internals moved must stop the agent, not silently acknowledge messages before they are durable.
 */
function mqttInternals (client: MqttClient): Internals {
  const internals = client as unknown as Internals
  if (typeof internals._sendPacket !== 'function' || typeof client.handleMessage !== 'function') {
    throw new LambkinError(ErrorCodes.DEPENDENCY_MISMATCH, 'the installed MQTT.js has no _sendPacket/handleMessage, which the ack-after-commit gate wraps; install the mqtt version package.json pins (5.16.0)')
  }
  return internals
}

/** The trigger message a PUBLISH packet carries, with its origin for processed-once. */
function messageOf (packet: IPublishPacket, origin: MessageOrigin | undefined): TriggerMessage {
  const props = packet.properties
  return {
    topic: packet.topic,
    payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
    qos: packet.qos,
    retain: packet.retain,
    userProperties: props?.userProperties,
    origin,
    ...(props?.responseTopic === undefined ? {} : { responseTopic: props.responseTopic }),
    ...(props?.correlationData === undefined ? {} : { correlationData: Buffer.from(props.correlationData) })
  }
}

/** The gate's state for one connection and the four things that move it: take, send, settle, close. */
class AckGate implements AckHold {
  readonly #sendPacket: SendPacket
  readonly #dropConnection: () => void
  readonly #o: AckHoldOptions
  /** QoS 1 messages taken, in arrival order, until their PUBACK leaves. */
  #held: Held[] = []
  /** Messages whose PUBACK MQTT.js has not produced yet, by message id (unique in flight). */
  #awaitingAck = new Map<number, Held>()
  /** The one message taken whose callback is held back (MQTT.js reads nothing until it runs). */
  #waiting: { h: Held, go: () => void } | undefined
  #failures = 0
  /**
   * Armed by a failed commit; when it fires the gate drains: takes nothing new, settles what
   * is in hand (so no PUBACK is lost), then drops the connection.
   */
  #redeliver: ReturnType<typeof setTimeout> | undefined
  #draining = false

  constructor (sendPacket: SendPacket, dropConnection: () => void, opts: AckHoldOptions) {
    this.#sendPacket = sendPacket
    this.#dropConnection = dropConnection
    this.#o = opts
  }

  get held (): number { return this.#held.length }

  /** MQTT.js hands over a message (its handleMessage): passed on to the agent, its PUBACK held until durable. */
  take (packet: IPublishPacket, callback: (err?: Error) => void): void {
    if (this.#o.closing()) {
      // Not acknowledged: the broker keeps it for the next session.
      callback(new Error('agent closing'))
      return
    }
    // Draining to reconnect after a failed commit: not taken, so the broker sends it again.
    // Its callback never runs; MQTT.js reads nothing more on this connection.
    if (this.#draining && packet.qos === 1) return
    const origin = packet.qos === 1 && packet.messageId !== undefined ? this.#o.origin?.(packet.messageId, packet.dup) : undefined
    const work = this.#o.onMessage(messageOf(packet, origin))
    if (packet.qos !== 1 || packet.messageId === undefined) {
      work.then(() => callback(), (err: Error) => callback(err))
      return
    }
    const h: Held = { id: packet.messageId, durable: false, failed: false }
    const mine = this.#held
    mine.push(h)
    this.#awaitingAck.set(h.id, h)
    work.then(() => {
      h.durable = true
      this.#failures = 0
    }, (err: unknown) => {
      h.failed = true
      if (mine !== this.#held) return
      this.#failures++
      this.#armRedelivery()
      this.#o.log(`message on ${packet.topic} not acknowledged, the broker keeps it and sends it again: ${errorMessage(err)}`)
    }).finally(() => { if (mine === this.#held) this.#release() })
    if (this.#held.length < MAX_HELD) callback()
    else this.#waiting = { h, go: () => callback() }
  }

  /** MQTT.js sends a packet (its _sendPacket): a PUBACK is held with its message, anything else goes out. */
  send (packet: Packet, cb: (() => void) | undefined, rest: unknown[]): void {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) { this.#sendPacket(packet, cb, ...rest); return }
    const h = this.#awaitingAck.get(packet.messageId)
    // Every QoS 1 message passes through take(); a PUBACK for none of them belongs to a
    // connection that is gone and must not acknowledge a redelivery.
    if (h === undefined) { cb?.(); return }
    this.#awaitingAck.delete(h.id)
    h.packet = packet
    cb?.()
    this.#release()
  }

  /**
   * The connection closed. Acks held for it mean nothing to the next one; the broker
   * redelivers those messages (at least once, as the design allows). The callback of a
   * message not taken yet is dropped with its connection, so no stale PUBACK can follow.
   */
  connectionClosed (): void {
    this.#held = []
    this.#awaitingAck = new Map()
    this.#waiting = undefined
    this.#draining = false
    if (this.#redeliver !== undefined) { clearTimeout(this.#redeliver); this.#redeliver = undefined }
  }

  /** Sends the PUBACKs now due, in arrival order, and lets the waiting message in when there is room. */
  #release (): void {
    for (;;) {
      while (this.#held.length > 0 && (this.#held[0].failed || (this.#held[0].durable && this.#held[0].packet !== undefined))) {
        const h = this.#held.shift() as Held
        if (!h.failed) this.#sendPacket(h.packet as Packet)
      }
      // The head may be the message whose callback waits: it must run to produce the PUBACK,
      // after a failure too (MQTT.js then offers the next message, which is left unread).
      const w = this.#waiting
      if (w === undefined) break
      const due = this.#held.length < MAX_HELD && !this.#draining
      const headWaits = this.#held.length > 0 && this.#held[0] === w.h && (w.h.durable || w.h.failed)
      if (!due && !headWaits) break
      this.#waiting = undefined
      w.go()
    }
    // A new connection makes the broker send the unacknowledged messages again.
    if (this.#draining && this.#held.length === 0 && !this.#o.closing()) this.#dropConnection()
  }

  /** After a failed commit: drain and reconnect after RETRY_FIRST_MS, doubling per consecutive failure up to RETRY_MAX_MS. */
  #armRedelivery (): void {
    if (this.#redeliver !== undefined || this.#draining) return
    const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, this.#failures - 1))
    this.#redeliver = setTimeout(() => {
      this.#redeliver = undefined
      this.#draining = true
      this.#release()
    }, wait)
    this.#redeliver.unref()
  }
}
