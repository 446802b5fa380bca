// Whether a record sent again is the one stored under its (device, stream, seq) [W4]: the same
// seq with other bytes is a conflict (two boards on one id), never a duplicate. Compared on
// canonical bytes, the kind, fn, time and data encoded the one way the registry stores them,
// and only for seqs the cloud already holds: a batch of new records costs nothing here, a
// batch sent again costs one seek per chunk it covers (level-chunks.ts, findStored).
import { cbor } from './level-chunks.js'
import type { ChunkRecord } from './level-chunks.js'

function canonical (c: ChunkRecord): Buffer {
  return cbor.encode([c.k, c.f ?? null, c.t, c.d])
}

/** True when `a` and `b` are the same record; one that cannot be encoded again is never the same. */
export function sameRecord (a: ChunkRecord, b: ChunkRecord): boolean {
  if (a.s !== b.s || a.k !== b.k || a.t !== b.t || a.f !== b.f) return false
  try {
    return canonical(a).equals(canonical(b))
  } catch {
    return false
  }
}
