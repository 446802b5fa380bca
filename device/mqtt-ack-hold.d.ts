import type { MqttClient } from 'mqtt';
import type { OnTriggerMessage } from './trigger-message.js';
/** QoS 1 messages taken in before their PUBACK has been released. */
export declare const MAX_HELD = 256;
export interface AckHoldOptions {
    onMessage: OnTriggerMessage;
    log: (line: string) => void;
    /** True once the agent stops taking work: messages are then left with the broker. */
    closing: () => boolean;
}
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
export declare function holdAcks(client: MqttClient, opts: AckHoldOptions): void;
