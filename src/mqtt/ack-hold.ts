// The commit gate of an MQTT.js client that consumes QoS 1 messages: a message's PUBACK leaves
// only once its effects are durable, and overload is answered by taking no more (flow control),
// never by taking and dropping. Used by the agent's trigger link (device/links/mqtt-ack-hold.ts,
// effects in LevelDB) and the cloud's external broker client (cloud-sync/broker/external/,
// effects in PostgreSQL). The one place that reaches into MQTT.js's private `_sendPacket`
// (mqtt 5.x); the client is typed here by the members used, so src/ does not load MQTT.js.
import { ErrorCodes, LambkinError } from '../errors.js'

/** QoS 1 messages taken in before their PUBACK has been released (the default of `maxHeld`). */
export const MAX_HELD = 256

/**
 * After a message could not be committed: the first wait before its redelivery is asked for,
 * doubling per consecutive failure up to `retryMaxMs`. Defaults suit a local store that failed
 * (rare, possibly a full card); the cloud passes a shorter ceiling for a database outage.
 */
export const ACK_HOLD_DEFAULTS = Object.freeze({ maxHeld: MAX_HELD, retryFirstMs: 1000, retryMaxMs: 60_000 })

/** The parts of an MQTT.js PUBLISH packet the gate reads (mqtt-packet's IPublishPacket). */
export interface GatePacket {
  cmd: 'publish'
  topic: string
  payload: Buffer | string
  qos: 0 | 1 | 2
  retain: boolean
  dup: boolean
  messageId?: number
  properties?: {
    userProperties?: Record<string, string | string[]>
    responseTopic?: string
    correlationData?: Buffer
  }
}

/** The parts of an MQTT.js client (5.x) the gate wraps. */
export interface GateClient {
  handleMessage: (packet: never, callback: (err?: Error) => void) => void
  on: (event: 'close', listener: () => void) => unknown
}

export interface AckHoldOptions {
  /** Does the message's work; its promise settles once the effects are durable (rejects: not). */
  onMessage: (packet: GatePacket) => Promise<void>
  log: (line: string) => void
  /** True once the owner stops taking work: messages are then left with the broker. */
  closing: () => boolean
  /**
   * Told of each PUBACK as it is written to MQTT.js, with its packet id (processed once). Only
   * while MQTT.js is connected: the gate drops what it holds on 'close', the event on which
   * MQTT.js marks itself disconnected, so no PUBACK waits in MQTT.js's offline queue for the next
   * connection. One written into a connection already broken counts as written (maybe lost).
   */
  written?: (packetId: number) => void
  maxHeld?: number
  retryFirstMs?: number
  retryMaxMs?: number
}

type Packet = { cmd: string, messageId?: number }
type SendPacket = (packet: Packet, cb?: () => void, ...rest: unknown[]) => void

interface Held { id: number, durable: boolean, failed: boolean, packet?: Packet }

/** What the gate holds now: QoS 1 messages taken whose PUBACK has not left (at most maxHeld, plus the one whose callback waits). */
export interface AckHold {
  readonly held: number
  /** Messages whose commit failed since start (each left unacknowledged, sent again by the broker). */
  readonly failed: number
}

