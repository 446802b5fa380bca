// The deployment rows' planner, apart from the I/O (as device/store/level-plan.ts): how a set
// of desired-state changes becomes new rows and deployment ids, how rollouts split into
// chunks, and the ids rollouts get. Pure functions; level-deploy.ts writes what they plan.
import type { DesiredFunction } from '../../src/wire/index.js'
import { GOOD_HISTORY } from './deploy-types.js'
import type { DesiredChange, DesiredRow, DesiredSlot, HistoryNote, RolloutDevice, RolloutRow } from './deploy-types.js'
import { own } from '../../src/own.js'

/**
 * Devices per stored rollout chunk: an engine tick that moves a few devices of a
 * 10,000-device rollout rewrites the chunks holding them, not the whole list.
 */
export const ROLLOUT_CHUNK = 256

/** Zero-padded so keys sort numerically. */
export const pad = (n: number): string => String(n).padStart(16, '0')

/** `r<n>`, the rollout id the CLI shows, from its sequence number. */
export const rolloutId = (n: number): string => `r${n}`

/** The sequence number in a rollout id, or undefined for anything that is not one. */
export function rolloutSeq (id: string): number | undefined {
  const m = /^r([1-9][0-9]{0,14})$/.exec(id)
  return m === null ? undefined : Number(m[1])
}

/** True when two entries name the same bundles with the same canary weight. */
export function sameEntry (a: DesiredFunction | undefined | null, b: DesiredFunction | undefined | null): boolean {
  if (a == null || b == null) return a == null && b == null
  return a.live.sha256 === b.live.sha256 && a.canary?.sha256 === b.canary?.sha256 && a.canary?.weight === b.canary?.weight
}

/**
 * Applies `changes` to the devices' rows as read (`before`; undefined: no desired state yet).
 * Each device with at least one change gets the next deployment id after `counter` [W5]; a
 * changed function's old current entry becomes its `previous` (unless the new entry is the same). Returns the new rows (in the
 * order devices first appear) and the new counter.
 */
export function planDesired (
  before: ReadonlyMap<string, DesiredRow | undefined>,
  changes: readonly DesiredChange[],
  counter: number,
  at: number
): { rows: DesiredRow[]; counter: number } {
  const rows = new Map<string, DesiredRow>()
  let next = counter
  for (const c of changes) {
    let row = rows.get(c.device)
    if (row === undefined) {
      const old = before.get(c.device)
      row = { device: c.device, deploymentId: ++next, functions: structuredClone(old?.functions ?? {}), updatedAt: at }
      rows.set(c.device, row)
    }
    const slot = own(row.functions, c.fn) ?? {}
    const replaced = slot.current
    const updated = { ...slot }
    // The same entry again (a rollout re-sent after a restart) must not make previous the current one.
    if (replaced !== undefined && !sameEntry(replaced, c.to)) updated.previous = replaced
    if (c.to === null) delete updated.current
    else updated.current = structuredClone(c.to)
    if (c.rollout === undefined) delete updated.from
    else updated.from = { rollout: c.rollout.id, index: c.rollout.index, deploymentId: row.deploymentId }
    if (updated.current === undefined && updated.previous === undefined && (updated.good ?? []).length === 0) delete row.functions[c.fn]
    else row.functions[c.fn] = updated
  }
  return { rows: [...rows.values()], counter: next }
}

/** Applies history notes to the rows read (`before`); returns the rows that changed. Rows with no slot for the function are left alone. */
export function planHistory (before: ReadonlyMap<string, DesiredRow | undefined>, notes: readonly HistoryNote[]): DesiredRow[] {
  const changed = new Map<string, DesiredRow>()
  for (const n of notes) {
    const row = changed.get(n.device) ?? structuredClone(before.get(n.device))
    const slot = row === undefined ? undefined : own(row.functions, n.fn)
    if (row === undefined || slot === undefined) continue
    let good = slot.good ?? []
    if (n.badVersion !== undefined) good = good.filter((e) => e.live.version !== n.badVersion && e.canary?.version !== n.badVersion)
    if (n.good !== undefined) good = [...good.filter((e) => !sameEntry(e, n.good)), structuredClone(n.good)].slice(-GOOD_HISTORY)
    if (n.backTo !== undefined) {
      const at = good.findIndex((e) => sameEntry(e, n.backTo))
      good = at < 0 ? [...good, structuredClone(n.backTo)].slice(-GOOD_HISTORY) : good.slice(0, at + 1)
    }
    slot.good = good
    changed.set(n.device, row)
  }
  return [...changed.values()]
}

/**
 * Where rollback and abort take a slot: the newest good entry before its current one in the
 * history (the whole history when the current entry is not in it: never judged applied, or
 * dropped as bad), that differs from it; undefined when there is none. Walking back one step
 * per rollback: a rollback applied cuts the history after its target (HistoryNote.backTo).
 */
export function goodBefore (slot: DesiredSlot | undefined): DesiredFunction | undefined {
  const good = slot?.good ?? []
  const at = good.findIndex((e) => sameEntry(e, slot?.current))
  return (at < 0 ? good : good.slice(0, at)).reverse().find((e) => !sameEntry(e, slot?.current))
}

/** A rollout's stored head: the row without its devices, and how many chunks hold them. */
export type RolloutHead = Omit<RolloutRow, 'devices'> & { chunks: number }

/** Splits a rollout into its head and device chunks of ROLLOUT_CHUNK. */
export function splitRollout (r: RolloutRow): { head: RolloutHead, chunks: RolloutDevice[][] } {
  const { devices, ...rest } = r
  const chunks: RolloutDevice[][] = []
  for (let i = 0; i < devices.length; i += ROLLOUT_CHUNK) chunks.push(devices.slice(i, i + ROLLOUT_CHUNK))
  return { head: { ...rest, chunks: chunks.length }, chunks }
}

/** The chunk numbers that hold the device indexes in `dirty` (every chunk when undefined). */
export function dirtyChunks (total: number, dirty: Iterable<number> | undefined): number[] {
  const n = Math.ceil(total / ROLLOUT_CHUNK)
  if (dirty === undefined) return Array.from({ length: n }, (_, i) => i)
  const out = new Set<number>()
  for (const i of dirty) if (i >= 0 && i < total) out.add(Math.floor(i / ROLLOUT_CHUNK))
  return [...out].sort((a, b) => a - b)
}
