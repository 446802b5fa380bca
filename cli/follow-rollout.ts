// Following a rollout until it ends: long-polls GET /v1/rollouts/:id?since=&wait= and turns
// each new view into events. Bounded on every side: a deadline from the rollout's own
// timeouts, a cloud that stops answering for too long, and Ctrl-C (which stops following, never
// the rollout). Shared by `lambkin deploy` and `lambkin rollback`.
import { ErrorCodes } from '../src/errors.js'
import { diffRollout, rolloutOutcome } from './rollout-events.js'
import type { EndEvent, RolloutEvent } from './rollout-events.js'
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
}

/** How the following ended: `end` is the outcome (also sent to onEvent), absent when interrupted. */
export interface FollowResult { view: RolloutView, interrupted: boolean, end?: EndEvent }

/**
 * When following gives up on a rollout the cloud still shows running, ms since the epoch:
 * what the rollout can take (the pace for every target at `ratePerMin`, plus one per-device
 * timeout) and FOLLOW_MARGIN_MS. The cloud's own timeouts end a rollout well before that.
 */
export function followDeadline (v: RolloutView, now: number): number {
  const pacing = v.ratePerMin === undefined ? 0 : v.counts.total / v.ratePerMin * 60_000
  return now + pacing + v.timeoutMs + FOLLOW_MARGIN_MS
}

const STOP: unique symbol = Symbol('stop')

const defaultSleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Follows `first` until its state is no longer `running`, the deadline passes (outcome
 * LAMBKIN_DEPLOY_TIMEOUT), or `stopped` settles (interrupted, no outcome).
 * @throws LambkinError from the API other than LAMBKIN_CLOUD_UNAVAILABLE, or that one once the
 *   API has been unreachable for maxUnavailableMs.
 */
export async function followRollout (first: RolloutView, o: FollowOptions): Promise<FollowResult> {
  const now = o.now ?? Date.now
  const sleep = o.sleep ?? defaultSleep
  const stopped = (o.stopped ?? new Promise<never>(() => {})).then((): typeof STOP => STOP)
  const deadline = followDeadline(first, now())
  let view = first
  let unavailableSince: number | undefined
  for (const e of diffRollout(undefined, view)) o.onEvent(e)
  while (view.state === 'running' && now() < deadline) {
    let next: RolloutView | typeof STOP
    try {
      next = await Promise.race([o.fetchView(view.revision, Math.max(1, Math.min(POLL_WAIT_MS, deadline - now()))), stopped])
    } catch (err) {
      if ((err as { code?: string }).code !== ErrorCodes.CLOUD_UNAVAILABLE) throw err
      unavailableSince ??= now()
      if (now() - unavailableSince >= (o.maxUnavailableMs ?? 60_000)) throw err
      if (await Promise.race([sleep(o.retryMs ?? 1000), stopped]) === STOP) return { view, interrupted: true }
      continue
    }
    if (next === STOP) return { view, interrupted: true }
    unavailableSince = undefined
    for (const e of diffRollout(view, next)) o.onEvent(e)
    view = next
  }
  const end = rolloutOutcome(view)
  o.onEvent(end)
  return { view, interrupted: false, end }
}
