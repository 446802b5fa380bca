import type { MqttClient } from 'mqtt';
import type { MqttConfig } from './config/index.js';
import type { OutboxStore } from './store/index.js';
import type { OutgoingPublish } from './durable-publishes.js';
import type { OnTriggerMessage } from './trigger-message.js';
export interface LinkOptions {
    url: string;
    config: MqttConfig;
    /** Called for every message; its promise settles once the message's effects are durable. */
    onMessage: OnTriggerMessage;
    log: (line: string) => void;
    /** Told each time the connection comes up (true) or goes down (false). */
    onState?: (up: boolean) => void;
    /** Told how many QoS 1 publishes are handed to the client and not yet acknowledged. */
    onInflight?: (n: number) => void;
}
/** How long start() waits for the first connection attempt before the agent goes on without it. */
export declare const FIRST_ATTEMPT_MS = 10000;
/** How the agent meets its trigger broker: over MQTT, or in-process (embedded-link.ts). */
export interface TriggerLink {
    /** Records the filters; subscribes now if connected, else on connect. */
    subscribe: (filters: Map<string, 0 | 1>) => Promise<void>;
    /** Hands over a committed publish (a QoS 1 one carries its store id). */
    send: (p: OutgoingPublish) => void;
    /** Connects (or begins trying to) and starts sending publishes left from a previous run. */
    start: () => Promise<void>;
    stopAccepting: () => void;
    close: () => Promise<void>;
}
export declare class MqttLink implements TriggerLink {
    #private;
    readonly client: MqttClient;
    private constructor();
    /** Builds the client without connecting; start() connects. */
    static create(opts: LinkOptions, store: OutboxStore): MqttLink;
    /** create() then start(): resolves connected, or degraded if the broker is not up. */
    static connect(opts: LinkOptions, store: OutboxStore): Promise<MqttLink>;
    get up(): boolean;
    /** Connects; resolves after the first attempt succeeded (and subscribed) or failed. */
    start(): Promise<void>;
    subscribe(filters: Map<string, 0 | 1>): Promise<void>;
    /** Sends a committed publish; a QoS 1 one leaves the store when the broker acknowledges it. */
    send(p: OutgoingPublish): void;
    get droppedQoS0(): number;
    stopAccepting(): void;
    close(): Promise<void>;
}
