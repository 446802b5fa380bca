// LevelOutboxStore's writes: a group commit's operations as one atomic batch, and the one
// error every store failure becomes.
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import type { Db } from './level-open.js'
import type { Op } from './level-plan.js'

/**
 * Writes `ops` as one atomic LevelDB batch, through the chained batch of the root database with
 * each key's sublevel prefix put on here (a sublevel's utf8 keys are its prefix and the key,
 * abstract-level's prefixKey). The array form reads each operation's type, key and value back
 * through N-API property lookups and prefixes the keys again in JS; this costs about half of
 * that per operation, and a group commit under the relay bench writes some 200 of them.
 */
export async function writeOps (db: Db, ops: Op[], sync: boolean): Promise<void> {
  const batch = db.batch()
  try {
    for (const op of ops) {
      const key = op.sublevel.prefix + op.key
      if (op.type === 'put') batch.put(key, op.value)
      else batch.del(key)
    }
  } catch (err) {
    await batch.close()
    throw err
  }
  await batch.write({ sync })
}

/** A LevelDB failure while `doing` as LAMBKIN_STORE_ERROR, with LevelDB's code in its details. */
export function storeError (err: unknown, doing: string): LambkinError {
  const code = (err as { code?: string }).code
  return new LambkinError(ErrorCodes.STORE_ERROR, `${doing} failed: ${errorMessage(err) ?? String(err)}${code === 'LEVEL_CORRUPTION' ? '; the LevelDB files are damaged, move the data dir aside and restart' : ''}`, { cause: err, details: { levelCode: code } })
}
