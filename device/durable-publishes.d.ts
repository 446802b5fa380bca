import type { OutboxStore } from './store/index.js';
export interface OutgoingPublish {
    topic: string;
    payload: string | Uint8Array;
    qos: 0 | 1;
    retain: boolean;
    id?: number;
}
/** Where the publishes go: an MQTT client, or the embedded broker. */
export interface PublishSink {
    /** True while a publish handed over now goes out on a live connection. */
    ready: () => boolean;
    /** Sends `p`; `done` runs once the broker acknowledged it (QoS 1 PUBACK), with an error if it never will. */
    send: (p: OutgoingPublish, done: (err?: Error) => void) => void;
}
/**
 * QoS 1 publishes handed to the client and not yet acknowledged. MQTT.js keeps these in
 * memory (and sends them again after a reconnect), so this bounds that memory: at most
 * WINDOW x the 128 KiB publish cap.
 */
export declare const PUBLISH_WINDOW = 64;
export declare class DurablePublishes {
    #private;
    /** `onInflight` hears the number of publishes handed over and not yet acknowledged, on each change. */
    constructor(store: OutboxStore, onInflight?: (n: number) => void, window?: number);
    /** Connects the sink; call kick() when it becomes ready. */
    attach(sink: PublishSink): void;
    get inflight(): number;
    /**
     * A publish just committed with store id `p.id`. It goes out at once if the window has
     * room and nothing older waits in the store; otherwise it waits there (not in memory).
     */
    offer(p: OutgoingPublish & {
        id: number;
    }): void;
    /** Sends what waits in the store, while the sink is ready and the window has room. */
    kick(): void;
    /** Stops sending and waits for removals of acknowledged publishes, so the store closes last. */
    close(): Promise<void>;
}
