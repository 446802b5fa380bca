// What the agent makes of its store's faults (src/store-fault.ts): one log line when a failed
// write trips the fault, one per failed reopen and one at the recovery, and two metrics:
// lambkin_store_faulted (1 while the store takes nothing) and lambkin_store_faults_total.
// Commits refused meanwhile are counted by the invoker in lambkin_commit_failures_total.
import type { FaultEvent } from '../src/store-fault.js'
import type { FunctionMetrics } from './metrics/index.js'

export const STORE_FAULTED_METRIC = 'store_faulted'
export const STORE_FAULTS_METRIC = 'store_faults_total'

export function storeFaultReporter (metrics: Pick<FunctionMetrics, 'register' | 'inc' | 'set'>, log: (line: string) => void): (e: FaultEvent) => void {
  metrics.register(STORE_FAULTED_METRIC, { type: 'gauge', help: 'Whether the outbox store is faulted (1): a write failed (disk full, I/O error) and it takes nothing until it has reopened and verified itself, which it retries alone. QoS 1 triggers stay unacknowledged meanwhile.' })
  metrics.register(STORE_FAULTS_METRIC, { type: 'counter', help: 'Times a failed write faulted the outbox store.' })
  metrics.set(STORE_FAULTED_METRIC, {}, 0)
  return (e) => {
    if (e.type === 'tripped') {
      metrics.set(STORE_FAULTED_METRIC, {}, 1)
      metrics.inc(STORE_FAULTS_METRIC)
      log(`LAMBKIN_STORE_FAULT: the outbox store failed a write (${e.state.message}); it takes nothing more until it has been reopened and checked, tried again in a second and then less often. QoS 1 trigger messages stay unacknowledged with their broker and come again; schedule and sensor runs are skipped and counted (lambkin_commit_failures_total). Free space on the data disk`)
    } else if (e.type === 'retry-failed') {
      log(`LAMBKIN_STORE_FAULT: reopening the outbox store failed (${e.state.message}); trying again in ${Math.round(e.nextInMs / 1000)} s`)
    } else {
      metrics.set(STORE_FAULTED_METRIC, {}, 0)
      log(`the outbox store is reopened and checked after ${e.after.attempts} tries; it takes writes again${e.note === undefined ? '' : `. WARNING: ${e.note}`}`)
    }
  }
}
