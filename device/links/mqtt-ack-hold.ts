// The MqttLink's commit gate: the trigger link's side of src/mqtt/ack-hold.ts, which holds each
// QoS 1 message's PUBACK until its effects are durable. Here a packet becomes the agent's
// TriggerMessage, with its identity in the session (processed once).
import type { MqttClient } from 'mqtt'
import { holdAcks as holdPacketAcks } from '../../src/mqtt/ack-hold.js'
import type { AckHold, GateClient } from '../../src/mqtt/ack-hold.js'
import type { MessageOrigin, OnTriggerMessage, TriggerMessage } from './trigger-link.js'

export { MAX_HELD } from '../../src/mqtt/ack-hold.js'
export type { AckHold } from '../../src/mqtt/ack-hold.js'

export interface AckHoldOptions {
  onMessage: OnTriggerMessage
  log: (line: string) => void
  /** True once the agent stops taking work: messages are then left with the broker. */
  closing: () => boolean
  /** A QoS 1 message's identity in the session (processed once); the link knows the connection. */
  origin?: (packetId: number, dup: boolean) => MessageOrigin
  /** Told of each PUBACK as it is written to MQTT.js (src/mqtt/ack-hold.ts). */
  written?: (packetId: number) => void
}

/** Installs the gate on the link's client (before it connects); see src/mqtt/ack-hold.ts for how it holds. */
export function holdAcks (client: MqttClient, opts: AckHoldOptions): AckHold {
  return holdPacketAcks(client as unknown as GateClient, {
    log: opts.log,
    closing: opts.closing,
    written: opts.written,
    // Not async: the gate's promise is the trigger's own, without a layer per hop (a promise
    // and a resumption per message on the relay path); a throw here still rejects it.
    onMessage: (packet) => {
      try {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
        const origin = packet.qos === 1 && packet.messageId !== undefined ? opts.origin?.(packet.messageId, packet.dup) : undefined
        const props = packet.properties
        const msg: TriggerMessage = {
          topic: packet.topic,
          payload,
          qos: packet.qos,
          retain: packet.retain,
          userProperties: props?.userProperties,
          origin
        }
        if (props?.responseTopic !== undefined) msg.responseTopic = props.responseTopic
        if (props?.correlationData !== undefined) msg.correlationData = Buffer.from(props.correlationData)
        return opts.onMessage(msg)
      } catch (err) {
        return Promise.reject(err)
      }
    }
  })
}
