import type { Aedes, Client } from 'aedes';
/**
 * Throws LAMBKIN_CONFIG_INVALID naming broker.maxPacketBytes when the installed mqtt-packet no
 * longer has the parser steps this file wraps, so an upgrade that moved them stops the broker
 * from starting instead of silently dropping the cap.
 */
export declare function checkParserShape(broker: Aedes): void;
/**
 * Makes `client`'s parser refuse any packet whose total size (fixed header included, as in
 * MQTT 5 section 3.1.2.11.4 "Maximum Packet Size") exceeds `maxBytes`: the parser errors,
 * aedes closes the connection (MQTT 3.1.1 has no reason code to send; aedes speaks only 3.1.1,
 * so the MQTT 5 DISCONNECT 0x95 does not apply) and nothing of the packet is processed.
 */
export declare function limitPacketSize(client: Client, maxBytes: number, onTooLarge: (bytes: number) => void): void;
