// What the page knows of the fleet: GET /v1/fleet once, then each `fleet` event from the live
// stream applied on top. Rows stay in one array (replaced on change, so views recompute) with
// an index by id; times shown are the cloud's, through the offset measured on each answer.
import { signal } from '@preact/signals'
import type { FleetChange, FleetRow, FleetSummary, FleetView, RolloutLine } from '../api/dashboard-types.js'
import { api } from './api.js'

export const rows = signal<FleetRow[]>([])
export const summary = signal<FleetSummary | null>(null)
export const rollouts = signal<RolloutLine[]>([])
/** True once the first fleet answer arrived. */
export const loaded = signal(false)
/** The cloud's clock, ticking each second, for "12 s ago". */
export const now = signal(Date.now())

let offset = 0
let index = new Map<string, number>()
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
  if (c.devices.length > 0 || c.removed.length > 0) {
    let next = rows.value.slice()
    for (const r of c.devices) {
      const i = index.get(r.id)
      if (i === undefined) { index.set(r.id, next.length); next.push(r) } else next[i] = r
    }
    if (c.removed.length > 0) {
      const gone = new Set(c.removed)
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

export async function loadFleet (): Promise<void> {
  applyView(await api<FleetView>('v1/fleet'))
}

export function resetFleet (): void {
  index = new Map()
  rows.value = []
  summary.value = null
  rollouts.value = []
  loaded.value = false
}
