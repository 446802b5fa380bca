// Session resends of lambkin's own aedes brokers (the device's embedded broker and the cloud
// broker) as MQTT 3.1.1 asks, without changing aedes itself. aedes 1.2.0 resends a resumed
// session's unacknowledged QoS 1/2 PUBLISHes (connect.js emptyQueue, from the persistence's
// outgoingStream) with DUP 0, and restores the session's subscriptions before it does, so a
// message routed during the reconnect can reach the client before the older resends. It also
// hands a publisher's DUP 1 on to subscribers with a first delivery [MQTT-3.3.1-3]. A
// receiver that trusts DUP to tell a copy from a new message (the agent's processed once,
// docs/durability.md "A link blip") then runs a copy again. aedes has no retries within a
// connection (MQTT 3.1.1 section 4.4 allows resends only on reconnect), so these are all its
// resends. Two faults of aedes-persistence 11's memory store are closed here too: it queues a
// message once per matching subscription of a session (the resume then sends each copy), and
// it files a client's PUBREC against the wrong QoS 2 flow when two wait for their PUBCOMP.
import { finished, PassThrough, Readable } from 'node:stream'
import type { Aedes, Client } from 'aedes'
import { ErrorCodes, LambkinError } from '../errors.js'
import { topicMatches } from '../function/topic-filter.js'

/** The fields of an aedes outgoing-queue entry (aedes-packet) this file reads. */
interface QueuedPacket {
  cmd?: string
  qos?: number
  messageId?: number | null
  brokerId?: string | null
  brokerCounter?: number
  dup?: boolean
  topic?: string
}

/** A persistent subscription as aedes' subscriptionsByTopic returns it (one per client and filter). */
interface StoredSub { clientId: string, qos?: number }

type Deliver = (packet: QueuedPacket, cb: (err?: Error | null) => void) => void
/** A PUBLISH as it goes out the first time: DUP 0 [MQTT-3.3.1-3]; a copy only when it must change. */
const fresh = <P extends QueuedPacket>(p: P): P => p.dup === true ? { ...p, dup: false } : p

/** The aedes internals wrapped here: the persistence's outgoing queue and a client's deliveries. */
interface Persistence {
  outgoingStream: (client: Client) => Readable
  outgoingEnqueueCombi: (subs: StoredSub[], packet: QueuedPacket) => Promise<unknown>
  outgoingUpdate: (client: Client, packet: QueuedPacket) => Promise<unknown>
  outgoingClearMessageId: (client: Client, packet: QueuedPacket) => Promise<unknown>
}
interface Delivering {
  deliverQoS: Deliver
  deliver0: Deliver
  conn: NodeJS.ReadableStream | NodeJS.WritableStream
  /** aedes' repeat filter (client.js dedupe): the last brokerCounter delivered, per brokerId. */
  duplicates: Record<string, number | undefined>
  /** The connection's subscriptions by topic filter (an object without prototype). */
  subscriptions: Record<string, { qos?: number } | undefined>
}

/** One resumed connection between its CONNECT and aedes' 'clientReady' (its resends all written). */
interface Resuming {
  /** Live QoS 1/2 deliveries that came while the resends were pending, in arrival order. */
  held: QueuedPacket[] | undefined
  /** brokerId:brokerCounter of every queue entry the resends took: routed there, so not again live. */
  readonly queued: Set<string>
}

const noop = (): void => {}
const keyOf = (p: QueuedPacket): string => `${p.brokerId ?? ''}:${p.brokerCounter ?? ''}`

/**
 * One subscription per client of `subs` (the one with the highest QoS), in first-seen order:
 * a message is queued once per session, as it goes once while connected. MQTT 3.1.1 section
 * 3.3.5: overlapping subscriptions get the message at the maximum QoS of those that match
 * [MQTT-3.3.5-1]; further copies are allowed, but a copy a resume sends under a new packet id
 * with DUP 0 cannot be told from a new message. Returns `subs` itself when nothing repeats.
 */
