// What the page knows of the fleet: GET /v1/fleet page by page (the first shown at once, the
// rest read after it, FLEET_PAGE rows a request), then each `fleet` event from the live stream
// applied on top. Rows stay in one array (replaced on change, so views recompute) with an index
// by id; times shown are the cloud's, through the offset measured on each answer.
import { signal } from '@preact/signals'
import type { FleetChange, FleetPage, FleetRow, FleetSummary, FleetView, RolloutLine } from '../api/dashboard-types.js'
import { api, enc } from './api.js'

/** Rows a /v1/fleet request asks for: the API's largest page (DEVICE_PAGES.maxLimit). */
export const FLEET_PAGE = 2000

export const rows = signal<FleetRow[]>([])
export const summary = signal<FleetSummary | null>(null)
export const rollouts = signal<RolloutLine[]>([])
/** True once the first fleet answer arrived. */
export const loaded = signal(false)
/** While pages after the first are read: how many rows have come of how many the summary counts. */
export const loading = signal<{ read: number, of: number } | null>(null)
/** The cloud's clock, ticking each second, for "12 s ago". */
export const now = signal(Date.now())

let offset = 0
let index = new Map<string, number>()
/** While a load runs: the cloud's `now` of the page each row came in, so a live change older than it is not applied over it. */
let pageNow: Map<string, number> | undefined
setInterval(() => { now.value = Date.now() + offset }, 1000)

function setNow (serverNow: number): void {
  offset = serverNow - Date.now()
  now.value = serverNow
}

export function applyView (v: FleetView): void {
  setNow(v.now)
  index = new Map(v.devices.map((r, i) => [r.id, i]))
  rows.value = v.devices
  summary.value = v.summary
  rollouts.value = v.rollouts
  loaded.value = true
}

export function applyChange (c: FleetChange): void {
  setNow(c.now)
  // A change from before the page that brought a row (it waited while the pages were read) is older than that row.
  const stale = (id: string): boolean => (pageNow?.get(id) ?? -Infinity) > c.now
  if (c.devices.length > 0 || c.removed.length > 0) {
    let next = rows.value.slice()
    for (const r of c.devices) {
      if (stale(r.id)) continue
      const i = index.get(r.id)
      if (i === undefined) { index.set(r.id, next.length); next.push(r) } else next[i] = r
    }
    if (c.removed.length > 0) {
      const gone = new Set(c.removed.filter((id) => !stale(id)))
      next = next.filter((r) => !gone.has(r.id))
      index = new Map(next.map((r, i) => [r.id, i]))
    }
    rows.value = next
  }
  if (c.summary !== undefined) summary.value = c.summary
  if (c.rollouts !== undefined) rollouts.value = c.rollouts
}

export function rowOf (id: string): FleetRow | undefined {
  const i = index.get(id)
  return i === undefined ? undefined : rows.value[i]
}

/** The first page of the fleet (the summary and rollouts are the whole fleet's). */
export async function firstPage (token?: string, signingIn?: boolean): Promise<FleetPage> {
  return await api<FleetPage>(`v1/fleet?limit=${FLEET_PAGE}`, { token, signingIn })
}

/**
 * Reads the fleet: the first page replaces what was shown (the table shows it at once), the
 * next ones are added as they come, `loading` saying how far. Live changes that waited meanwhile
 * are applied after it by the caller (live.ts), skipping any older than a row's page: call
 * `loadDone` then.
 */
export async function loadFleet (): Promise<void> {
  const seen = pageNow = new Map()
  const page = await firstPage()
  applyView(page)
  for (const r of page.devices) seen.set(r.id, page.now)
  try {
    await readOn(page, seen)
  } finally {
    loading.value = null
  }
}

async function readOn (first: FleetPage, seen: Map<string, number>): Promise<void> {
  let page = first
  while (page.next !== null) {
    loading.value = { read: rows.value.length, of: Math.max(page.summary.devices.total, rows.value.length) }
    page = await api<FleetPage>(`v1/fleet?limit=${FLEET_PAGE}&after=${enc(page.next)}`)
    setNow(page.now)
    const next = rows.value.slice()
    for (const r of page.devices) {
      seen.set(r.id, page.now)
      const i = index.get(r.id)
      if (i === undefined) { index.set(r.id, next.length); next.push(r) } else next[i] = r
    }
    rows.value = next
    summary.value = page.summary
    rollouts.value = page.rollouts
  }
}

/** The waiting live changes are applied: from now on every change is newer than what is shown. */
export function loadDone (): void {
  pageNow = undefined
}

export function resetFleet (): void {
  index = new Map()
  rows.value = []
  summary.value = null
  rollouts.value = []
  loaded.value = false
  loading.value = null
  pageNow = undefined
}