/**
 * Installs the gate on `client` (before it connects: a persistent session may deliver queued
 * messages at once). Throws LAMBKIN_DEPENDENCY_MISMATCH when MQTT.js's internals moved.
 *
 * MQTT.js hands a connection's messages to handleMessage one at a time and sends a QoS 1
 * PUBACK when its callback runs (its documented `customHandleAcks` option runs before that
 * same callback, so it serialises too); waiting there for each commit would serialise the
 * work, the write and a network round trip per message. Instead the callback runs at once and
 * the PUBACK it produces is held until that message's effects are committed. PUBACKs leave
 * in arrival order (MQTT 3.1.1 section 4.6, MQTT 5 section 4.6) and at most maxHeld wait;
 * past that the callback is not run, so MQTT.js reads nothing more and the broker keeps the
 * rest (its own flow control: mosquitto's max_inflight_messages / MQTT 5 Receive Maximum).
 *
 * A message whose effects could not be stored (onMessage rejected) gets no PUBACK at all, not
 * even an MQTT 5 reason code, which would let the broker forget it. Brokers resend
 * unacknowledged messages only on a new connection (MQTT 5 section 4.4), so the gate then
 * waits (retryFirstMs, doubling to retryMaxMs while commits keep failing) with other messages
 * flowing, then drains: takes nothing new, lets what it holds settle and leave, and drops the
 * connection. MQTT.js reconnects with the persistent session and the broker delivers the
 * message again; one message that keeps failing never starves the others.
 *
 * onMessage must not wait for anything this client's incoming packets settle (a PUBACK of its
 * own QoS 1 publish): with maxHeld messages held MQTT.js reads nothing more, so that wait would
 * never end.
 */
export function holdAcks (client: GateClient, opts: AckHoldOptions): AckHold {
  const internals = client as unknown as MqttInternals
  // Checked before anything runs: an MQTT.js whose internals moved must stop its owner, not
  // silently acknowledge messages before they are durable.
  if (typeof internals._sendPacket !== 'function' || typeof client.handleMessage !== 'function') {
    throw new LambkinError(ErrorCodes.DEPENDENCY_MISMATCH, 'the installed MQTT.js has no _sendPacket/handleMessage, which the ack-after-commit gate wraps; install the mqtt version package.json pins (5.16.0)')
  }
  const gate = new AckGate(internals, { ...ACK_HOLD_DEFAULTS, ...opts, written: opts.written ?? noWatch })
  internals._sendPacket = (packet, cb, ...rest) => { gate.sendPacket(packet, cb, ...rest) }
  client.on('close', () => { gate.connectionClosed() })
  client.handleMessage = ((packet: GatePacket, callback: (err?: Error) => void) => { gate.take(packet, callback) }) as GateClient['handleMessage']
  return { get held () { return gate.held.length }, get failed () { return gate.failedTotal } }
}

const noWatch = (): void => {}

type MqttInternals = { _sendPacket: SendPacket, stream?: { destroy: () => void } }

/** The gate's state for one client, and its four steps: take, sendPacket, release, redeliver. */
class AckGate {
  /** Messages taken, in arrival order; their PUBACKs leave in this order. */
  held: Held[] = []
  /**
   * Messages whose PUBACK MQTT.js has not produced yet (ids unique in flight): at most the one
   * being taken and the one whose callback waits, as MQTT.js writes a PUBACK from within the
   * callback. An array searched from its end, not a Map: a Map that empties at every message
   * makes a new hash table each time, in the old generation once the gate is old (V8 allocates a
   * rehashed table where the one it replaces lives), about 150 bytes of old garbage a message.
   */
  awaitingAck: Held[] = []
  /** The one message taken whose callback is held back (MQTT.js reads nothing until it runs). */
  waiting: { h: Held, go: () => void } | undefined
  /** Failed commits in a row (the redelivery wait doubles with each). */
  failures = 0
  failedTotal = 0
  /** Armed by a failed commit; when it fires the gate drains (redeliver()). */
  redeliver: ReturnType<typeof setTimeout> | undefined
  draining = false
  readonly #original: SendPacket

  constructor (readonly internals: MqttInternals, readonly o: Required<AckHoldOptions>) {
    this.#original = internals._sendPacket.bind(internals)
  }

