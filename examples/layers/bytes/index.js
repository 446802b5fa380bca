// A layer for binary MQTT payloads: a message whose bytes are not UTF-8 (or whose trigger says
// "payload": "bytes") arrives as event.payloadBase64. QuickJS has no atob or Buffer, so this
// turns base64 (RFC 4648 section 4, padding optional) into a Uint8Array, and back.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

export function fromBase64 (s) {
  const t = s.replace(/=+$/, '')
  const out = new Uint8Array((t.length * 3) >> 2)
  for (let i = 0, j = 0, bits = 0, acc = 0; i < t.length; i++) {
    const v = ALPHABET.indexOf(t[i])
    if (v < 0) throw new Error(`not base64 at ${i}`)
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) { bits -= 8; out[j++] = (acc >> bits) & 0xff }
  }
  return out
}

export function toBase64 (bytes) {
  let s = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + (i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? ALPHABET[n & 63] : '=')
  }
  return s
}

/** The bytes of an MQTT event's payload, whichever form it arrived in (text is UTF-8 encoded). */
export function payloadBytes (event) {
  if (typeof event.payloadBase64 === 'string') return fromBase64(event.payloadBase64)
  const text = typeof event.payload === 'string' ? event.payload : JSON.stringify(event.payload)
  return new TextEncoderLite().encode(text)
}

// QuickJS has no TextEncoder either: UTF-16 to UTF-8 by hand.
class TextEncoderLite {
  encode (s) {
    const out = []
    for (const ch of s) {
      const c = ch.codePointAt(0)
      if (c < 0x80) out.push(c)
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63))
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
    }
    return Uint8Array.from(out)
  }
}
