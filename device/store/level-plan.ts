// Turns queued writes into the operations of one LevelDB batch, updating a working copy of
// the books: seq/id assignment, quota drops, acks, deletes, TTL purges.
import { encodeValue } from './codec.js'
import { parsePublishKey, parseRecordKey, publishKey, recordKey, seqKey } from './keys.js'
import { selectVictims } from './quota.js'
import { RECORD_KINDS, emptyByKind } from './types.js'
import type { Ledger } from './ledger.js'
import type { ReadRun } from './read-run.js'
import type { PublishKeys } from './publish-keys.js'
import type { KeyScanner, NewEntry, PublishScanner, StoredEntry, StoredPublish } from './quota.js'
import type { Sub, Sublevels } from './level-open.js'
import type { CommitResult, RecordKind } from './types.js'

export type Op = { type: 'put', sublevel: Sub, key: string, value: Uint8Array } | { type: 'del', sublevel: Sub, key: string }

/** A commit unit after encoding, so nothing in the lane can fail on a caller's value. */
export interface EncodedUnit {
  records: Array<{ kind: RecordKind, value: Uint8Array }>
  state: Array<{ fn: string, value: Uint8Array | null }>
  publishes: Uint8Array[]
  meta: Array<{ key: string, value: Uint8Array | null }>
}

/** A key range to delete after the batch (level-store.ts #write): an ack's records. */
export interface RangeClear { sublevel: Sub, gte: string, lt: string }

export interface PlanContext {
  subs: Sublevels
  ledger: Ledger
  ops: Op[]
  /**
   * Ranges deleted once the batch (with the books that no longer count them) is written:
   * LevelDB deletes a range on its own thread for a sixth of the CPU of one delete per key.
   * A stop between the two leaves keys below the books' cursor, which the next open finds
   * (level-open.ts booksFitKeys) and recounts; the cloud then takes them again as duplicates.
   */
  clears: RangeClear[]
  quotaBytes: number
  scan: KeyScanner
  scanPublishes: PublishScanner
  /** The keys the last reads walked (read-run.ts): an ack of them need not walk them again. */
  run?: ReadRun
}

export async function planCommits (ctx: PlanContext, units: EncodedUnit[]): Promise<CommitResult[]> {
  const { subs, ledger, ops } = ctx
  const storedCount = emptyByKind(() => 0)
  for (const k of RECORD_KINDS) storedCount[k] = ledger.tally[k].count
  const storedPublishes = ledger.publishes.count
  const fresh: NewEntry[] = []
  // State and meta keys written by several units of one group: only the last value is put,
  // since a batch is atomic nobody could see the earlier ones (a busy function's calls commit
  // together, and each put costs the LevelDB binding ~1.4 us).
  const state = new Map<string, Uint8Array | null>()
  const meta = new Map<string, Uint8Array | null>()
  const results = units.map((u) => {
    const seqs = u.records.map((r) => {
      const seq = ++ledger.lastSeq
      fresh.push({ seq, kind: r.kind, bytes: r.value.length, key: recordKey(seq, r.kind, r.value.length), value: r.value, dropped: false })
      ledger.add(r.kind, r.value.length)
      return seq
    })
    // Units are taken in arrival order, so a later unit's state wins.
    for (const s of u.state) { state.delete(s.fn); state.set(s.fn, s.value) }
    const publishIds = u.publishes.map((value) => {
      const id = ++ledger.lastPublishId
      ledger.publishes.count++
      ledger.publishes.bytes += value.length
      ops.push({ type: 'put', sublevel: subs.publishes, key: publishKey(id, value.length), value })
      return id
    })
    for (const m of u.meta) { meta.delete(m.key); meta.set(m.key, m.value) }
    return { seqs, publishIds }
  })
  for (const [key, value] of state) ops.push(value === null ? { type: 'del', sublevel: subs.state, key } : { type: 'put', sublevel: subs.state, key, value })
  for (const [key, value] of meta) ops.push(value === null ? { type: 'del', sublevel: subs.meta, key } : { type: 'put', sublevel: subs.meta, key, value })
  if (ledger.quotaBytes() > ctx.quotaBytes) {
    const victims = await selectVictims(ledger, fresh, storedCount, ctx.quotaBytes, ctx.scan, ctx.scanPublishes, storedPublishes)
    for (const v of victims.stored) ops.push({ type: 'del', sublevel: subs.records, key: v.key })
    for (const p of victims.publishes) ops.push({ type: 'del', sublevel: subs.publishes, key: p.key })
  }
  for (const e of fresh) if (!e.dropped) ops.push({ type: 'put', sublevel: subs.records, key: e.key, value: e.value })
  return results
}

export async function planAck (ctx: PlanContext, seq: number): Promise<number> {
  const { subs, ledger } = ctx
  let n = 0
  // From the lowest seq that may still be stored, not from the start: below it lie only the
  // tombstones of earlier acks, which LevelDB would walk again on every ack until compaction.
  let from = Infinity
  for (const k of RECORD_KINDS) from = Math.min(from, ledger.cursor[k])
  // The range goes in one clear (ctx.clears). Its keys come off the books from what the reads
  // that sent them saw (read-run.ts) when that still stands for the store, else by walking them.
  const to = Math.min(seq, ledger.lastSeq)
  const range = { gte: seqKey(from), lt: seqKey(to + 1) }
  const took = ctx.run?.take(from, to, ledger.removals)
  if (took !== undefined) {
    RECORD_KINDS.forEach((k, i) => { ledger.tally[k].count -= took.count[i]; ledger.tally[k].bytes -= took.bytes[i] })
    n = took.n
  } else {
    n = await countOff(subs.records, range, ledger)
  }
  if (n > 0) ctx.clears.push({ sublevel: subs.records, ...range })
  // Nothing of any kind is left at or below seq; never move a cursor past records yet to come.
  const floor = to + 1
  for (const k of RECORD_KINDS) ledger.cursor[k] = Math.max(ledger.cursor[k], floor)
  return n
}

