// Following a rollout until it ends: long-polls GET /v1/rollouts/:id?since=&wait= and turns
// each new view into events. Bounded on every side: a deadline from the rollout's own
// timeouts, a cloud that stops answering for too long, and Ctrl-C (which stops following, never
// the rollout). Shared by `lambkin deploy` and `lambkin rollback`.
import { isPassingOutage } from './api-client.js'
import { diffRollout, rolloutOutcome, settled, watching } from './rollout-events.js'
import type { EndEvent, RolloutEvent, WaitFor } from './rollout-events.js'
import type { RolloutView } from './rollout-view.js'

/** Longest single long-poll, ms (the API answers within 30 s at most). */
export const POLL_WAIT_MS = 25_000

/** Extra time past what the rollout itself allows before the command stops following, ms. */
export const FOLLOW_MARGIN_MS = 60_000

export interface FollowOptions {
  /** The next view after revision `since`, answered as soon as there is one or after `waitMs`. */
  fetchView: (since: number, waitMs: number) => Promise<RolloutView>
  onEvent: (e: RolloutEvent) => void
  /** Settles when the user asks to stop following (Ctrl-C). */
  stopped?: Promise<unknown>
  /** ms since the epoch; default Date.now. */
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  /** How long the API may stay unreachable before following fails, ms (default 60000). */
  maxUnavailableMs?: number
  /** Pause between tries while the API is unreachable, ms (default 1000). */
  retryMs?: number
  /**
   * Told once when the API stops answering (`lost` true, with the error and how long it is
   * waited for, ms) and once when it answers again (`lost` false), so the operator is not left
   * looking at a silent command for a minute.
   */
  onOutage?: (lost: boolean, err: unknown, waitMs: number) => void
  /**
   * Wait for every online target's health verdict, and for offline targets as long as the
   * rollout gives a device to answer (its pacing and per-device timeout), rather than for the
   * rollout's end alone (rollout-events.ts, WaitFor). Default false.
   */
  verdict?: boolean
}

/** How the following ended: `end` is the outcome (also sent to onEvent), absent when interrupted. */
export interface FollowResult { view: RolloutView, interrupted: boolean, end?: EndEvent }

/**
 * When following gives up on a rollout the cloud still shows running, ms since the epoch:
 * what the rollout can take (the pace for every target at `ratePerMin`, plus one per-device
 * timeout) and FOLLOW_MARGIN_MS. The cloud's own timeouts end a rollout well before that.
 */
export function followDeadline (v: RolloutView, now: number): number {
  return answerBy(v, now) + FOLLOW_MARGIN_MS
}

/** When every target should have answered, ms since the epoch: the pace for every target, then one per-device timeout. */
export function answerBy (v: RolloutView, now: number): number {
  const pacing = v.ratePerMin === undefined ? 0 : v.counts.total / v.ratePerMin * 60_000
  return now + pacing + v.timeoutMs
}

/**
 * The deadline moved past the health window of each device of `v` that started watching one
 * since the last call (`seen`: what each device said was left, plus FOLLOW_MARGIN_MS), once per
 * window: a device that never reports its verdict cannot hold the command for ever.
 */
function pastWindows (deadline: number, v: RolloutView, now: number, seen: Set<string>): number {
  let out = deadline
  for (const d of v.devices) {
    const key = `${d.id}@${String(d.deploymentId)}`
    if (!watching(d) || seen.has(key)) continue
    seen.add(key)
    out = Math.max(out, now + (d.watchLeftMs ?? 0) + FOLLOW_MARGIN_MS)
  }
  return out
}

const STOP: unique symbol = Symbol('stop')

const defaultSleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Follows `first` until it settles (its state is no longer `running` and, with `verdict`, every
 * online target has its health verdict and offline ones had their time), the deadline passes
 * (outcome LAMBKIN_DEPLOY_TIMEOUT), or `stopped` settles (interrupted, no outcome).
 * @throws LambkinError from the API other than a passing outage (isPassingOutage:
 *   LAMBKIN_CLOUD_UNAVAILABLE, LAMBKIN_DB_UNAVAILABLE), or that one once it has lasted maxUnavailableMs.
 */
export async function followRollout (first: RolloutView, o: FollowOptions): Promise<FollowResult> {
  const now = o.now ?? Date.now
  const sleep = o.sleep ?? defaultSleep
  const stopped = (o.stopped ?? new Promise<never>(() => {})).then((): typeof STOP => STOP)
  const start = now()
  const wait: WaitFor = { verdict: o.verdict === true, offlineUntil: answerBy(first, start) }
  let deadline = followDeadline(first, start)
  const windows = new Set<string>()
  let view = first
  let unavailableSince: number | undefined
  for (const e of diffRollout(undefined, view)) o.onEvent(e)
  for (;;) {
    if (wait.verdict) deadline = pastWindows(deadline, view, now(), windows)
    if (settled(view, wait, now()) || now() >= deadline) break
    // Offline targets are waited for until offlineUntil: the poll ends by then to look again.
    const until = wait.verdict && view.state !== 'running' && view.counts.offline > 0 && now() < (wait.offlineUntil ?? 0) ? Math.min(deadline, wait.offlineUntil ?? deadline) : deadline
    let next: RolloutView | typeof STOP
    try {
      next = await Promise.race([o.fetchView(view.revision, Math.max(1, Math.min(POLL_WAIT_MS, until - now()))), stopped])
    } catch (err) {
      if (!isPassingOutage(err)) throw err
      const maxMs = o.maxUnavailableMs ?? 60_000
      if (unavailableSince === undefined) o.onOutage?.(true, err, maxMs)
      unavailableSince ??= now()
      if (now() - unavailableSince >= maxMs) throw err
      if (await Promise.race([sleep(o.retryMs ?? 1000), stopped]) === STOP) return { view, interrupted: true }
      continue
    }
    if (next === STOP) return { view, interrupted: true }
    if (unavailableSince !== undefined) o.onOutage?.(false, undefined, 0)
    unavailableSince = undefined
    for (const e of diffRollout(view, next)) o.onEvent(e)
    view = next
  }
  const end = rolloutOutcome(view, wait)
  o.onEvent(end)
  return { view, interrupted: false, end }
}
