// Where sensor and schedule triggers count what they drop: the agent's metrics registry
// (device/metrics FunctionMetrics fits as is), or nothing when a trigger runs on its own.
import type { MetricDefinition } from '../metrics/index.js'

/** The part of the metrics registry a trigger uses: register once, then bump counters. */
export interface TriggerCounters {
  register: (name: string, def: MetricDefinition) => void
  inc: (name: string, labels: Record<string, string>, n?: number) => void
}

/**
 * Registers `name` and returns a function that bumps it, or a no-op without a registry.
 * Counting must never stop a trigger: a refused bump (series cap) is the registry's to count.
 */
export function counter (sink: TriggerCounters | undefined, name: string, def: MetricDefinition): (labels: Record<string, string>, n?: number) => void {
  if (sink === undefined) return () => {}
  sink.register(name, def)
  return (labels, n = 1) => {
    if (n <= 0) return
    try {
      sink.inc(name, labels, n)
    } catch {}
  }
}

export function isCounters (v: unknown): v is TriggerCounters {
  const c = v as Partial<TriggerCounters> | null | undefined
  return typeof c?.register === 'function' && typeof c.inc === 'function'
}
