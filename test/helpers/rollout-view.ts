// Rollout views as the operator API answers them, built from a list of device states, for the
// CLI's pure rollout code.
import type { DeviceRolloutState, RolloutDevice, RolloutView } from '../../cli/rollout-view.js'

/** A view of rollout `r-1` of `thermo` version 3 whose devices are in `states` (id -> state or device fields). */
export function rolloutView (states: Record<string, DeviceRolloutState | Omit<RolloutDevice, 'id'>>, over: Partial<RolloutView> = {}): RolloutView {
  const devices: RolloutDevice[] = Object.entries(states).map(([id, s]) => typeof s === 'string' ? { id, state: s } : { id, ...s })
  const n = (st: DeviceRolloutState): number => devices.filter((d) => d.state === st).length
  return {
    id: 'r-1',
    kind: 'deploy',
    fn: 'thermo',
    version: '0123456789abcdef',
    number: 3,
    sha256: 'a'.repeat(64),
    to: 'group:greenhouse',
    alias: 'live',
    state: 'running',
    createdAt: Date.UTC(2026, 10, 30, 12),
    revision: 1,
    abortAtPercent: 100,
    timeoutMs: 120_000,
    counts: { total: devices.length, pending: n('pending'), sent: n('sent'), applied: n('applied'), failed: n('failed'), rolledBack: n('rolled-back'), offline: n('offline'), skipped: n('skipped') },
    devices,
    ...over
  }
}
