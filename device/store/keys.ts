// Record keys: a fixed-width seq (so LevelDB order is seq order) followed by the kind and the
// encoded size, so that accounting, acks and quota drops work from keys alone, never values.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { RECORD_KINDS } from './types.js'
import type { RecordKind } from './types.js'

/** 16 digits hold every safe integer (2^53 - 1 has 16). */
const SEQ_WIDTH = 16

const KIND_CODE: Readonly<Record<RecordKind, string>> = Object.freeze({
  log: 'l', metric: 'm', emit: 'e', result: 'r', 'dead-letter': 'd'
})
const CODE_KIND: Readonly<Record<string, RecordKind>> = Object.freeze(
  Object.fromEntries(RECORD_KINDS.map((k) => [KIND_CODE[k], k]))
)

/** '', '0', '00', ... up to SEQ_WIDTH zeros: a key's padding, made once. */
const ZEROS: readonly string[] = Array.from({ length: SEQ_WIDTH + 1 }, (_, i) => '0'.repeat(i))

/**
 * `seq` in SEQ_WIDTH digits, zeros in front (what padStart gives). Two keys are built per relayed
 * message; padStart made its filler string anew each time.
 */
export function seqKey (seq: number): string {
  const digits = String(seq)
  return digits.length >= SEQ_WIDTH ? digits : (ZEROS[SEQ_WIDTH - digits.length] as string) + digits
}

export function recordKey (seq: number, kind: RecordKind, bytes: number): string {
  return seqKey(seq) + KIND_CODE[kind] + bytes.toString(36)
}

export interface RecordKeyParts { seq: number, kind: RecordKind, bytes: number }

/** The parts of a record key; `at`: where it starts in `key` (after a sublevel's prefix, for a read of the root). */
export function parseRecordKey (key: string, at = 0): RecordKeyParts {
  const seq = Number(key.slice(at, at + SEQ_WIDTH))
  const kind = CODE_KIND[key.charAt(at + SEQ_WIDTH)]
  const bytes = parseInt(key.slice(at + SEQ_WIDTH + 1), 36)
  if (!Number.isSafeInteger(seq) || kind === undefined || !Number.isSafeInteger(bytes)) {
    throw new LambkinError(ErrorCodes.STORE_ERROR, `the outbox holds a malformed record key "${key}"; the data dir may be damaged or written by another program`, { details: { key } })
  }
  return { seq, kind, bytes }
}

/** Range options selecting the record keys of seqs in [from, to). */
export function seqRange (from: number, to?: number): { gte: string, lt?: string } {
  return to === undefined ? { gte: seqKey(from) } : { gte: seqKey(from), lt: seqKey(to) }
}

/**
 * Publish keys: the fixed-width id, then the encoded size in base 36, so the quota can count
 * pending publishes from keys alone. Stores written before publishes counted have bare ids.
 */
export function publishKey (id: number, bytes: number): string {
  return seqKey(id) + bytes.toString(36)
}

export interface PublishKeyParts { id: number, bytes: number | undefined }

export function parsePublishKey (key: string): PublishKeyParts {
  const id = Number(key.slice(0, SEQ_WIDTH))
  const rest = key.slice(SEQ_WIDTH)
  const bytes = rest === '' ? undefined : parseInt(rest, 36)
  if (!Number.isSafeInteger(id) || (bytes !== undefined && !Number.isSafeInteger(bytes))) {
    throw new LambkinError(ErrorCodes.STORE_ERROR, `the outbox holds a malformed publish key "${key}"; the data dir may be damaged or written by another program`, { details: { key } })
  }
  return { id, bytes }
}
