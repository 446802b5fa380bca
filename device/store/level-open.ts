// Opening the agent's LevelDB: where it lives in the data dir, its sublevels, turning level's
// open errors (lock held, missing, damaged) into messages that say what to do, and rebuilding
// the in-memory books with a keys-only scan.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Level } from 'level'
import type { AbstractSublevel } from 'abstract-level'
import { ErrorCodes, errorMessage, LambkinError, systemErrorCode } from '../../src/errors.js'
import { decodeValue, encodeValue } from './codec.js'
import { parsePublishKey, parseRecordKey } from './keys.js'
import { Ledger } from './ledger.js'
import type { PersistedCounters } from './ledger.js'
import { RECORD_KINDS } from './types.js'

export type Db = Level<string, Uint8Array>
export type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Uint8Array>

export interface Sublevels {
  /** Outbox records by recordKey (seq + kind + size). */
  records: Sub
  /** ctx.state per function name. */
  state: Sub
  /** Durable publishes by zero-padded id. */
  publishes: Sub
  /** The embedder's meta (schedule last-runs, ...). */
  meta: Sub
  /** Our own bookkeeping: counters, format, last sync. */
  sys: Sub
}

export const FORMAT = 1
export const SYS_COUNTERS = 'counters'
export const SYS_FORMAT = 'format'
export const SYS_SYNCED = 'synced-at'

/** The store lives in a folder of its own so the data dir can hold other things. */
export function storePath (dir: string): string {
  return join(dir, 'store')
}

/** Opens the LevelDB in `dir` with a write buffer (memtable) of `writeBufferKiB` (store options). Throws LAMBKIN_STORE_ERROR saying what to do. */
export async function openDb (dir: string, createIfMissing: boolean, writeBufferKiB: number): Promise<{ db: Db, subs: Sublevels }> {
  const location = storePath(dir)
  if (!createIfMissing && !existsSync(join(location, 'CURRENT'))) {
    throw new LambkinError(ErrorCodes.STORE_ERROR, `there is no outbox store in ${dir}; check the --data directory (it is the agent's data dir)`, { details: { dir } })
  }
  const enc = { keyEncoding: 'utf8', valueEncoding: 'view' } as const
  let db: Db
  try {
    if (createIfMissing) mkdirSync(location, { recursive: true })
    db = new Level<string, Uint8Array>(location, { ...enc, createIfMissing, writeBufferSize: writeBufferKiB * 1024 })
    await db.open()
  } catch (err) {
    throw openError(err, dir)
  }
  const sub = (name: string): Sub => db.sublevel<string, Uint8Array>(name, enc)
  return { db, subs: { records: sub('r'), state: sub('s'), publishes: sub('p'), meta: sub('m'), sys: sub('y') } }
}

function openError (err: unknown, dir: string): LambkinError {
  const cause = (err as { cause?: { code?: string } }).cause
  if (cause?.code === 'LEVEL_LOCKED') {
    return new LambkinError(ErrorCodes.STORE_ERROR, `the outbox store in ${dir} is locked by another process (probably a lambkin agent running on this data folder), and LevelDB lets one process at a time open it: stop that agent first (lambkin outbox --data ${dir} reads a running agent's outbox through the agent's metricsPort)`, { cause: err, details: { dir, reason: 'locked' } })
  }
  const why = cause instanceof Error ? cause.message : errorMessage(err)
  // A full disk is no damage: moving the folder aside (the advice below) would strand its records.
  if (systemErrorCode(err) === ErrorCodes.NO_SPACE) {
    return new LambkinError(ErrorCodes.STORE_ERROR, `cannot open the outbox store in ${dir}: the disk holding it is full (${why}); LevelDB writes on every open, even to read. Nothing in it is lost: free some space on that disk, or copy ${dir} to a disk with room and read the copy (lambkin outbox --data <copy>)`, { cause: err, details: { dir, reason: 'full' } })
  }
  return new LambkinError(ErrorCodes.STORE_ERROR, `cannot open the outbox store in ${dir}: ${why}; check that the directory is writable and not damaged`, { cause: err, details: { dir } })
}

