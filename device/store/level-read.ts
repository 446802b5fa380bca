// The outbox's record scan: one pass of the root database's iterator over the records
// sublevel, in read steps of up to READ_AHEAD_BYTES, for LevelOutboxStore's reads and drains.
import { LambkinError } from '../../src/errors.js'
import { parseRecordKey, seqKey } from './keys.js'
import type { RecordKeyParts } from './keys.js'
import type { Db } from './level-open.js'
import type { ResolvedRead } from './validate.js'
import type { RecordKind } from './types.js'
import { storeError } from './level-write.js'

/**
 * Bytes of keys and values one read step takes from LevelDB at most, past one entry
 * (classic-level's highWaterMarkBytes). Its default, 16 KiB, is about a hundred records, so a
 * drain's read of 1,000 crossed to LevelDB's thread ten times (docs/performance.md, the drain).
 */
export const READ_AHEAD_BYTES = 1024 * 1024

/** What a scan found: the records `make` built, the expired keys (without prefix) to purge, and every key walked. */
export interface Scan<T> {
  out: T[]
  expired: string[]
  /** Every key walked, in order, for the store's read run; undefined for a read of some kinds (it skips keys). */
  seen?: { seqs: number[], kinds: RecordKind[], bytes: number[] }
}

/**
 * Up to `limit` records after `afterSeq` under the sublevel `prefix`, each made by `make` from
 * its key and stored value; `make` answers undefined for an expired record. Throws
 * LAMBKIN_STORE_ERROR for a LevelDB failure.
 */
export async function scanRecords<T> (
  db: Db, prefix: string, { afterSeq, limit, kinds }: ResolvedRead, make: (k: RecordKeyParts, value: Uint8Array) => T | undefined
): Promise<Scan<T>> {
  const out: T[] = []
  const expired: string[] = []
  const seen = kinds === null ? { seqs: [] as number[], kinds: [] as RecordKind[], bytes: [] as number[] } : undefined
  // The root database's iterator over the sublevel's keys: a sublevel's iterator wraps it and
  // copies every key without its prefix, which a drain pays for each record it reads.
  const at = prefix.length
  const it = db.iterator({
    gte: prefix + seqKey(afterSeq + 1),
    lt: prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(at - 1) + 1),
    highWaterMarkBytes: READ_AHEAD_BYTES
  })
  try {
    while (out.length < limit) {
      // A read of some kinds skips keys: a little more than it needs saves another step.
      const entries = await it.nextv(Math.min(1024, limit - out.length + (kinds === null ? 0 : 16)))
      if (entries.length === 0) break
      for (const [key, value] of entries) {
        const k = parseRecordKey(key, at)
        if (seen !== undefined) { seen.seqs.push(k.seq); seen.kinds.push(k.kind); seen.bytes.push(k.bytes) }
        if (kinds !== null && !kinds.includes(k.kind)) continue
        const rec = make(k, value)
        if (rec === undefined) { expired.push(key.slice(at)); continue }
        out.push(rec)
        if (out.length === limit) break
      }
    }
  } catch (err) {
    throw err instanceof LambkinError ? err : storeError(err, 'reading the outbox')
  } finally {
    await it.close()
  }
  return seen === undefined ? { out, expired } : { out, expired, seen }
}
