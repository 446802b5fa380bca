import type { MetricDefinition } from '../metrics/index.js';
/** The part of the metrics registry a trigger uses: register once, then bump counters. */
export interface TriggerCounters {
    register: (name: string, def: MetricDefinition) => void;
    inc: (name: string, labels: Record<string, string>, n?: number) => void;
}
/**
 * Registers `name` and returns a function that bumps it, or a no-op without a registry.
 * Counting must never stop a trigger: a refused bump (series cap) is the registry's to count.
 */
export declare function counter(sink: TriggerCounters | undefined, name: string, def: MetricDefinition): (labels: Record<string, string>, n?: number) => void;
export declare function isCounters(v: unknown): v is TriggerCounters;
