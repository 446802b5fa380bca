// The rollout view follows every report [W5], also for a rollout the engine no longer watches
// in memory (finished, its watch over): each desired slot remembers the rollout and device
// index that set it (`from`, registry/deploy-types.ts), so a report that mentions that
// deployment (a failure or rollback at its id and function: a bundle damaged while the board was
// off, a transient failure the board tried again) is judged into the rollout's stored view,
// reading and writing only the chunk that holds the device. A report that mentions nothing
// costs one registry read.
import type { ReportedFrame } from '../../src/wire/index.js'
import type { Registry, RolloutDevice, RolloutHeadRow } from '../registry/index.js'
import { countKey, judge, judgeable, sameVerdict, VERDICT_FIELDS } from './judge.js'
import type { Verdict } from './judge.js'

/** A verdict that changed a stored rollout's device. */
export interface Followed { rollout: RolloutHeadRow, device: RolloutDevice, verdict: Verdict }

/** Judges `rep` of `device` into the stored views of the rollouts (not `open`) that set its functions; returns what changed, written. */
export async function followClosed (
  registry: Registry,
  open: (rolloutId: string) => boolean,
  device: string,
  rep: ReportedFrame,
  now: number
): Promise<Followed[]> {
  const out: Followed[] = []
  const row = await registry.getDesired(device)
  for (const [fn, slot] of Object.entries(row?.functions ?? {})) {
    const from = slot.from
    if (from === undefined || open(from.rollout)) continue
    const mentions = (x: { deploymentId: number; name: string }): boolean => x.deploymentId === from.deploymentId && x.name === fn
    if (!rep.failures.some(mentions) && !rep.rollbacks.some(mentions)) continue
    const got = await registry.getRolloutDevice(from.rollout, from.index)
    if (got === undefined || got.device.id !== device || got.device.deploymentId !== from.deploymentId || !judgeable(got.device)) continue
    const { rollout, device: d } = got
    const v = judge(rollout, d, rep)
    // A device superseded in its window stays so until a failure or rollback says otherwise.
    if (v === undefined || sameVerdict(d, v) || (d.health === 'superseded' && v.state === 'applied')) continue
    rollout.counts[countKey(d.state)]--
    for (const k of VERDICT_FIELDS) delete d[k]
    Object.assign(d, v, { at: now })
    rollout.counts[countKey(d.state)]++
    rollout.revision++
    await registry.putRolloutDevice(rollout, from.index, d)
    out.push({ rollout, device: d, verdict: v })
  }
  return out
}
