// What a rollout verdict from a device's report teaches the registry (RolloutEngine in
// engine.ts, for open rollouts and for closed ones a report still reaches, follow.ts): the
// slot's good history, which rollbacks and aborts go back to, and a desired state that
// converges to what the device really runs [W5].
import type { ReportedFrame } from '../../src/wire/index.js'
import { own } from '../../src/own.js'
import type { Registry, RolloutDevice, RolloutRow } from '../registry/index.js'
import { sameEntry } from '../registry/deploy-plan.js'
import { runningEntry } from './desired.js'
import type { DesiredPublisher } from './desired.js'
import type { Verdict } from './judge.js'

/**
 * Applied: what the device runs now goes to the slot's good history (rollback and abort
 * targets), or, for a rollback, the history after it is cut (the versions rolled back from are
 * not gone back to). Failed or rolled-back: that version leaves the history, and when the
 * device's desired state still names it, the desired entry becomes what the device runs now
 * (or none) under a new deployment id, so no later deployment id sends the bad version again.
 */
export async function learnFromVerdict (
  reg: Registry,
  desired: DesiredPublisher,
  r: Pick<RolloutRow, 'fn' | 'alias' | 'kind'>,
  d: RolloutDevice,
  v: Verdict,
  rep: ReportedFrame
): Promise<void> {
  // A transient failure says nothing about the version: the device tries it again, so its
  // desired state keeps naming it and its history keeps it.
  if (v.transient === true) return
  const running = await runningEntry(reg, rep, r.fn)
  if (v.state === 'applied') {
    // A rollback that applied is a step back in the history, not a new newest entry.
    if (running !== null) await reg.noteHistory([{ device: d.id, fn: r.fn, ...(r.kind === 'rollback' ? { backTo: running } : { good: running }) }])
    return
  }
  if (d.version === undefined) return
  await reg.noteHistory([{ device: d.id, fn: r.fn, badVersion: d.version }])
  const current = own((await reg.getDesired(d.id))?.functions, r.fn)?.current
  const names = r.alias === 'canary' ? current?.canary?.version : current?.live.version
  if (names === d.version && !sameEntry(current, running)) await desired.apply([{ device: d.id, fn: r.fn, to: running }])
}