export function oncePerClient<S extends StoredSub> (subs: S[]): S[] {
  if (subs.length < 2) return subs
  const best = new Map<string, S>()
  for (const s of subs) {
    const b = best.get(s.clientId)
    if (b === undefined || (s.qos ?? 0) > (b.qos ?? 0)) best.set(s.clientId, s)
  }
  return best.size === subs.length ? subs : [...best.values()]
}

/**
 * A queue entry as it should go out again: a PUBLISH that already carries a packet id was
 * sent before (aedes gives the id when it first writes the message and keeps it until the
 * PUBACK), so it goes with DUP 1: MQTT 3.1.1 section 3.3.1.1, "The DUP flag MUST be set to 1
 * by the Client or Server when it attempts to re-deliver a PUBLISH Packet" [MQTT-3.3.1-1]
 * (MQTT 5 section 3.3.1.1 says the same). An entry without an id (queued while the client was
 * away) is a first delivery and goes with DUP 0, whatever the publisher sent [MQTT-3.3.1-3].
 * Returns a copy when the flag changes; the stored entry is not changed.
 */
export function asResend<P extends QueuedPacket> (p: P): P {
  if (p.cmd !== 'publish') return p
  if ((p.qos ?? 0) === 0 || typeof p.messageId !== 'number' || p.messageId === 0) return fresh(p)
  return p.dup === true ? p : { ...p, dup: true }
}

/**
 * Makes `broker` resend as MQTT 3.1.1 asks, on any aedes persistence:
 * - DUP 1 on every re-delivery of a PUBLISH (asResend above), by wrapping the persistence's
 *   outgoingStream, which is where aedes reads a resumed session's queue from.
 * - Resends before newly routed messages: MQTT 3.1.1 section 4.6 asks a server to send the
 *   messages of one topic and QoS in the order it received them [MQTT-4.6.0-6], and resends
 *   first on reconnect [MQTT-4.4.0-1]. On a CONNECT with CleanSession 0 the client's QoS 1/2
 *   deliveries are held until aedes says the connection is ready (its resends written), then
 *   delivered in arrival order, except those that were already in the queue the resends took
 *   (aedes queues a message for a persistent session before it routes it live, so the resend
 *   sent it: routed again it would go a second time under a new packet id, which no receiver
 *   can tell from a new message). Held deliveries of a connection that closes first are
 *   dropped: they stay queued for the session's next connection, as every unsent message does.
 *   aedes has queued each of them before routing it, so the routing is answered at once.
 *   QoS 0 messages are not held (ordering is per QoS).
 * - DUP 0 on every first delivery, QoS 0 included, also of a message its publisher sent with
 *   DUP 1 (aedes copies the publisher's flag): "The DUP flag in the outgoing PUBLISH packet is
 *   set independently to the incoming PUBLISH packet" [MQTT-3.3.1-3].
 * - One copy per session of a message that matches several of its subscriptions, at the
 *   highest QoS among them [MQTT-3.3.5-1], connected or resumed: the message is queued once
 *   per client (oncePerClient), a QoS 1/2 message is not delivered at QoS 0 through a QoS 0
 *   subscription while one with QoS 1/2 matches too, and a second QoS 1/2 delivery of one
 *   message (aedes' repeat filter, client.duplicates) is answered without reaching aedes,
 *   which would otherwise remove the first unsent entry of the queue, whichever message it is.
 *   Where aedes still sends it at QoS 0 (a QoS 0 subscription to the exact topic beside a
 *   QoS 1/2 wildcard one: client.js deliverQoS takes the exact filter's QoS, moscajs/aedes#1074),
 *   its queue entry goes with that delivery instead of waiting for an acknowledgement that
 *   never comes.
 * - A PUBREC moves the very flow it names to PUBREL (MQTT 3.1.1 section 4.3.3): aedes hands
 *   outgoingUpdate a PUBREL without brokerId, and aedes-persistence's memory store matches that
 *   to the first queued PUBREL (no brokerId either, so equal) instead of by packet id; the flow
 *   the PUBREC named then stays queued as a PUBLISH after its PUBCOMP and is sent again on the
 *   next connection. Each such PUBREL gets a brokerId of its own, so the match is by packet id.
 * - A live QoS 1/2 delivery that finds no queue entry (routed between an UNSUBSCRIBE's removal
 *   from the store and from the routes) goes out instead of closing the connection [MQTT-3.10.4-3].
 * Call it once, after the broker's own preConnect is set (it wraps that hook). Throws
 * LAMBKIN_DEPENDENCY_MISMATCH when the installed aedes no longer has the persistence's
 * outgoingStream, outgoingEnqueueCombi, outgoingUpdate or outgoingClearMessageId, or a client's deliverQoS, deliver0,
 * duplicates or subscriptions, so an upgrade that moved them stops the broker from starting
 * instead of silently resending without these rules.
 */
