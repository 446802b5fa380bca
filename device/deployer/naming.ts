// How the device names a deployment in its log lines and reports (and the console line of a swap): by the cloud's rollout id
// when the desired state carries one (`rollout r3`, as `lambkin deploy` and `lambkin rollouts`
// show it), else by the desired state's deployment id (a change the cloud made without a
// rollout: converging desired state to a report, an aborted rollout putting devices back).
import type { DesiredFrame } from '../../src/wire/index.js'
import type { DeployedFunction } from './active-set.js'

/** `rollout r3`, or `deployment 4` when no rollout is known. */
export function deploymentName (deploymentId: number, rollout?: string): string {
  return rollout === undefined ? `deployment ${deploymentId}` : `rollout ${rollout}`
}

/** A whole desired state's name: the rollouts its functions name (`rollout r3`, `rollouts r3, r4`), else its deployment id. */
export function frameName (f: Pick<DesiredFrame, 'deploymentId' | 'functions'>, names?: ReadonlySet<string>): string {
  const named = f.functions.filter((x) => names === undefined || names.has(x.name))
  const ids = [...new Set(named.map((x) => x.rollout).filter((r): r is string => r !== undefined))]
  if (ids.length === 0) return deploymentName(f.deploymentId)
  return ids.length === 1 ? `rollout ${ids[0]}` : `rollouts ${ids.join(', ')}`
}

/** The console line of a swap: `ticker: rollout r3: version 1a2b... swapped in (was 9f8e...); health window 30000 ms`. */
export function swapLine (name: string, e: DeployedFunction, windowMs: number): string {
  const now = e.canary === undefined ? `version ${e.live.version}` : `version ${e.live.version} with canary ${e.canary.version} at ${e.canary.weight}%`
  const p = e.previous
  const was = p === null ? ' (first deployed version)' : ` (was ${p.live.version}${p.canary === undefined ? '' : ` with canary ${p.canary.version}`})`
  const window = e.window === undefined ? '' : `; health window ${windowMs} ms`
  return `${name}: ${deploymentName(e.deploymentId, e.rollout)}: ${now} swapped in${was}${window}`
}
