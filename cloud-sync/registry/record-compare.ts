// Whether a record sent again is the one stored under its (device, stream, seq) [W4]: the same
// seq with other bytes is a conflict (two boards on one id), never a duplicate. Compared on
// canonical bytes, the kind, fn, time and data encoded the one way the registry stores them,
// and only for seqs the cloud already holds: a batch of new records costs nothing here, a
// batch sent again costs one seek per chunk it covers (level-chunks.ts, findStored).
import { dataValue, embeddedBytes } from '../../src/wire/index.js'
import { cbor } from './level-chunks.js'
import type { ChunkRecord } from './level-chunks.js'

/** Data's canonical bytes: the value (embedded bytes decoded, src/wire/embedded-data.ts) encoded the registry's way. */
function canonical (d: unknown): Buffer {
  return cbor.encode(dataValue(d))
}

/**
 * True when `a` and `b` are the same record; one that cannot be encoded again is never the same.
 * Two embedded data items compare on their bytes; one embedded and one not on their values.
 */
export function sameRecord (a: ChunkRecord, b: ChunkRecord): boolean {
  if (a.s !== b.s || a.k !== b.k || a.t !== b.t || a.f !== b.f) return false
  const ea = embeddedBytes(a.d)
  const eb = embeddedBytes(b.d)
  if (ea !== undefined && eb !== undefined) return Buffer.from(ea.buffer, ea.byteOffset, ea.byteLength).equals(eb)
  try {
    return canonical(a.d).equals(canonical(b.d))
  } catch {
    return false
  }
}
