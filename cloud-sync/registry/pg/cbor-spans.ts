// Where each record's `data` lies in an `up/batch` frame's bytes [W2][W4], so the PostgreSQL
// registry keeps the bytes the device sent instead of encoding the decoded value again. Walks
// the CBOR structure only (RFC 8949 heads and lengths), never builds values; anything it does
// not expect (a frame shape other than a map with a `records` array of maps) gives undefined
// and the caller encodes the data itself.

/** Nesting walked at most; the wire's data is far shallower (the frame decoded before this). */
const MAX_DEPTH = 4000

class Reader {
  pos = 0
  constructor (readonly b: Uint8Array) {}

  /** Reads an item's head: its major type and argument (-1 for an indefinite length). */
  head (): { major: number, arg: number, info: number } {
    const ib = this.byte()
    const major = ib >> 5
    const info = ib & 31
    if (info < 24) return { major, arg: info, info }
    if (info === 31) return { major, arg: -1, info }
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0
    if (n === 0) throw new RangeError('reserved CBOR head')
    let arg = 0
    for (let i = 0; i < n; i++) arg = arg * 256 + this.byte()
    return { major, arg, info }
  }

  byte (): number {
    if (this.pos >= this.b.length) throw new RangeError('CBOR ends early')
    return this.b[this.pos++]
  }

  skipBytes (n: number): void {
    if (this.pos + n > this.b.length) throw new RangeError('CBOR ends early')
    this.pos += n
  }

  /** Skips one whole item. */
  skip (depth = 0): void {
    if (depth > MAX_DEPTH) throw new RangeError('CBOR nested too deep')
    const start = this.pos
    const { major, arg, info } = this.head()
    switch (major) {
      case 0: case 1: return
      case 2: case 3:
        if (arg >= 0) { this.skipBytes(arg); return }
        while (this.b[this.pos] !== 0xff) this.skip(depth + 1)
        this.pos++
        return
      case 4: case 5: {
        const per = major === 5 ? 2 : 1
        if (arg >= 0) { for (let i = 0; i < arg * per; i++) this.skip(depth + 1); return }
        while (this.b[this.pos] !== 0xff) this.skip(depth + 1)
        this.pos++
        return
      }
      case 6: this.skip(depth + 1); return
      default:
        // Simple values and floats: the head held everything (its argument bytes were read).
        if (info === 31) throw new RangeError(`unexpected CBOR break at ${start}`)
    }
  }

  /** A text string (a map key), or undefined (the item is skipped) for anything else. */
  text (): string | undefined {
    const at = this.pos
    const { major, arg } = this.head()
    if (major !== 3 || arg < 0) { this.pos = at; this.skip(); return undefined }
    const s = Buffer.from(this.b.buffer, this.b.byteOffset + this.pos, arg).toString('utf8')
    this.skipBytes(arg)
    return s
  }

  /** A definite-length container's count, or undefined for anything else. */
  count (major: number): number | undefined {
    const { major: m, arg } = this.head()
    return m === major && arg >= 0 ? arg : undefined
  }
}

/**
 * The item inside `span` when it is tag 24 around a definite byte string (data sent embedded,
 * src/wire/embedded-data.ts): the bytes the device stored; else `span` itself.
 */
function embeddedSpan (span: Uint8Array): Uint8Array {
  if (span[0] !== 0xd8 || span[1] !== 24) return span
  const r = new Reader(span)
  r.pos = 2
  const { major, arg } = r.head()
  return major === 2 && arg >= 0 && r.pos + arg === span.length ? span.subarray(r.pos) : span
}

/**
 * The `data` bytes of each record of a batch frame, in the frame's order (embedded data: the
 * item inside its tag 24); undefined when the frame is not as expected.
 */
export function recordDataSpans (frame: Uint8Array): Uint8Array[] | undefined {
  try {
    const r = new Reader(frame)
    const keys = r.count(5)
    if (keys === undefined) return undefined
    for (let k = 0; k < keys; k++) {
      if (r.text() !== 'records') { r.skip(); continue }
      const n = r.count(4)
      if (n === undefined) return undefined
      const out: Uint8Array[] = []
      for (let i = 0; i < n; i++) {
        const fields = r.count(5)
        if (fields === undefined) return undefined
        let data: Uint8Array | undefined
        for (let f = 0; f < fields; f++) {
          const key = r.text()
          const start = r.pos
          r.skip()
          if (key === 'data') data = embeddedSpan(frame.subarray(start, r.pos))
        }
        if (data === undefined) return undefined
        out.push(data)
      }
      return out
    }
    return undefined
  } catch {
    return undefined
  }
}
