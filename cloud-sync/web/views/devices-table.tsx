// The devices table: search, group and status filters, sortable columns, and only the rows in
// view are in the page (a fixed row height places them), so 10,000 devices scroll and filter
// smoothly; it shows the fleet's first page at once and says how far the rest has come. Each
// row links to its device page; a function whose active version is not the desired one is
// marked with words and a symbol, not colour alone.
import { computed, signal } from '@preact/signals'
import { useEffect, useRef, useState } from 'preact/hooks'
import type { FleetFunction, FleetRow } from '../../api/dashboard-types.js'
import { ago, bytes, count, version, when } from '../format.js'
import { loading, now, rows } from '../fleet-store.js'
import { deviceHref } from '../route.js'
import { filterRows, groupsOf, sortRows } from '../table-model.js'
import type { Filter, Sort, SortKey } from '../table-model.js'
import { StateBadge, TakeoverBadge } from './state-badge.js'

export const filter = signal<Filter>({ group: '', status: '', search: '' })
export const sort = signal<Sort>({ key: 'state', dir: 1 })
// Sorted when the rows or the order change, filtered (keeping that order) when the filter
// does: typing in the search box costs one pass over the rows, not a sort.
const sorted = computed(() => sortRows(rows.value, sort.value))
const shown = computed(() => filterRows(sorted.value, filter.value))
const groups = computed(() => groupsOf(rows.value))

/** Row heights in px, as styles.css lays rows out (two lines on a narrow screen). */
const ROW_PX = { wide: 44, narrow: 76 }
const NARROW = '(max-width: 760px)'
/** Rows rendered beyond the visible ones, above and below. */
const OVERSCAN = 8

const COLUMNS: Array<{ key: SortKey | null, label: string }> = [
  { key: 'id', label: 'Device' },
  { key: 'group', label: 'Group' },
  { key: 'state', label: 'Status' },
  { key: 'agent', label: 'Agent' },
  { key: null, label: 'Functions (active / desired)' },
  { key: 'backlog', label: 'Backlog' },
  { key: 'errorsHour', label: 'Errors/h' }
]

function FunctionChip ({ f }: { f: FleetFunction }) {
  const mismatch = f.desired !== null && f.desired !== f.version
  const active = version(f.version, f.number)
  return (
    <span class={mismatch ? 'fn fn-mismatch' : 'fn'} title={mismatch ? `${f.name}: runs ${active}, desired ${version(f.desired, f.desiredNumber)}` : `${f.name} ${f.version ?? ''}`}>
      {mismatch && <span aria-hidden='true'>⚠ </span>}{f.name} {active}{mismatch && <> ≠ desired {version(f.desired, f.desiredNumber)}</>}
      {f.canary !== null && <> + canary {f.canary.version.slice(0, 8)} {f.canary.weight}%</>}
    </span>
  )
}

function Row ({ r, index, top }: { r: FleetRow, index: number, top: number }) {
  const fns = r.functions.slice(0, 3)
  return (
    <div role='row' class={`row${r.mismatch ? ' row-mismatch' : ''}${r.takeovers?.shared === true ? ' row-takeover' : ''}`} aria-rowindex={index + 2} style={{ transform: `translateY(${top}px)` }}>
      <span role='cell' class='c-id'><a href={deviceHref(r.id)}>{r.id}</a></span>
      <span role='cell' class='c-group'>{r.group ?? '-'}</span>
      <span role='cell' class='c-state'>
        <span class='state-line'><StateBadge state={r.state} conflict={r.conflict} />{r.lastSeen !== null && <> <span class='seen' title={when(r.lastSeen)}>{ago(r.lastSeen, now.value)}</span></>}</span>
        {r.takeovers?.shared === true && <> <TakeoverBadge t={r.takeovers} now={now.value} /></>}
      </span>
      <span role='cell' class='c-agent'>{r.agent ?? '-'}</span>
      <span role='cell' class='c-fns'>{fns.length === 0 ? '-' : fns.map((f) => <FunctionChip key={f.name} f={f} />)}{r.functions.length > 3 && <span class='fn-more'>+{r.functions.length - 3} more</span>}</span>
      <span role='cell' class='c-backlog'>{r.backlog === null ? '-' : `${count(r.backlog.records)} (${bytes(r.backlog.bytes)})`}</span>
      <span role='cell' class='c-errors'>{count(r.errorsHour)}</span>
    </div>
  )
}