/**
 * Takes the keys in `range` off the books, walking them; resolves to how many there were. Keys
 * in large steps: an ack covers a whole batch, and each awaited step costs a round trip to
 * LevelDB's thread (one key at a time was most of a drain's ack).
 */
async function countOff (records: Sub, range: { gte: string, lt: string }, ledger: Ledger): Promise<number> {
  let n = 0
  const it = records.keys(range)
  try {
    for (let keys = await it.nextv(1024); keys.length > 0; keys = await it.nextv(1024)) {
      for (const key of keys) {
        const k = parseRecordKey(key)
        ledger.removeAcked(k.kind, k.bytes)
      }
      n += keys.length
    }
  } finally {
    await it.close()
  }
  return n
}

export async function planDelete (ctx: PlanContext, seqs: number[]): Promise<number> {
  const { subs, ledger, ops } = ctx
  const found = await Promise.all(seqs.map(async (s) => await subs.records.keys({ gte: seqKey(s), lt: seqKey(s + 1), limit: 1 }).all()))
  let n = 0
  for (const keys of found) {
    for (const key of keys) {
      const k = parseRecordKey(key)
      ops.push({ type: 'del', sublevel: subs.records, key })
      ledger.remove(k.kind, k.bytes)
      n++
    }
  }
  return n
}

/** Expired records found by a read; some may have been acked or deleted since. */
export async function planPurge (ctx: PlanContext, keys: string[]): Promise<number> {
  const { subs, ledger, ops } = ctx
  const present = await subs.records.hasMany(keys)
  let n = 0
  keys.forEach((key, i) => {
    if (present[i] !== true) return
    const k = parseRecordKey(key)
    ops.push({ type: 'del', sublevel: subs.records, key })
    ledger.remove(k.kind, k.bytes)
    ledger.expired++
    n++
  })
  return n
}

/**
 * Deletes the publishes `ids` (their broker acknowledged them). Keys the store wrote this run
 * are known (publish-keys.ts) and deleted at once; others (a previous run's, a long backlog's)
 * are looked up. Ids acknowledged twice, or dropped for quota meanwhile, are skipped. Returns
 * the ids deleted, which the group's quota pass must not pick again.
 */
export async function planUnpublish (ctx: PlanContext, ids: number[], known: PublishKeys): Promise<Set<number>> {
  const { subs, ledger, ops } = ctx
  const removed = new Set<number>()
  const unknown: number[] = []
  for (const id of new Set(ids)) {
    const k = known.get(id)
    if (k === undefined) { unknown.push(id); continue }
    removed.add(id)
    ops.push({ type: 'del', sublevel: subs.publishes, key: k.key })
    ledger.publishes.count--
    ledger.publishes.bytes -= k.bytes
  }
  const found = await Promise.all(unknown.map(async (id) => (await subs.publishes.iterator({ gte: seqKey(id), lt: seqKey(id + 1), limit: 1 }).all())[0]))
  for (const entry of found) {
    if (entry === undefined) continue
    const [key, value] = entry
    const { id, bytes } = parsePublishKey(key)
    removed.add(id)
    ops.push({ type: 'del', sublevel: subs.publishes, key })
    ledger.publishes.count--
    ledger.publishes.bytes -= bytes ?? value.length
  }
  return removed
}

/** `scan` without the publishes this group already deletes. */
export function skipping (scan: PublishScanner, removed: Set<number>): PublishScanner {
  if (removed.size === 0) return scan
  return async function * (fromId) {
    for await (const p of scan(fromId)) if (!removed.has(p.id)) yield p
  }
}

export function encodeCounters (ctx: PlanContext, key: string): Op {
  return { type: 'put', sublevel: ctx.subs.sys, key, value: encodeValue(ctx.ledger.counters(), 'the store counters') }
}

/** Stored record keys in seq order from a seq, read in chunks; closes its iterator when left. */
export async function * scanKeys (records: Sub, fromSeq: number): AsyncGenerator<StoredEntry, void, undefined> {
  const it = records.keys({ gte: seqKey(fromSeq) })
  try {
    for (;;) {
      const keys = await it.nextv(256)
      if (keys.length === 0) return
      for (const key of keys) yield { key, ...parseRecordKey(key) }
    }
  } finally {
    await it.close()
  }
}

/** Stored publishes in id order from an id, with their sizes (read from old-style values). */
export async function * scanPublishes (publishes: Sub, fromId: number): AsyncGenerator<StoredPublish, void, undefined> {
  const it = publishes.iterator({ gte: seqKey(fromId) })
  try {
    for (;;) {
      const entries = await it.nextv(64)
      if (entries.length === 0) return
      for (const [key, value] of entries) {
        const k = parsePublishKey(key)
        yield { id: k.id, bytes: k.bytes ?? value.length, key }
      }
    }
  } finally {
    await it.close()
  }
}
