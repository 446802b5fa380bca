/**
 * One MQTT message as a trigger link received it (MQTT 5 section 3.3; 3.1.1 has no properties).
 * `payload` is the exact bytes; `retain` is set when the broker sent a retained message (on
 * subscribe, MQTT 5 section 3.3.1.3); `userProperties` are MQTT 5 user properties, if any.
 */
export interface TriggerMessage {
    topic: string;
    payload: Buffer;
    qos: 0 | 1 | 2;
    retain: boolean;
    userProperties?: Record<string, string | string[]>;
}
/** Called by a trigger link for every message; settles once the message's effects are durable. */
export type OnTriggerMessage = (msg: TriggerMessage) => Promise<void>;
/** The event's `payload`: JSON when the bytes parse as JSON, else the UTF-8 text. */
export declare function decodePayload(payload: Buffer): unknown;
