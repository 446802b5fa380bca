// The MqttLink's commit gate: a QoS 1 message's PUBACK leaves only once the message's effects
// are durable, and overload is answered by taking no more (flow control), never by taking and
// dropping. The one place that reaches into MQTT.js's private `_sendPacket` (mqtt 5.x).
import type { IPublishPacket, MqttClient } from 'mqtt'
import type { OnTriggerMessage } from './trigger-message.js'

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
}

type Packet = { cmd: string, messageId?: number }
type SendPacket = (packet: Packet, cb?: () => void, ...rest: unknown[]) => void

interface Held { id: number, durable: boolean, failed: boolean, packet?: Packet }

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
 * resend unacknowledged messages only on a new connection (MQTT 5 section 4.4), so once the
 * messages in hand are settled the gate waits (1 s, doubling to 60 s while it keeps failing),
 * then drops the connection: MQTT.js reconnects with the persistent session and the broker
 * delivers the message again.
 */
export function holdAcks (client: MqttClient, opts: AckHoldOptions): void {
  const internals = client as unknown as { _sendPacket: SendPacket, stream?: { destroy: () => void } }
  if (typeof internals._sendPacket !== 'function') {
    throw new Error('this MQTT.js has no _sendPacket; the ack-after-commit gate needs mqtt 5.x')
  }
  const original = internals._sendPacket.bind(client)
  let held: Held[] = []
  // Messages whose PUBACK MQTT.js has not produced yet, by message id (unique in flight).
  let awaitingAck = new Map<number, Held>()
  let waiting: (() => void) | undefined
  let failures = 0
  let redeliver: ReturnType<typeof setTimeout> | undefined
  let needRedelivery = false

  const resume = (): void => {
    if (held.length < MAX_HELD && !needRedelivery && waiting !== undefined) { const go = waiting; waiting = undefined; go() }
  }
  const release = (): void => {
    while (held.length > 0 && (held[0].durable || held[0].failed) && (held[0].packet !== undefined || held[0].failed)) {
      const h = held.shift() as Held
      if (h.failed) continue
      original(h.packet as Packet)
    }
    if (needRedelivery && held.length === 0 && redeliver === undefined) {
      const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, failures - 1))
      redeliver = setTimeout(() => {
        redeliver = undefined
        // A new connection makes the broker send the unacknowledged message again.
        if (!opts.closing()) internals.stream?.destroy()
      }, wait)
      redeliver.unref()
    }
    resume()
  }
  internals._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) { original(packet, cb, ...rest); return }
    const h = awaitingAck.get(packet.messageId)
    // Every QoS 1 message passes through handleMessage below; a PUBACK for none of them
    // belongs to a connection that is gone and must not acknowledge a redelivery.
    if (h === undefined) { cb?.(); return }
    awaitingAck.delete(h.id)
    h.packet = packet
    cb?.()
    release()
  }
  // Acks held for a connection that is gone mean nothing to the next one; the broker
  // redelivers those messages (at least once, as the design allows). The callback of a
  // message not taken yet is dropped with its connection, so no stale PUBACK can follow.
  client.on('close', () => {
    held = []
    awaitingAck = new Map()
    waiting = undefined
    needRedelivery = false
    if (redeliver !== undefined) { clearTimeout(redeliver); redeliver = undefined }
  })
  client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
    if (opts.closing()) {
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
    const mine = held
    held.push(h)
    awaitingAck.set(h.id, h)
    work.then(() => {
      h.durable = true
      failures = 0
    }, (err: Error) => {
      h.failed = true
      if (mine !== held) return
      failures++
      needRedelivery = true
      opts.log(`message on ${packet.topic} not acknowledged, the broker keeps it and sends it again: ${err.message}`)
    }).finally(() => { if (mine === held) release() })
    if (held.length < MAX_HELD && !needRedelivery) callback()
    else waiting = () => callback()
  }
}
