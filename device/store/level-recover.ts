// Reopening the agent's LevelDB after a failed write (src/store-fault.ts): LevelDB drops a
// torn log tail when it opens, so the store is opened afresh, its books rebuilt from the keys
// and checked against what the running store had acknowledged, and one synced write proves the
// disk takes writes again. Only then does the store take commits again.
import { encodeValue } from './codec.js'
import { SYS_COUNTERS, SYS_SYNCED, loadLedger, openDb } from './level-open.js'
import type { Db, Sublevels } from './level-open.js'
import type { Ledger } from './ledger.js'

export interface Reopened {
  db: Db
  subs: Sublevels
  ledger: Ledger
  /** Set when the disk holds less than was acknowledged (it should never). */
  lost?: string
}

/**
 * Opens the store in `dir` again and verifies it against `acked`, the books as of the last
 * write that succeeded. Sequence numbers and publish ids continue from the higher of the two,
 * so none is ever used twice. Rejects (with the database closed) while the disk still fails.
 * `writeBufferKiB`: the store's write buffer, as at its first open.
 */
export async function reopenVerified (dir: string, acked: Ledger, now: number, writeBufferKiB: number): Promise<Reopened> {
  const { db, subs } = await openDb(dir, false, writeBufferKiB)
  try {
    const ledger = await loadLedger(db, subs, true)
    let lost: string | undefined
    if (ledger.lastSeq < acked.lastSeq || ledger.lastPublishId < acked.lastPublishId) {
      lost = `after reopening, the outbox ends at seq ${ledger.lastSeq} and publish ${ledger.lastPublishId}, but seq ${acked.lastSeq} and publish ${acked.lastPublishId} had been written; the numbers go on from the higher ones`
    }
    ledger.lastSeq = Math.max(ledger.lastSeq, acked.lastSeq)
    ledger.lastPublishId = Math.max(ledger.lastPublishId, acked.lastPublishId)
    // The probe: a synced write of the books, which also stores the numbers just taken over.
    await db.batch([
      { type: 'put', sublevel: subs.sys, key: SYS_COUNTERS, value: encodeValue(ledger.counters(), 'the store counters') },
      { type: 'put', sublevel: subs.sys, key: SYS_SYNCED, value: encodeValue(now, 'sync time') }
    ], { sync: true })
    return { db, subs, ledger, lost }
  } catch (err) {
    await db.close().catch(() => {})
    throw err
  }
}
