// How stored values are encoded: cbor-x with plain maps (no record extension), as bytes.
import { Encoder } from 'cbor-x'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'

// useRecords off: records would tie the bytes to this encoder's in-memory structure table.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
// The same bytes with maps as Maps, for values holding a `__proto__` key (decodeValue).
const asMaps = new Encoder({ useRecords: false, mapsAsObjects: false })
/** The CBOR text string `__proto__` (major type 3, length 9; RFC 8949 section 3.1). */
const PROTO_KEY = Buffer.from([0x69, ...Buffer.from('__proto__')])

/** Maps to plain objects with own properties, every key as cbor-x's objects name it but `__proto__` kept. */
function ownKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ownKeys)
  if (!(value instanceof Map)) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of value) {
    if (typeof k === 'object' && k !== null) throw new Error(`invalid property name type ${typeof k}`)
    Object.defineProperty(out, String(k), { value: ownKeys(v), enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** `value` as CBOR bytes; throws LAMBKIN_STORE_ERROR naming `what` when it cannot be encoded. */
export function encodeValue (value: unknown, what: string): Uint8Array {
  return encodeNamed(value, what, '')
}

/**
 * encodeValue with its name `${before}${name}${after}` built only when the encode fails: this
 * runs for every record, publish and meta write of a commit, whose names are otherwise unused.
 */
export function encodeNamed (value: unknown, before: string, name: string | number, after = ''): Uint8Array {
  try {
    return cbor.encode(value)
  } catch (err) {
    const what = `${before}${name}${after}`
    throw new LambkinError(ErrorCodes.STORE_ERROR, `${what} cannot be stored: ${errorMessage(err)}; use plain objects, arrays, strings, numbers, booleans, null and bytes`, { cause: err, details: { what } })
  }
}

/**
 * Decodes what encodeValue stored. A map key `__proto__` comes back as an own property, as
 * JSON.parse gives it and the sandbox wrote it: cbor-x renames it `__proto_` (its guard against
 * prototype pollution), which would lose a `ctx.state.__proto__` at each reload. Bytes holding
 * no such text string take cbor-x's plain path. Throws LAMBKIN_STORE_ERROR on bad bytes.
 */
export function decodeValue (bytes: Uint8Array, what: string): unknown {
  try {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return b.indexOf(PROTO_KEY) === -1 ? cbor.decode(bytes) : ownKeys(asMaps.decode(bytes))
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
