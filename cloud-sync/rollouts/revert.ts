// What an aborted rollout puts back (RolloutEngine's abort, engine.ts; docs/deploy.md,
// "Rollouts"): each device whose desired slot still holds the rollout's bundle goes back to the
// newest entry it applied and kept before (goodBefore), or loses the function when there is
// none, and the aborted version leaves its good history. Reads the registry, writes nothing.
import { own } from '../../src/own.js'
import { goodBefore } from '../registry/deploy-plan.js'
import type { DesiredChange, HistoryNote, Registry, RolloutRow } from '../registry/index.js'

/** The revert of `r`: desired changes and history notes to apply, and the indexes of devices that had moved (not failed or rolled back). */
export async function planRevert (registry: Registry, r: RolloutRow): Promise<{ changes: DesiredChange[], notes: HistoryNote[], moved: number[] }> {
  const changes: DesiredChange[] = []
  const notes: HistoryNote[] = []
  const moved: number[] = []
  for (const [i, d] of r.devices.entries()) {
    if (d.deploymentId === undefined) continue
    const slot = own((await registry.getDesired(d.id))?.functions, r.fn)
    const ours = r.alias === 'canary' ? slot?.current?.canary?.sha256 : slot?.current?.live.sha256
    if (ours !== r.sha256) continue
    const keep =
      slot === undefined
        ? undefined
        : { ...slot, good: (slot.good ?? []).filter((e) => e.live.sha256 !== r.sha256 && e.canary?.sha256 !== r.sha256) }
    changes.push({ device: d.id, fn: r.fn, to: goodBefore(keep) ?? null })
    notes.push({ device: d.id, fn: r.fn, badVersion: r.version })
    if (d.state !== 'failed' && d.state !== 'rolled-back') moved.push(i)
  }
  return { changes, notes, moved }
}