export function resendAsMqttSays (broker: Aedes): void {
  const persistence = (broker as unknown as { persistence?: Partial<Persistence> }).persistence
  // A client on a stream that never carries data: only its delivery function is looked at.
  const probe = broker.handle(new PassThrough()) as unknown as Partial<Delivering>
  const delivers = typeof probe.deliverQoS === 'function' && typeof probe.deliver0 === 'function' &&
    typeof probe.duplicates === 'object' && typeof probe.subscriptions === 'object'
  ;(probe as unknown as { close: () => void }).close()
  const queues = typeof persistence?.outgoingStream === 'function' && typeof persistence.outgoingEnqueueCombi === 'function' &&
    typeof persistence.outgoingUpdate === 'function' && typeof persistence.outgoingClearMessageId === 'function'
  if (!delivers || !queues) {
    throw new LambkinError(ErrorCodes.DEPENDENCY_MISMATCH, 'the installed aedes has no persistence.outgoingStream/outgoingEnqueueCombi/outgoingUpdate/outgoingClearMessageId or client.deliverQoS/deliver0/duplicates/subscriptions, so its session resends cannot carry DUP (MQTT 3.1.1 section 3.3.1.1) nor go once per session; install the aedes version package-lock.json pins')
  }
  applyResendRules(broker, persistence as Persistence)
}

