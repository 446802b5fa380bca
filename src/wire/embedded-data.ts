// A record's data carried as the CBOR bytes the device stored [W4][W8]: RFC 8949 tag 24
// ("embedded CBOR data item") around a byte string, so neither side decodes payloads on the
// drain's hot path. The cloud checks the embedded bytes with a walk over CBOR heads and lengths
// that builds no values (checkEmbedded), against the rules record-data.ts applies to decoded data.
import { Encoder, Tag } from 'cbor-x'
import { DATA_MAX_DEPTH } from './record-data.js'
import type { DataProblem } from './record-data.js'

/** RFC 8949 §3.4.5.1: the tag of a byte string holding one encoded CBOR data item. */
export const EMBEDDED_CBOR_TAG = 24

/** The wire's encoding (cbor.ts): what an embedded item decodes with. */
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

/** Data as the wire carries it embedded: a cbor-x Tag 24 whose value is the item's bytes. */
export type EmbeddedData = Tag & { value: Uint8Array }

/** Wraps `bytes` (one encoded CBOR item, unchecked) to be sent as tag 24. */
export function embedData (bytes: Uint8Array): EmbeddedData {
  // A Buffer, not a plain Uint8Array, which cbor-x would send as a typed array (tag 64).
  return new Tag(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), EMBEDDED_CBOR_TAG) as EmbeddedData
}

/** The embedded bytes when `v` is tag 24 around a byte string, else undefined. */
export function embeddedBytes (v: unknown): Uint8Array | undefined {
  return v instanceof Tag && v.tag === EMBEDDED_CBOR_TAG && v.value instanceof Uint8Array ? v.value : undefined
}

/** Data as a value: embedded bytes decoded (throws on bytes that do not decode), anything else as it is. */
export function dataValue (v: unknown): unknown {
  const b = embeddedBytes(v)
  return b === undefined ? v : cbor.decode(b)
}

/** Data as CBOR bytes: embedded bytes as they are, anything else encoded the wire's way. */
export function dataBytes (v: unknown): Uint8Array {
  return embeddedBytes(v) ?? cbor.encode(v)
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER
/** checkEmbedded's stacks, reused (it never runs twice at once): what comes next in an open container. */
const ARRAY_ITEM = 0
const MAP_KEY = 1
const MAP_VALUE = 2
const STACK_LEFT = new Float64Array(DATA_MAX_DEPTH + 1)
const STACK_NEXT = new Uint8Array(DATA_MAX_DEPTH + 1)
const malformed = (message: string): DataProblem => ({ reason: 'malformed', message: `is not one well-formed CBOR item: ${message}` })

/**
 * Why the embedded bytes cannot be taken as record data, or undefined when they can [W8]: one
 * well-formed CBOR item filling `bytes` exactly, holding only what record-data.ts allows (maps,
 * arrays, strings, byte strings, numbers, booleans, null, undefined; no tag; integers within
 * ±2^53; nesting at most `maxDepth`, the data itself being 1; map keys that cbor-x turns into
 * text: strings, numbers, booleans, null, undefined; definite-length strings, which is all cbor-x
 * reads back). Walks heads and lengths only, without
 * recursion, and never trusts a declared count beyond the bytes left, so hostile bytes cost at
 * most one pass over them. Not checked: that text strings are valid UTF-8 (a decoder puts
 * U+FFFD in place of bad sequences, which JSON can show).
 */
export function checkEmbedded (bytes: Uint8Array, maxDepth = DATA_MAX_DEPTH): DataProblem | undefined {
  const end = bytes.length
  let pos = 0
  // Per open container, innermost at `top`: items still to read (-1: indefinite, until a
  // break), and what comes next: an array item, a map key or a map value.
  const fits = maxDepth < STACK_LEFT.length
  const left = fits ? STACK_LEFT : new Float64Array(maxDepth + 1)
  const next = fits ? STACK_NEXT : new Uint8Array(maxDepth + 1)
  let top = -1
  if (end === 0) return malformed('no bytes')
  for (;;) {
    // Close every container whose items are all read.
    while (top >= 0 && left[top] === 0) top--
    if (top < 0 && pos > 0) break
    if (pos >= end) return malformed('it ends early')
    const ib = bytes[pos++]
    if (ib === 0xff) {
      if (top < 0 || left[top] !== -1) return malformed(`a break (0xff) outside an indefinite container at byte ${pos - 1}`)
      if (next[top] === MAP_VALUE) return malformed(`a map ends after a key at byte ${pos - 1}`)
      top--
      if (top < 0) break
      continue
    }
    let key = false
    if (top >= 0) {
      if (left[top] > 0) left[top]--
      const n = next[top]
      if (n === MAP_KEY) { key = true; next[top] = MAP_VALUE } else if (n === MAP_VALUE) next[top] = MAP_KEY
    }
    const major = ib >> 5
    const info = ib & 31
    let arg = info
    if (info >= 24 && info <= 27) {
      const n = 1 << (info - 24)
      if (pos + n > end) return malformed('it ends early')
      arg = 0
      for (let i = 0; i < n; i++) arg = arg * 256 + bytes[pos++]
    } else if (info >= 28 && (info !== 31 || major === 0 || major === 1 || major === 6)) {
      return malformed(`reserved head 0x${ib.toString(16)} at byte ${pos - 1}`)
    }
    if (key && (major === 2 || major === 4 || major === 5 || major === 6)) return malformed(`a map key that is not a string, number, boolean or null at byte ${pos - 1}`)
    switch (major) {
      case 0:
        if (arg > MAX_SAFE) return { reason: 'integer', message: `holds the integer ${arg}, beyond the ±2^53 a JSON number keeps exactly; send it as a string` }
        break
      case 1:
        if (arg >= MAX_SAFE) return { reason: 'integer', message: `holds the integer -${arg + 1}, beyond the ±2^53 a JSON number keeps exactly; send it as a string` }
        break
      case 2: case 3:
        // cbor-x, which reads stored data back, reads no indefinite-length string.
        if (info === 31) return malformed(`an indefinite-length string at byte ${pos - 1}`)
        if (arg > end - pos) return malformed('a string runs past the end')
        pos += arg
        break
      case 4: case 5: {
        if (top + 2 > maxDepth) return { reason: 'depth', message: `nests deeper than ${maxDepth} levels` }
        const items = info === 31 ? -1 : major === 5 ? arg * 2 : arg
        // Each item takes at least one byte: a count beyond the bytes left is a lie.
        if (items > end - pos) return malformed(`a ${major === 5 ? 'map' : 'array'} of ${arg} items in ${end - pos} bytes`)
        if (items !== 0) { top++; left[top] = items; next[top] = major === 5 ? MAP_KEY : ARRAY_ITEM }
        break
      }
      case 6:
        return { reason: 'tag', message: `holds CBOR tag ${arg}, which JSON cannot show; send plain maps, arrays, strings, numbers, booleans, null or bytes` }
      default:
        // Major 7: false, true, null, undefined and floats; other simple values are unassigned.
        if (info < 20 || info === 24) return malformed(`the unassigned simple value at byte ${pos - 1}`)
    }
  }
  if (pos !== end) return malformed(`${end - pos} bytes after the item`)
  return undefined
}
