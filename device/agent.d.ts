import { EventEmitter } from 'node:events';
import type { DeviceConfig } from './config/index.js';
import { FunctionMetrics } from './metrics/index.js';
import type { TriggerLink } from './mqtt-link.js';
import type { Clock } from './triggers/index.js';
/** The trigger link gauge (1 up, 0 down and retrying), served with the other metrics. */
export declare const LINK_UP_METRIC = "trigger_link_up";
export declare const PUBLISHES_INFLIGHT_METRIC = "publishes_inflight";
export interface AgentOptions {
    /** Where the agent reports what it does (load errors, sensor trouble, broker state); URL credentials are redacted. */
    log?: (line: string) => void;
    clock?: Clock;
}
export declare class Agent extends EventEmitter {
    #private;
    readonly config: DeviceConfig;
    functionNames: string[];
    brokerPort: number | undefined;
    /** The embedded broker's URL for clients on this machine (set with brokerPort). */
    brokerUrl: string | undefined;
    metricsPort: number | undefined;
    readonly metrics: FunctionMetrics;
    private constructor();
    static create(config: DeviceConfig, opts?: AgentOptions): Promise<Agent>;
    /** The trigger link, once started: an MqttLink (mqtt.url) or an EmbeddedLink. */
    get triggerLink(): TriggerLink | undefined;
    /** Stops taking work, drains in-flight invocations, then undoes the start steps in reverse. */
    close(): Promise<void>;
}