/**
 * Reads the counters and the books kept with them. The books are written in the same atomic
 * batch as the keys they count, so after a clean or an unclean stop they agree with the keys;
 * their bounds are checked against the first and last keys (two seeks), and the books are
 * rebuilt from a keys-only scan when they are absent (an older store), out of bounds, or
 * `rebuild` is set (reopening after a failed write, level-recover.ts). Open time so stays
 * flat in the outbox's size (docs: bench/cost outbox-open).
 */
export async function loadLedger (db: Db, subs: Sublevels, rebuild = false): Promise<Ledger> {
  const format = await subs.sys.get(SYS_FORMAT)
  if (format === undefined) {
    await db.batch([{ type: 'put', sublevel: subs.sys, key: SYS_FORMAT, value: encodeValue(FORMAT, 'format') }])
  } else if (decodeValue(format, 'the store format') !== FORMAT) {
    throw new LambkinError(ErrorCodes.STORE_ERROR, 'the outbox store was written by a different lambkin version (unknown format); upgrade lambkin or move the data dir aside', { details: { format: decodeValue(format, 'the store format') } })
  }
  const ledger = new Ledger()
  const raw = await subs.sys.get(SYS_COUNTERS)
  const counters = raw === undefined ? undefined : decodeValue(raw, 'the store counters') as Partial<PersistedCounters>
  ledger.restore(counters)
  if (!rebuild && ledger.restoreBooks(counters?.books) && await booksFitKeys(subs, ledger)) return ledger
  const fresh = new Ledger()
  fresh.restore(counters)
  await scanBooks(subs, fresh)
  return fresh
}

/** Whether the first and last record and publish keys lie where the books say they may. */
async function booksFitKeys (subs: Sublevels, ledger: Ledger): Promise<boolean> {
  const [first] = await subs.records.keys({ limit: 1 }).all()
  const [last] = await subs.records.keys({ limit: 1, reverse: true }).all()
  if ((first === undefined) !== (ledger.totalCount() === 0)) return false
  if (first !== undefined && last !== undefined) {
    const f = parseRecordKey(first)
    const l = parseRecordKey(last)
    if (f.seq < ledger.cursor[f.kind] || l.seq > ledger.lastSeq || ledger.tally[f.kind].count === 0 || ledger.tally[l.kind].count === 0) return false
  }
  const [firstP] = await subs.publishes.keys({ limit: 1 }).all()
  const [lastP] = await subs.publishes.keys({ limit: 1, reverse: true }).all()
  if ((firstP === undefined) !== (ledger.publishes.count === 0)) return false
  if (firstP !== undefined && lastP !== undefined) {
    if (parsePublishKey(firstP).id < ledger.publishCursor || parsePublishKey(lastP).id > ledger.lastPublishId) return false
  }
  return true
}

/** Rebuilds per-kind totals, cursors and the publish count from keys alone. */
async function scanBooks (subs: Sublevels, ledger: Ledger): Promise<void> {
  const first: Partial<Record<string, number>> = {}
  for await (const key of subs.records.keys()) {
    const k = parseRecordKey(key)
    ledger.add(k.kind, k.bytes)
    first[k.kind] ??= k.seq
    // Defensive: counters are written in the same batch as records, so this should not move.
    if (k.seq > ledger.lastSeq) ledger.lastSeq = k.seq
  }
  // A kind with no records yet can only appear above lastSeq.
  for (const kind of RECORD_KINDS) ledger.cursor[kind] = first[kind] ?? ledger.lastSeq + 1
  let firstPublish: number | undefined
  for await (const [key, value] of subs.publishes.iterator()) {
    const k = parsePublishKey(key)
    ledger.publishes.count++
    ledger.publishes.bytes += k.bytes ?? value.length
    firstPublish ??= k.id
    if (k.id > ledger.lastPublishId) ledger.lastPublishId = k.id
  }
  ledger.publishCursor = firstPublish ?? ledger.lastPublishId + 1
}
