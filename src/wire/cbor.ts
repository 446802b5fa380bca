// CBOR as the wire speaks it [W2]: cbor-x with plain maps and no record extension, so any
// CBOR decoder can read what lambkin sends, and what it reads never throws past the caller.
import { Encoder } from 'cbor-x'
import { ErrorCodes, errorMessage, LambkinError } from '../errors.js'

// useRecords off: the record extension would tie bytes to this encoder's structure table.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

/** The protocol version every frame carries as `v` [W2]. */
export const WIRE_VERSION = 1

/** Encodes a frame; `v` is set here so no sender forgets it [W2]. */
export function encodeFrame (frame: Record<string, unknown>): Buffer {
  return cbor.encode({ v: WIRE_VERSION, ...frame })
}

/**
 * Decodes one frame of at most `maxBytes` into a plain object with `v === WIRE_VERSION`.
 * Throws LambkinError LAMBKIN_WIRE_INVALID (details.reason: 'too-large' | 'malformed' |
 * 'not-a-map' | 'version') for anything else [W2][W8]; callers count and drop it.
 */
export function decodeFrame (bytes: Uint8Array, maxBytes: number): Record<string, unknown> {
  checkFrameSize(bytes, maxBytes)
  let value: unknown
  let structures = false
  try {
    value = cbor.decode(bytes)
  } catch (err) {
    throw wireError('malformed', `frame is not valid CBOR: ${errorMessage(err)}`)
  } finally {
    structures = forgetStructures()
  }
  if (structures) throw wireError('malformed', 'frame defines cbor-x record structures (tag 0xdfff), which the wire does not use [W2]')
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw wireError('not-a-map', 'frame is not a CBOR map')
  }
  return checkVersion(value as Record<string, unknown>)
}

/**
 * cbor-x honours its record extension's structure definitions (tag 0xdfff) on decode even with
 * useRecords off, and keeps them for later frames: one device's frame could then shape what
 * another's tag 0xe000.. reads as. No lambkin side sends them [W2]: forgets any the last decode
 * defined and says whether there were some.
 */
function forgetStructures (): boolean {
  const defined = (cbor as unknown as { structures?: unknown[] }).structures
  if (defined === undefined || defined.length === 0) return false
  defined.length = 0
  return true
}

/** Throws LAMBKIN_WIRE_INVALID 'too-large' for a frame over `maxBytes` [W8]. */
export function checkFrameSize (bytes: Uint8Array, maxBytes: number): void {
  if (bytes.byteLength > maxBytes) throw wireError('too-large', `frame of ${bytes.byteLength} bytes is over the ${maxBytes} byte cap`)
}

/** `frame` when its `v` is WIRE_VERSION; else throws LAMBKIN_WIRE_INVALID 'version' [W2]. */
export function checkVersion (frame: Record<string, unknown>): Record<string, unknown> {
  if (frame.v !== WIRE_VERSION) throw wireError('version', `frame version ${String(frame.v)} is not ${WIRE_VERSION}`)
  return frame
}

/** A LAMBKIN_WIRE_INVALID error with a machine-readable reason [W8]. */
export function wireError (reason: string, message: string): LambkinError {
  return new LambkinError(ErrorCodes.WIRE_INVALID, message, { details: { reason } })
}
