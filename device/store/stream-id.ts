// The outbox's stream id [W4]: one store's life. It is made at random with the store and kept in
// its sys keys, so a store made new (a re-flashed card, a data folder moved aside after damage,
// a rebuilt store) starts a new stream whose seqs the cloud never takes for an older one's.
import { randomBytes } from 'node:crypto'
import { decodeValue, encodeValue } from './codec.js'
import type { Db, Sublevels } from './level-open.js'
import type { Ledger } from './ledger.js'

export const SYS_STREAM = 'stream'

/** A new stream id: 16 hex digits (64 random bits), the form src/wire's STREAM_ID_PATTERN takes. */
export function newStreamId (): string {
  return randomBytes(8).toString('hex')
}

/**
 * Reads the store's stream id, making one on the first open. A store written before streams
 * existed that already handed out seqs keeps them as the legacy stream (undefined, kept as ''):
 * the cloud holds those seqs under no stream, and a new id would restart nothing but the
 * cloud's count. One that never handed out a seq gets a new id like a new store.
 */
export async function loadStreamId (db: Db, subs: Sublevels, ledger: Ledger): Promise<string | undefined> {
  const stored = await subs.sys.get(SYS_STREAM)
  if (stored !== undefined) {
    const id = decodeValue(stored, 'the outbox stream id')
    return typeof id === 'string' && id !== '' ? id : undefined
  }
  const id = ledger.lastSeq === 0 ? newStreamId() : ''
  await db.batch([{ type: 'put', sublevel: subs.sys, key: SYS_STREAM, value: encodeValue(id, 'the outbox stream id') }])
  return id === '' ? undefined : id
}
