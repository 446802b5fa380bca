// A record's data in the PostgreSQL registry: the CBOR bytes the device sent (cbor-spans.ts cuts
// them out of the frame), or the data encoded once when the frame's bytes are not at hand.
// Decoded on read inside a try: stored bytes that no longer decode answer as a placeholder
// `{ unreadable }`, so no stored record can make a query fail [W8].
import { Encoder } from 'cbor-x'
import { errorMessage } from '../../../src/errors.js'
import { embeddedBytes } from '../../../src/wire/index.js'

/** The wire's own encoding (src/wire/cbor.ts): plain maps, no record extension [W2]. */
export const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

/** Data's bytes: embedded data (tag 24) as the device sent them, any other value encoded. */
export function encodeData (data: unknown): Uint8Array {
  return embeddedBytes(data) ?? cbor.encode(data)
}

export function decodeData (bytes: Uint8Array): unknown {
  try {
    return cbor.decode(bytes)
  } catch (err) {
    return { unreadable: `stored data of ${bytes.byteLength} bytes cannot be decoded: ${errorMessage(err)}` }
  }
}
