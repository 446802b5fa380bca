// The per-publish work of an MQTT.js client (mqtt 5.x) that a trigger link does not need,
// cut from its send path (docs/performance.md, "The relay job"). MQTT.js's publish() merges its
// options into a fresh object and destructures it (two object spreads, most of publish()'s
// own time under the relay bench), and its _storeAndSend deep-copies every QoS 1 PUBLISH, payload
// included, into the outgoing store (rfdc) before writing it. Here a publish goes straight to
// the same _sendPacket MQTT.js's publish() calls, and the outgoing store keeps a shallow copy
// whose payload is the sent Buffer itself. Like whole-packets.ts and ack-hold.ts, this reaches
// into MQTT.js's private members; it checks them first and throws LAMBKIN_DEPENDENCY_MISMATCH
// when they moved.
import { ErrorCodes, LambkinError } from '../errors.js'

/** An MQTT.js PUBLISH packet as its publish() builds it (mqtt-packet's IPublishPacket). */
interface PublishPacket {
  cmd: 'publish'
  topic: string
  payload: Buffer | string
  qos: 0 | 1
  retain: boolean
  messageId: number
  dup: boolean
  properties?: { topicAlias?: number, [k: string]: unknown }
}

type Packet = { cmd: string, topic?: string, properties?: { topicAlias?: number } }
type Done = (err?: Error) => void

/** The parts of an MQTT.js client (5.x) this file uses. */
interface SendingClient {
  publish: (topic: string, payload: Buffer | string, opts: object, cb: Done) => unknown
  _sendPacket: (packet: PublishPacket, cb?: Done, cbStorePut?: () => void) => void
  _storeAndSend: (packet: Packet, cb: Done | undefined, cbStorePut: () => void) => void
  _writePacket: (packet: Packet, cb?: Done) => void
  _nextId: () => number | null
  outgoing: Record<number, { volatile: boolean, cmd: string, cb: Done }>
  outgoingStore: { put: (packet: object, cb: (err?: Error) => void) => unknown }
  options: { protocolVersion?: number }
  disconnecting: boolean
  _storeProcessing: boolean
  _storeProcessingQueue: unknown[]
}

function mismatch (what: string): LambkinError {
  return new LambkinError(ErrorCodes.DEPENDENCY_MISMATCH, `the installed MQTT.js has no ${what}, which the trigger link's lean publish path uses; install the mqtt version package.json pins (5.16.0)`)
}

/**
 * Makes `client`'s _storeAndSend keep, for a QoS 1 PUBLISH, a shallow copy in the outgoing store
 * (its own object, so the DUP flag a resend sets does not touch the packet written, with the
 * same topic, properties and payload Buffer) instead of MQTT.js's deep copy. The caller must not
 * change a payload Buffer after publishing it (the trigger link hands over a fresh one). A
 * packet that uses a topic alias, and every other packet, goes through MQTT.js's own code.
 * Throws LAMBKIN_DEPENDENCY_MISMATCH when MQTT.js's internals moved.
 */
export function storeWithoutCopy (client: object): void {
  const c = client as SendingClient
  if (typeof c._storeAndSend !== 'function' || typeof c._writePacket !== 'function') throw mismatch('_storeAndSend or _writePacket')
  if (typeof c.outgoingStore?.put !== 'function') throw mismatch('outgoingStore')
  const own = c._storeAndSend.bind(c)
  c._storeAndSend = (packet, cb, cbStorePut) => {
    if (packet.cmd !== 'publish' || packet.topic === '' || packet.properties?.topicAlias !== undefined) {
      own(packet, cb, cbStorePut)
      return
    }
    c.outgoingStore.put({ ...packet }, (err) => {
      if (err != null) { cb?.(err); return }
      cbStorePut()
      c._writePacket(packet, cb)
    })
  }
}

/**
 * Publishes one message: `(topic, payload, qos, retain, properties, done)`, `properties` the MQTT 5
 * PUBLISH properties or undefined (ignored under 3.1.1), `done` called as MQTT.js's publish()
 * callback would be (a QoS 1 one on its PUBACK, with its error or reason code).
 */
export type LeanPublish = (topic: string, payload: Buffer | string, qos: 0 | 1, retain: boolean, properties: object | undefined, done: Done) => void

/**
 * A publish function for `client` that builds the packet MQTT.js's publish() builds and hands it
 * to the same _sendPacket, without publish()'s option merging. While MQTT.js is disconnecting,
 * resending its store after a reconnect, or out of packet ids, the call goes to its own
 * publish(), which answers, queues or waits as documented. Throws LAMBKIN_DEPENDENCY_MISMATCH
 * when MQTT.js's internals moved.
 */
export function leanPublisher (client: object): LeanPublish {
  const c = client as SendingClient
  if (typeof c._sendPacket !== 'function' || typeof c._nextId !== 'function') throw mismatch('_sendPacket or _nextId')
  if (typeof c.outgoing !== 'object' || c.outgoing === null || !Array.isArray(c._storeProcessingQueue)) throw mismatch('outgoing map or _storeProcessingQueue')
  return (topic, payload, qos, retain, properties, done) => {
    const viaPublish = (): void => { c.publish(topic, payload, properties === undefined ? { qos, retain } : { qos, retain, properties }, done) }
    if (c.disconnecting || c._storeProcessing || c._storeProcessingQueue.length > 0) { viaPublish(); return }
    let messageId = 0
    if (qos === 1) {
      const id = c._nextId()
      if (id === null) { viaPublish(); return }
      messageId = id
    }
    const packet: PublishPacket = { cmd: 'publish', topic, payload, qos, retain, messageId, dup: false }
    if (c.options.protocolVersion === 5) packet.properties = properties as PublishPacket['properties']
    if (qos === 1) {
      c.outgoing[messageId] = { volatile: false, cmd: 'publish', cb: done }
      c._sendPacket(packet)
    } else {
      c._sendPacket(packet, done)
    }
  }
}
