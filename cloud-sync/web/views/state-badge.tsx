// A device's state in words with a symbol of its own shape, so it reads without colour; and the
// warning that two boards fight over its id (takeovers of its connection).
import type { FleetTakeovers } from '../../api/dashboard-types.js'
import { ago, STATE_WORDS, when } from '../format.js'

const SYMBOL: Record<string, string> = { online: '●', stale: '◐', offline: '○', 'never-seen': '–', revoked: '⊘' }

/** The state `conflict` (views.ts: within an hour of a refused batch) is the conflict badge alone, not a second word for it. */
export function StateBadge ({ state, conflict }: { state: string, conflict?: string | null }) {
  return (
    <span class='badges'>
      {state !== 'conflict' && <span class={`state state-${state}`}><span aria-hidden='true'>{SYMBOL[state] ?? '?'}</span> {STATE_WORDS[state] ?? state}</span>}
      {((conflict !== undefined && conflict !== null) || state === 'conflict') && <span class='state state-conflict' title={conflict ?? undefined}><span aria-hidden='true'>⚠</span> in conflict</span>}
    </span>
  )
}

/**
 * The takeover warning of a device row (FleetRow.takeovers): shown while two boards fight over
 * the id (`shared`: 3 or more takeovers in 10 min), with how many in those 10 min and when the
 * last was (the tooltip says what it means and what to do); null otherwise.
 */
export function TakeoverBadge ({ t, now }: { t: FleetTakeovers | null, now: number }) {
  if (t === null || !t.shared) return null
  const title = `Two boards use this id (a cloned card?): each connection takes over the other's. ${t.recent} takeovers in the last 10 min, ${t.count} in all, the last at ${when(t.lastAt)}. Give each board its own id: lambkin devices add <new-id>, then a new config on one of them.`
  return <span class='state state-takeover' title={title}><span aria-hidden='true'>⚠</span> id shared: {t.recent}× · last {ago(t.lastAt, now)}</span>
}
