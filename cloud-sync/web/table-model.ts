// The devices table's filter and sort, as pure functions over the rows: what the search box,
// the group and status pickers and the column headers do.
import type { FleetRow } from '../api/dashboard-types.js'

export type SortKey = 'id' | 'group' | 'state' | 'lastSeen' | 'agent' | 'backlog' | 'errorsHour'
export interface Sort { key: SortKey, dir: 1 | -1 }
/** '' for all; a state name; 'conflict', 'takeover' (two boards fight over the id) or 'mismatch' for those flags. */
export interface Filter { group: string, status: string, search: string }

/** Most alarming first when sorted by state ascending. */
const STATE_ORDER: Record<string, number> = { stale: 0, offline: 1, online: 2, 'never-seen': 3, revoked: 4 }

function matches (r: FleetRow, f: Filter, needle: string): boolean {
  if (f.group !== '' && (r.group ?? '') !== f.group) return false
  if (f.status === 'conflict') { if (r.conflict === null) return false } else if (f.status === 'takeover') { if (r.takeovers?.shared !== true) return false } else if (f.status === 'mismatch') { if (!r.mismatch) return false } else if (f.status !== '' && r.state !== f.status) return false
  if (needle === '') return true
  if (r.id.includes(needle) || (r.group ?? '').includes(needle) || (r.agent ?? '').toLowerCase().includes(needle)) return true
  for (const fn of r.functions) if (fn.name.includes(needle)) return true
  return false
}

/** The rows `f` keeps, in their order (the same array when it keeps all). */
export function filterRows (rows: readonly FleetRow[], f: Filter): readonly FleetRow[] {
  const needle = f.search.trim().toLowerCase()
  if (f.group === '' && f.status === '' && needle === '') return rows
  const out: FleetRow[] = []
  for (const r of rows) if (matches(r, f, needle)) out.push(r)
  return out
}

const str = (a: string | null, b: string | null): number => (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0

function compare (key: SortKey): (a: FleetRow, b: FleetRow) => number {
  switch (key) {
    case 'id': return (a, b) => str(a.id, b.id)
    case 'group': return (a, b) => str(a.group, b.group)
    case 'state': return (a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9)
    case 'lastSeen': return (a, b) => (a.lastSeen ?? -1) - (b.lastSeen ?? -1)
    case 'agent': return (a, b) => str(a.agent, b.agent)
    case 'backlog': return (a, b) => (a.backlog?.records ?? -1) - (b.backlog?.records ?? -1)
    case 'errorsHour': return (a, b) => a.errorsHour - b.errorsHour
  }
}

/** A sorted copy by `s`, ties by id so the order never jumps between updates. */
export function sortRows (rows: readonly FleetRow[], s: Sort): FleetRow[] {
  const c = compare(s.key)
  return rows.slice().sort((a, b) => (c(a, b) * s.dir) || str(a.id, b.id))
}

export function groupsOf (rows: readonly FleetRow[]): string[] {
  const set = new Set<string>()
  for (const r of rows) if (r.group !== null) set.add(r.group)
  return [...set].sort()
}
