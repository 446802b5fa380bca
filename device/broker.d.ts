import type { BrokerUser } from './broker/access.js';
import type { FunctionMetrics } from './metrics/index.js';
import type { OnTriggerMessage } from './trigger-message.js';
export interface EmbeddedBroker {
    port: number;
    url: string;
    /**
     * Runs `hook` on every client publish before aedes answers it: a QoS 1 PUBACK leaves only
     * once the hook's promise settles, so the publisher keeps (and re-sends) what is not durable.
     */
    onPublish: (hook: OnTriggerMessage) => void;
    /** Publishes from inside the agent; `done` runs once aedes has delivered or stored it. */
    publish: (topic: string, payload: Buffer, qos: 0 | 1, retain: boolean, done: (err?: Error) => void) => void;
    close: () => Promise<void>;
}
/** The `broker` config section (device/config/types.ts BrokerConfig), users read-only. */
export interface BrokerSettings {
    users: readonly BrokerUser[];
    allowAnonymous?: boolean;
    maxPacketBytes: number;
    maxConnections: number;
    connectTimeoutMs: number;
    maxKeepaliveSec: number;
}
export interface EmbeddedBrokerOptions {
    /** Unset keys take DEVICE_DEFAULTS.broker (no users: anonymous, loopback only). */
    settings?: Partial<BrokerSettings>;
    /** Where `lambkin_broker_refused_total{reason}` is counted. */
    metrics?: Pick<FunctionMetrics, 'register' | 'inc'>;
    log?: (line: string) => void;
}
/**
 * Starts aedes on host:port (0 = ephemeral). Throws LAMBKIN_CONFIG_INVALID when the port
 * cannot be bound, or (key broker.users) when a host beyond loopback has no users and
 * allowAnonymous is not true.
 */
export declare function startEmbeddedBroker(host: string, port: number, opts?: EmbeddedBrokerOptions): Promise<EmbeddedBroker>;
