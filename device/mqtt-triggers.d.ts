import type { MqttTrigger } from '../src/function/index.js';
import type { Clock } from './triggers/index.js';
import type { Invoker } from './invoker.js';
import type { OutboxStore } from './store/index.js';
import type { TriggerMessage } from './trigger-message.js';
export interface MqttTriggersOptions {
    invoker: Invoker;
    store: OutboxStore;
    clock: Clock;
    log: (line: string) => void;
}
export declare class MqttTriggers {
    #private;
    constructor(opts: MqttTriggersOptions);
    add(fn: string, trigger: MqttTrigger, index: number): void;
    /** Every filter to subscribe to, at the highest QoS any function asks of it. */
    filters(): Map<string, 0 | 1>;
    subscribe(link: {
        subscribe: (f: Map<string, 0 | 1>) => Promise<void>;
    }): Promise<void>;
    /** Reloads batch records acknowledged before a restart and schedules their flush. */
    restore(): Promise<void>;
    onMessage({ topic, payload, qos }: TriggerMessage): Promise<void>;
    /** Stops batch timers; pending batch records stay in the store for the next start. */
    close(): Promise<void>;
}
