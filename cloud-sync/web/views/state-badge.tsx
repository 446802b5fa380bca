// A device's state in words with a symbol of its own shape, so it reads without colour.
import { STATE_WORDS } from '../format.js'

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