  /** handleMessage: runs the message's work; a QoS 1 one is held until it is durable. */
  take (packet: GatePacket, callback: (err?: Error) => void): void {
    const o = this.o
    if (o.closing()) {
      // Not acknowledged: the broker keeps it for the next session.
      callback(new Error('closing'))
      return
    }
    // Draining to reconnect after a failed commit: not taken, so the broker sends it again.
    // Its callback never runs; MQTT.js reads nothing more on this connection.
    if (this.draining && packet.qos === 1) return
    const work = o.onMessage(packet)
    if (packet.qos !== 1 || packet.messageId === undefined) {
      work.then(() => callback(), (err: Error) => callback(err))
      return
    }
    const h: Held = { id: packet.messageId, durable: false, failed: false }
    const mine = this.held
    this.held.push(h)
    this.awaitingAck.push(h)
    // One then() for both outcomes, each releasing at its end (no finally(): a promise fewer per message).
    work.then(() => {
      h.durable = true
      this.failures = 0
      if (mine === this.held) this.release()
    }, (err: Error) => {
      h.failed = true
      this.failedTotal++
      if (mine !== this.held) return
      try {
        this.failures++
        this.armRedelivery()
        o.log(`message on ${packet.topic} not acknowledged, the broker keeps it and sends it again: ${err.message}`)
      } finally {
        this.release()
      }
    })
    if (this.held.length < o.maxHeld) callback()
    else this.waiting = { h, go: () => callback() }
  }

  /** _sendPacket: a PUBACK is kept with its message until release() lets it go; all else passes. */
  sendPacket (packet: Packet, cb?: () => void, ...rest: unknown[]): void {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) { this.#original(packet, cb, ...rest); return }
    const h = takeAwaiting(this.awaitingAck, packet.messageId)
    // Every QoS 1 message passes through take(); a PUBACK for none of them belongs to a
    // connection that is gone and must not acknowledge a redelivery.
    if (h === undefined) { cb?.(); return }
    h.packet = packet
    cb?.()
    this.release()
  }

  /** Sends the PUBACKs now due, in order, and runs a held-back callback once there is room. */
  release (): void {
    for (;;) {
      const held = this.held
      while (held.length > 0 && (held[0].failed || (held[0].durable && held[0].packet !== undefined))) {
        const h = held.shift() as Held
        if (!h.failed) {
          this.#original(h.packet as Packet)
          this.o.written(h.id)
        }
      }
      // The head may be the message whose callback waits: it must run to produce the PUBACK,
      // after a failure too (MQTT.js then offers the next message, which is left unread).
      const w = this.waiting
      if (w === undefined) break
      const due = held.length < this.o.maxHeld && !this.draining
      const headWaits = held.length > 0 && held[0] === w.h && (w.h.durable || w.h.failed)
      if (!due && !headWaits) break
      this.waiting = undefined
      w.go()
    }
    // A new connection makes the broker send the unacknowledged messages again.
    if (this.draining && this.held.length === 0 && !this.o.closing()) this.internals.stream?.destroy()
  }

  /** After a failed commit: waits (doubling per failure in a row), then drains and reconnects. */
  armRedelivery (): void {
    if (this.redeliver !== undefined || this.draining) return
    const o = this.o
    const wait = Math.min(o.retryMaxMs, o.retryFirstMs * 2 ** Math.max(0, this.failures - 1))
    this.redeliver = setTimeout(() => {
      this.redeliver = undefined
      this.draining = true
      this.release()
    }, wait)
    this.redeliver.unref()
  }

  /**
   * Acks held for a connection that is gone mean nothing to the next one; the broker
   * redelivers those messages (at least once, as the design allows). The callback of a
   * message not taken yet is dropped with its connection, so no stale PUBACK can follow.
   */
  connectionClosed (): void {
    this.held = []
    this.awaitingAck = []
    this.waiting = undefined
    this.draining = false
    if (this.redeliver !== undefined) { clearTimeout(this.redeliver); this.redeliver = undefined }
  }
}

/** Removes and returns the message of `awaiting` with id `id` (the last taken, most often); undefined when none has it. */
function takeAwaiting (awaiting: Held[], id: number): Held | undefined {
  for (let i = awaiting.length - 1; i >= 0; i--) {
    const h = awaiting[i] as Held
    if (h.id !== id) continue
    // The last one moved into its place: the order of the others does not matter.
    const last = awaiting.pop() as Held
    if (last !== h) awaiting[i] = last
    return h
  }
  return undefined
}
