// What the device says about its deployments [W5]: the `up/reported` frame built from the
// active set and the function table, and the failures a stale (replayed or older) desired
// state adds.
import { ErrorCodes } from '../../src/errors.js'
import type { DesiredFrame, RefusedDesired, ReportedFailure, ReportedFrame } from '../../src/wire/index.js'
import type { FunctionTable } from '../invoke/function-table.js'
import { reportedOf } from './active-set.js'
import { own } from '../../src/own.js'
import type { ActiveSet } from './active-set.js'

/**
 * `up/reported` [W5]: every function that runs now (a deployed one with its sha256 and
 * canary, and the ms left in its health window of `windowMs` while one is open; a local one
 * by version only), the newest deployment acted on, and the history. `leftMs`: what the health
 * gate says is left of a function's window, on the monotonic clock (a wall clock stepped back
 * made the wall-clock difference read hours); without an answer, the wall-clock difference.
 */
export function buildReported (
  set: ActiveSet, table: FunctionTable, applying: boolean, now: number, windowMs: number, refusedDesired?: RefusedDesired,
  leftMs: (name: string) => number | undefined = () => undefined
): ReportedFrame {
  const functions = table.names().map((name) => {
    const dep = own(set.functions, name)
    const version = table.routeOf(name)?.live.version ?? ''
    if (dep === undefined || version !== dep.live.version) return { name, version }
    const f = reportedOf(name, dep)
    // The window's verdict is what `lambkin deploy` waits for (docs/cli.md, "Deploying").
    if (dep.window !== undefined) f.watching = leftMs(name) ?? Math.max(0, Math.round(dep.window.startedAt + windowMs - now))
    return f
  })
  return {
    deploymentId: set.deploymentId,
    applying,
    functions,
    failures: [...set.failures],
    rollbacks: [...set.rollbacks],
    time: now,
    ...(refusedDesired === undefined ? {} : { refusedDesired })
  }
}

/**
 * Records LAMBKIN_DEPLOYMENT_STALE for each function of a desired state older than the one
 * acted on (once per deployment id and function: a retained frame comes again on every
 * connect). Mutates `set.failures`; returns the entries added.
 */
export function staleFailures (set: ActiveSet, f: DesiredFrame, at: number): ReportedFailure[] {
  const message = `deployment ${f.deploymentId} is older than deployment ${set.deploymentId}, which this device already acted on; it is refused and the running versions keep running`
  const added: ReportedFailure[] = []
  for (const fn of f.functions) {
    if (set.failures.some((x) => x.deploymentId === f.deploymentId && x.name === fn.name && x.code === ErrorCodes.DEPLOYMENT_STALE)) continue
    const entry: ReportedFailure = { deploymentId: f.deploymentId, name: fn.name, version: fn.live.version, code: ErrorCodes.DEPLOYMENT_STALE, message, at }
    if (fn.rollout !== undefined) entry.rollout = fn.rollout
    set.failures.push(entry)
    added.push(entry)
  }
  return added
}
