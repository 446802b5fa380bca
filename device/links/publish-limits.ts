// What the trigger broker will take: the protocol version the link speaks (MQTT 5 by default,
// 3.1.1 when the broker refuses 5), the largest packet it accepts (CONNACK's Maximum Packet
// Size, or mqtt.maxPacketBytes), and which PUBACK reason codes mean a publish is refused.
import type { IClientOptions, IConnackPacket, MqttClient } from 'mqtt'
import { MAX_HELD } from './mqtt-ack-hold.js'

/** MQTT's own ceiling: a 268,435,455-byte remaining length (MQTT 5 section 2.1.4) plus header. */
export const MQTT_MAX_PACKET_BYTES = 268_435_460

/** Reason code 0x95 Packet too large (MQTT 5 section 3.4.2.1): the local size check uses it too. */
export const PACKET_TOO_LARGE = 0x95

/**
 * PUBACK reason codes (MQTT 5 section 3.4.2.1) that will answer the same publish the same way
 * however often it is sent: Not authorized, Topic Name invalid, Packet too large, Payload format
 * invalid, Retain not supported, QoS not supported. Other codes >= 0x80 (Unspecified error,
 * Implementation specific error, Packet identifier in use, Quota exceeded) may pass, so those
 * publishes are tried again, up to PUBLISH_ATTEMPTS times.
 */
const PERMANENT = new Set([0x87, 0x90, 0x95, 0x99, 0x9a, 0x9b])

/** Sends of one publish the broker refused with a reason code, at most, before it is dead-lettered. */
export const PUBLISH_ATTEMPTS = 3

/** A publish the broker will not take: its reason code (MQTT 5 section 3.4.2.1) and why, in words. */
export interface Refusal {
  reasonCode: number
  message: string
  /** True when sending it again cannot help. */
  permanent: boolean
}

/**
 * The refusal in a publish callback's error: MQTT.js reports a PUBACK reason code >= 0x80 as
 * an error whose `code` is that number. Other errors (connection lost, client closing) are
 * not refusals: the publish stays pending and goes again.
 */
export function refusalOf (err: Error & { code?: unknown }): Refusal | undefined {
  const code = err.code
  if (typeof code !== 'number' || code < 0x80 || code > 0xff) return undefined
  return { reasonCode: code, message: `the broker refused it with reason code 0x${code.toString(16)} (${err.message})`, permanent: PERMANENT.has(code) }
}

function varIntBytes (n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

/**
 * Size in bytes of the PUBLISH packet that would carry this message (MQTT 5 section 3.3 and
 * 3.1.1 section 3.3): fixed header, topic, packet identifier for QoS > 0, under MQTT 5 the
 * properties (user properties, section 3.3.2.3.7; response topic and correlation data, 3.3.2.3.5
 * and 3.3.2.3.6), and the payload.
 */
export function publishPacketBytes (
  topic: string,
  payload: Uint8Array | string,
  qos: number,
  protocolVersion: number,
  userProperties?: Record<string, string>,
  request: { responseTopic?: string; correlationData?: Uint8Array } = {}
): number {
  let rest = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + (typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength)
  if (protocolVersion === 5) {
    let props = 0
    for (const [k, v] of Object.entries(userProperties ?? {})) props += 1 + 2 + Buffer.byteLength(k) + 2 + Buffer.byteLength(v)
    if (request.responseTopic !== undefined) props += 1 + 2 + Buffer.byteLength(request.responseTopic)
    if (request.correlationData !== undefined) props += 1 + 2 + request.correlationData.byteLength
    rest += varIntBytes(props) + props
  }
  return 1 + varIntBytes(rest) + rest
}

/**
 * Connect options for `mqtt.protocolVersion`. Under MQTT 5 a session ends with its connection
 * unless a Session Expiry Interval is given (MQTT 5 section 3.1.2.11.2); 0xFFFFFFFF keeps it
 * as MQTT 3.1.1's clean=false does, so queued QoS 1 messages still wait for the agent. The
 * Receive Maximum (MQTT 5 section 3.1.2.11.3) is what the ack gate holds (MAX_HELD): a broker
 * left to its own default (Mosquitto's max_inflight_messages, 20) would keep the agent's
 * commit pipeline a few messages deep, since each PUBACK waits for its commit.
 */
export function protocolOptions (protocolVersion: 4 | 5): Pick<IClientOptions, 'protocolVersion' | 'properties'> {
  return protocolVersion === 5 ? { protocolVersion: 5, properties: { sessionExpiryInterval: 0xffff_ffff, receiveMaximum: MAX_HELD } } : { protocolVersion: 4 }
}

/**
 * The largest packet the trigger broker takes, kept up to date from each CONNACK, and the
 * fall back to MQTT 3.1.1 when a broker refuses MQTT 5 (CONNACK return code 1, Unacceptable
 * protocol version, MQTT 3.1.1 section 3.2.2.3; or reason code 0x84, Unsupported Protocol
 * Version, MQTT 5 section 3.2.2.2): the link then connects again speaking 3.1.1 and stays so
 * until the agent restarts.
 */
export class BrokerLimits {
  readonly #configured: number
  #broker: number | undefined
  #fallingBack = false

  constructor (maxPacketBytes: number) {
    this.#configured = maxPacketBytes
  }

  /** The smaller of mqtt.maxPacketBytes and the broker's Maximum Packet Size (MQTT 5 section 3.2.2.3.6). */
  get maxPacketBytes (): number {
    return Math.min(this.#configured, this.#broker ?? MQTT_MAX_PACKET_BYTES)
  }

  /**
   * True from a CONNACK refusing MQTT 5 until its socket closed and the 3.1.1 attempt began:
   * that close is not an outage (MqttLink.start keeps waiting, nothing is logged as down).
   */
  get fallingBack (): boolean { return this.#fallingBack }

  attach (client: MqttClient, log: (line: string) => void): void {
    client.on('connect', (connack: IConnackPacket) => {
      // Absent means no limit beyond the protocol's (MQTT 5 section 3.2.2.3.6), as under 3.1.1.
      this.#broker = connack.properties?.maximumPacketSize
    })
    client.on('error', (err: Error & { code?: unknown }) => {
      if (client.options.protocolVersion !== 5 || (err.code !== 1 && err.code !== 0x84)) return
      client.options.protocolVersion = 4
      this.#fallingBack = true
      delete client.options.properties
      log('trigger broker does not speak MQTT 5; reconnecting with MQTT 3.1.1 (no CONNACK packet size limit, loop detection by remembered publishes: see docs/functions.md, "Loops between functions")')
      // MQTT.js stops reconnecting after a refused CONNACK (its own 'close' handler, which
      // runs first, sets no timer), so the fallback connects once the refused socket closed.
      // The only reconnect started here: the link's own (mqtt-ack-hold.ts's drain) needs a live
      // connection, which a refused CONNACK never made, so the two cannot overlap.
      client.once('close', () => {
        this.#fallingBack = false
        // With no stores given, reconnect() puts fresh default ones in place of the link's (resend-store.ts).
        client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore })
      })
    })
  }
}
