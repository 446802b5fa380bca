// How stored values are encoded: cbor-x with plain maps (no record extension), as bytes.
import { Encoder } from 'cbor-x'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'

// useRecords off: records would tie the bytes to this encoder's in-memory structure table.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

export function encodeValue (value: unknown, what: string): Uint8Array {
  try {
    return cbor.encode(value)
  } catch (err) {
    throw new LambkinError(ErrorCodes.STORE_ERROR, `${what} cannot be stored: ${errorMessage(err)}; use plain objects, arrays, strings, numbers, booleans, null and bytes`, { cause: err, details: { what } })
  }
}

export function decodeValue (bytes: Uint8Array, what: string): unknown {
  try {
    return cbor.decode(bytes)
  } catch (err) {
    throw new LambkinError(ErrorCodes.STORE_ERROR, `${what} in the store cannot be decoded: ${errorMessage(err)}; the data dir may be damaged`, { cause: err, details: { what } })
  }
}

/** A stored outbox record's value; the kind and size live in its key. */
export interface StoredRecord {
  /** time */
  t: number
  /** data */
  d: unknown
  /** fn */
  f?: string
  /** expiresAt, on the wall clock at the commit (what a later boot compares; expiry.ts) */
  x?: number
  /** expiresAt on the monotonic clock of boot `b` (what this boot compares) */
  m?: number
  /** the boot `m` counts in: a short tag of its boot id */
  b?: string
}