function applyResendRules (broker: Aedes, persistence: Persistence): void {
  const resuming = new WeakMap<Client, Resuming>()
  const wrapped = new WeakSet<Client>()
  const stream = persistence.outgoingStream.bind(persistence)
  persistence.outgoingStream = (client) => {
    const r = resuming.get(client)
    async function * entries (): AsyncGenerator<QueuedPacket> {
      for await (const p of stream(client) as AsyncIterable<QueuedPacket>) {
        if (r?.held !== undefined) r.queued.add(keyOf(p))
        yield asResend(p)
      }
    }
    return Readable.from(entries())
  }
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence)
  persistence.outgoingEnqueueCombi = (subs, packet) => enqueueCombi(oncePerClient(subs), packet)
  const update = persistence.outgoingUpdate.bind(persistence)
  const clear = persistence.outgoingClearMessageId.bind(persistence)
  let releases = 0
  // Plain functions returning aedes' own promise: no extra turn on the common path.
  persistence.outgoingUpdate = (client, packet) => {
    // aedes' PUBREC handler hands a bare { cmd, messageId }; a brokerId nothing else carries
    // makes the memory store match it by packet id (and what it stores keeps that id, so a
    // resume's outgoingUpdate of it matches it by brokerId and counter).
    if (packet.cmd === 'pubrel' && typeof packet.brokerId !== 'string') {
      return update(client, { ...packet, brokerId: `${broker.id}/pubrel/${++releases}`, brokerCounter: 1 })
    }
    // A PUBLISH aedes lowered to QoS 0 (deliverQoS takes the QoS of a subscription to the exact
    // topic, not the highest of those that match: moscajs/aedes#1074) is never acknowledged:
    // left queued under its packet id, it went again with DUP 1 on the next connection.
    if (packet.cmd === 'publish' && (packet.qos ?? 0) === 0 && typeof packet.messageId === 'number') {
      // Resolves with nothing: aedes takes any value this resolves with as an error.
      return update(client, packet).then(async () => { await clear(client, packet) })
    }
    if (packet.cmd === 'publish') return update(client, packet).catch(inFlight)
    return update(client, packet)
  }
  // aedes unsubscribes a persistent session from its store before it removes the route, so a
  // message routed in between reaches deliverQoS with no queue entry; the store then rejects
  // ('no such packet') and aedes closes the connection. Plain aedes does it for a lone filter;
  // with the rules here a QoS 0 filter beside the one unsubscribed skipped its copy (higherMatch),
  // so nothing of what followed reached the client until it reconnected. The delivery was
  // started, and MQTT 3.1.1 section 3.10.4 lets a server complete it [MQTT-3.10.4-3]: it goes.
  const inFlight = (err: unknown): void => {
    if (!(err instanceof Error) || err.message !== 'no such packet') throw err
  }

  const preConnect = broker.preConnect.bind(broker)
  broker.preConnect = (client, packet, done) => {
    // A client object is one connection; a second CONNECT on it is not wrapped twice.
    if (!wrapped.has(client)) {
      wrapped.add(client)
      firstDeliveries(client)
      if (packet.clean === false) hold(client)
    }
    preConnect(client, packet, done)
  }
  broker.on('clientReady', (client) => {
    const r = resuming.get(client)
    if (r?.held === undefined) return
    const held = r.held
    r.held = undefined
    const deliver = (client as unknown as Delivering).deliverQoS
    for (const p of held) deliver(p, noop)
  })

  /** aedes' subscriptions take these functions when they are made or restored, after preConnect. */
  function firstDeliveries (client: Client): void {
    const c = client as unknown as Delivering
    const deliverQoS = c.deliverQoS
    const deliver0 = c.deliver0
    c.deliverQoS = (p, cb) => {
      if ((p.qos ?? 0) > 0 && sentBefore(c, p)) setImmediate(cb)
      else deliverQoS(fresh(p), cb)
    }
    c.deliver0 = (p, cb) => {
      if ((p.qos ?? 0) > 0 && typeof p.brokerId === 'string' && higherMatch(c, p)) setImmediate(cb)
      else deliver0(fresh(p), cb)
    }
  }

  function hold (client: Client): void {
    const c = client as unknown as Delivering
    const deliver = c.deliverQoS
    const r: Resuming = { held: [], queued: new Set() }
    resuming.set(client, r)
    c.deliverQoS = (p, cb) => {
      if ((p.qos ?? 0) === 0) deliver(p, cb)
      else if (r.held !== undefined) {
        // Answered at once, so routing to other clients does not wait for these resends
        // (aedes routes at most `concurrency` messages at a time): the message is already in
        // the session's queue.
        r.held.push(p)
        setImmediate(cb)
      } else if (r.queued.size > 0 && r.queued.has(keyOf(p))) setImmediate(cb)
      else deliver(p, cb)
    }
    finished(c.conn, () => { r.held = undefined })
  }
}

/** Whether aedes' repeat filter (client.js dedupe) drops `p`: this connection delivered its message already. */
function sentBefore (c: Delivering, p: QueuedPacket): boolean {
  if (typeof p.brokerId !== 'string' || p.brokerId === '') return false
  return (c.duplicates[p.brokerId] ?? 0) >= (p.brokerCounter ?? 0)
}

/** Whether a QoS 1/2 subscription of `c` matches `p`'s topic too: it delivers `p` then, at its QoS. */
function higherMatch (c: Delivering, p: QueuedPacket): boolean {
  if (typeof p.topic !== 'string') return false
  const topic = p.topic
  return Object.keys(c.subscriptions).some((filter) => (c.subscriptions[filter]?.qos ?? 0) > 0 && topicMatches(filter, topic))
}
