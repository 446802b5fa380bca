import type { EmbeddedBroker } from './broker.js';
import type { TriggerLink } from './mqtt-link.js';
import type { OutboxStore } from './store/index.js';
import type { OutgoingPublish } from './durable-publishes.js';
import type { OnTriggerMessage } from './trigger-message.js';
export declare class EmbeddedLink implements TriggerLink {
    #private;
    constructor(broker: EmbeddedBroker, store: OutboxStore, onMessage: OnTriggerMessage, onInflight?: (n: number) => void);
    subscribe(): Promise<void>;
    start(): Promise<void>;
    send(p: OutgoingPublish): void;
    stopAccepting(): void;
    close(): Promise<void>;
}