function Header () {
  const s = sort.value
  const toggle = (key: SortKey): void => { sort.value = { key, dir: s.key === key ? (s.dir === 1 ? -1 : 1) : 1 } }
  return (
    <div role='row' class='row head' aria-rowindex={1}>
      {COLUMNS.map((c) => (
        <span key={c.label} role='columnheader' class={`c-${c.key ?? 'fns'}`} aria-sort={c.key !== null && s.key === c.key ? (s.dir === 1 ? 'ascending' : 'descending') : undefined}>
          {c.key === null ? c.label : <button type='button' onClick={() => toggle(c.key as SortKey)}>{c.label}{s.key === c.key ? (s.dir === 1 ? ' ▲' : ' ▼') : ''}</button>}
        </span>
      ))}
    </div>
  )
}

function Filters () {
  const f = filter.value
  const set = (patch: Partial<Filter>): void => { filter.value = { ...filter.value, ...patch } }
  return (
    <div class='filters'>
      <label>Search <input type='search' value={f.search} placeholder='device, group, function, agent' onInput={(e) => set({ search: (e.target as HTMLInputElement).value })} /></label>
      <label>Group <select value={f.group} onChange={(e) => set({ group: (e.target as HTMLSelectElement).value })}>
        <option value=''>all groups</option>
        {groups.value.map((g) => <option key={g} value={g}>{g}</option>)}
                   </select>
      </label>
      <label>Status <select value={f.status} onChange={(e) => set({ status: (e.target as HTMLSelectElement).value })}>
        <option value=''>any status</option>
        <option value='online'>online</option>
        <option value='stale'>stale</option>
        <option value='offline'>offline</option>
        <option value='never-seen'>never seen</option>
        <option value='revoked'>revoked</option>
        <option value='conflict'>in conflict</option>
        <option value='takeover'>id shared (takeovers)</option>
        <option value='mismatch'>version mismatch</option>
                    </select>
      </label>
    </div>
  )
}

export function DevicesTable () {
  const scroller = useRef<HTMLDivElement>(null)
  const [view, setView] = useState({ top: 0, height: 600 })
  const [narrow, setNarrow] = useState(() => matchMedia(NARROW).matches)
  useEffect(() => {
    const el = scroller.current
    if (el === null) return
    let frame = 0
    const measure = (): void => { frame = 0; setView({ top: el.scrollTop, height: el.clientHeight }) }
    const onScroll = (): void => { if (frame === 0) frame = requestAnimationFrame(measure) }
    const mq = matchMedia(NARROW)
    const onMq = (): void => setNarrow(mq.matches)
    el.addEventListener('scroll', onScroll, { passive: true })
    mq.addEventListener('change', onMq)
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    measure()
    return () => { el.removeEventListener('scroll', onScroll); mq.removeEventListener('change', onMq); ro.disconnect(); cancelAnimationFrame(frame) }
  }, [])

  const list = shown.value
  const rowPx = narrow ? ROW_PX.narrow : ROW_PX.wide
  const first = Math.max(0, Math.floor(view.top / rowPx) - OVERSCAN)
  const last = Math.min(list.length, Math.ceil((view.top + view.height) / rowPx) + OVERSCAN)
  return (
    <section aria-labelledby='devices-h' class='devices'>
      <h2 id='devices-h'>Devices</h2>
      <Filters />
      <p class='count' aria-live='polite'>Showing {count(list.length)} of {count(rows.value.length)} devices{loading.value !== null && <> (reading the fleet: {count(loading.value.read)} of {count(loading.value.of)}…)</>}</p>
      <div role='table' aria-labelledby='devices-h' aria-rowcount={list.length + 1} class='table'>
        <Header />
        <div role='rowgroup' class='scroller' ref={scroller} tabIndex={-1} style={{ height: `min(${narrow ? 65 : 70}vh, ${Math.max(list.length, 2) * rowPx}px)` }}>
          <div class='rows' style={{ height: `${list.length * rowPx}px` }}>
            {/* Keyed by slot, not by device: a new filter or a scroll rewrites the rows' text in
                place instead of making and removing elements. */}
            {list.slice(first, last).map((r, k) => <Row key={(first + k) % (last - first + 1)} r={r} index={first + k} top={(first + k) * rowPx} />)}
          </div>
          {list.length === 0 && <p class='empty'>{rows.value.length === 0 ? 'No devices yet: add one with lambkin devices add <id>.' : 'No device matches these filters.'}</p>}
        </div>
      </div>
    </section>
  )
}
