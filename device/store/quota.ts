// Choosing what to drop when a write would take the outbox over its byte quota: the oldest
// records of the lowest-priority kind first, then the next kind, counting the batch's own new
// records as the newest of their kind. Pending QoS 1 publishes count too, and go after emits.
import { RECORD_KINDS } from './types.js'
import type { RecordKind } from './types.js'
import type { Ledger } from './ledger.js'
import type { RecordKeyParts } from './keys.js'

export interface NewEntry { seq: number, kind: RecordKind, bytes: number, key: string, value: Uint8Array, dropped: boolean }

export interface StoredEntry extends RecordKeyParts { key: string }

/** Walks stored record keys in seq order from a seq; the store closes it when done. */
export type KeyScanner = (fromSeq: number) => AsyncGenerator<StoredEntry, void, undefined>

export interface StoredPublish { id: number, bytes: number, key: string }

/** Walks stored publishes in id order from an id. */
export type PublishScanner = (fromId: number) => AsyncGenerator<StoredPublish, void, undefined>

/**
 * Pending publishes are dropped right after this record kind, before results and dead
 * letters: a publish still waiting when the outbox is full has waited long, and the
 * invocation's result records that it was made. A commit's own publishes are never dropped.
 */
export const PUBLISH_DROP_AFTER: RecordKind = 'emit'

export interface Victims {
  /** Stored records to delete in this batch. */
  stored: StoredEntry[]
  /** How many of the batch's own records were dropped (they are flagged in place). */
  fresh: number
  /** Stored publishes to delete in this batch. */
  publishes: StoredPublish[]
}

/**
 * Updates `ledger` (a working copy that already counts `fresh`) until it fits `quotaBytes`.
 * `storedCount` is, per kind, how many records of that kind are in the database.
 */
export async function selectVictims (
  ledger: Ledger,
  fresh: NewEntry[],
  storedCount: Record<RecordKind, number>,
  quotaBytes: number,
  scan: KeyScanner,
  scanPublishes: PublishScanner,
  storedPublishes: number
): Promise<Victims> {
  const out: Victims = { stored: [], fresh: 0, publishes: [] }
  for (const kind of RECORD_KINDS) {
    if (ledger.quotaBytes() <= quotaBytes) break
    let left = storedCount[kind]
    if (left > 0) {
      // for-await closes the scan's iterator on break.
      for await (const e of scan(ledger.cursor[kind])) {
        if (e.kind !== kind) continue
        out.stored.push(e)
        drop(ledger, kind, e.bytes)
        ledger.cursor[kind] = e.seq + 1
        left--
        if (left === 0 || ledger.quotaBytes() <= quotaBytes) break
      }
    }
    for (const e of fresh) {
      if (ledger.quotaBytes() <= quotaBytes) break
      if (e.kind !== kind || e.dropped) continue
      e.dropped = true
      out.fresh++
      drop(ledger, kind, e.bytes)
      ledger.cursor[kind] = e.seq + 1
    }
    if (kind === PUBLISH_DROP_AFTER) await dropPublishes(ledger, quotaBytes, scanPublishes, storedPublishes, out)
  }
  return out
}

async function dropPublishes (ledger: Ledger, quotaBytes: number, scan: PublishScanner, stored: number, out: Victims): Promise<void> {
  let left = stored
  if (left <= 0 || ledger.quotaBytes() <= quotaBytes) return
  for await (const p of scan(ledger.publishCursor)) {
    out.publishes.push(p)
    ledger.publishes.count--
    ledger.publishes.bytes -= p.bytes
    ledger.droppedPublishes++
    ledger.publishCursor = p.id + 1
    left--
    if (left === 0 || ledger.quotaBytes() <= quotaBytes) break
  }
}

function drop (ledger: Ledger, kind: RecordKind, bytes: number): void {
  ledger.remove(kind, bytes)
  ledger.dropped[kind]++
}
