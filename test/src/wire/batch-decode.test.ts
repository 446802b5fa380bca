// [W4][W8] The cloud's `up/batch` reader (src/wire/batch-decode.ts) gives what decodeFrame
// (cbor-x) gives for every frame: the same values on the plain subset it reads itself, and the
// same values or errors for everything it hands to cbor-x.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder, Tag } from 'cbor-x'
import { ErrorCodes } from '../../../src/errors.js'
import { decodeBatchFrame, decodeFrame, embedData, embeddedBytes, encodeBatch, encodeFrame, parseBatch } from '../../../src/wire/index.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const CAP = 2_000_000

/** The value or the error (code, reason, message) a decoder ends with. */
function outcome (fn: () => unknown): unknown {
  try {
    return { value: fn() }
  } catch (err) {
    const e = err as { code?: string, message: string, details?: { reason?: string } }
    return { code: e.code, reason: e.details?.reason, message: e.message }
  }
}

function same (bytes: Buffer, what: string): void {
  const mine = outcome(() => decodeBatchFrame(bytes, CAP))
  const theirs = outcome(() => decodeFrame(bytes, CAP))
  assert.equal(mine, theirs, what)
}

const rec = (seq: number, data: unknown): Record<string, unknown> => ({ seq, kind: 'result', fn: 'threshold', time: 1_800_000_000_000 + seq + 0.5, data })

test('[W4] frames of the plain subset: the values cbor-x gives, embedded data as tag 24 over a view of the frame', () => {
  const frame = encodeBatch({
    stream: '0123456789abcdef',
    batchId: 70_000,
    records: [
      { seq: 1, kind: 'result', fn: 'threshold', time: 1_800_000_000_123, data: embedData(cbor.encode({ a: [1, 2.5, 'x'] })) },
      { seq: 2, kind: 'log', time: -5, data: { lines: ['plain', -300, 70_000, -70_000, 2 ** 32 - 1, true, false, null, undefined, Buffer.from([1, 2])], n: { deep: [[[]]] } } },
      { seq: 3, kind: 'metric', fn: 'f', time: 0.25, data: 'y'.repeat(200) }
    ],
    gaps: [{ from: 4, to: 5, reason: 'excluded' }]
  })
  same(frame, 'a mixed frame')
  const f = decodeBatchFrame(frame, CAP)
  const d = (f.records as Array<{ data: unknown }>)[0].data
  assert.ok(d instanceof Tag && (d as Tag).tag === 24)
  const bytes = embeddedBytes(d) as Buffer
  assert.ok(Buffer.isBuffer(bytes), 'a Buffer, so it is stored again as a byte string')
  assert.is(bytes.buffer, frame.buffer, 'a view of the frame, not a copy')
  assert.equal(cbor.decode(bytes), { a: [1, 2.5, 'x'] })
  assert.is(parseBatch(f).records.length, 3)
  // The same texts read again come from the reader's cache and are the same strings.
  same(frame, 'the same frame again')
})

test('[W8] what the reader leaves to cbor-x decodes, or fails, exactly as decodeFrame does', () => {
  const cases: Array<[string, Buffer]> = [
    ['record-like maps in other key orders or with other keys', encodeFrame({
      records: [
        { kind: 'log', seq: 1, time: 1, data: 1 },
        { seq: 2, kind: 'log', time: 2, fn: 'f', data: 2 },
        { seq: 3, kind: 'log', fn: 'f', time: 3, extra: 3 },
        { seq: 4, kind: 'log', time: 4, other: 4 },
        { seq: 5, kind: 'log', x: 5, data: 5 },
        { seq: 6, kind: 'log', fn: 'f', time: 6, data: 6 },
        { seq: 7 }
      ],
      gaps: []
    })],
    ['non-ASCII text', encodeFrame({ records: [rec(1, { s: 'ünï ✓' })], gaps: [] })],
    ['a __proto__ key', Buffer.concat([Buffer.from([0xa2, 0x61, 0x76, 0x01, 0x69]), Buffer.from('__proto__'), Buffer.from([0xa1, 0x61, 0x78, 0x01])])],
    ['a constructor key', encodeFrame({ records: [rec(1, { constructor: 1, toString: 2 })], gaps: [] })],
    ['a 64-bit integer', encodeFrame({ records: [rec(2 ** 40, null)], gaps: [] })],
    ['a float32', Buffer.from(cbor.encode({ v: 1, x: new Float32Array([1.5])[0] }))],
    ['another tag', encodeFrame({ records: [rec(1, new Tag(Buffer.from([0x01]), 25))], gaps: [] })],
    ['tag 24 around text', encodeFrame({ records: [rec(1, new Tag('a', 24))], gaps: [] })],
    ['a number key', Buffer.from([0xa2, 0x61, 0x76, 0x01, 0x01, 0x02])],
    ['indefinite map', Buffer.from([0xbf, 0x61, 0x76, 0x01, 0xff])],
    ['a simple value', Buffer.from([0xa2, 0x61, 0x76, 0x01, 0x61, 0x78, 0xf0])],
    ['long text', encodeFrame({ records: [rec(1, 'z'.repeat(70))], gaps: [] })],
    ['trailing bytes', Buffer.concat([encodeFrame({ records: [], gaps: [] }), Buffer.from([0x00])])],
    ['truncated', encodeFrame({ records: [rec(1, 'abc')], gaps: [] }).subarray(0, 30)],
    ['a count beyond the bytes', Buffer.from([0xa2, 0x61, 0x76, 0x01, 0x61, 0x72, 0x9a, 0xff, 0xff, 0xff, 0xff])],
    ['a string beyond the bytes', Buffer.from([0xa2, 0x61, 0x76, 0x01, 0x61, 0x72, 0x7a, 0x00, 0x10, 0x00, 0x00])],
    // Each array declares the bytes left, so each passes a check against them; the reader spends
    // one budget of the frame's bytes on declared items, as cbor-x does, and makes none of them.
    ['arrays nested to declare the bytes left at every level', Buffer.concat([Buffer.from([0xa2, 0x61, 0x76, 0x01, 0x61, 0x72]),
      ...Array.from({ length: 40 }, () => Buffer.from([0x99, 0x10, 0x00])), Buffer.alloc(0x1000)])],
    ['deep nesting', Buffer.concat([Buffer.from([0xa2, 0x61, 0x76, 0x01, 0x61, 0x64]), Buffer.alloc(100, 0x81), Buffer.from([0x00])])],
    ['not a map', Buffer.from(cbor.encode([1, 2]))],
    ['empty', Buffer.alloc(0)],
    ['version 2', encodeFrame({ records: [], gaps: [] }).fill(0x02, 3, 4)],
    ['no version', Buffer.from(cbor.encode({ records: [] }))]
  ]
  for (const [what, bytes] of cases) same(bytes, what)
  const proto = decodeBatchFrame(cases[1][1], CAP)
  assert.is(Object.getPrototypeOf(proto), Object.prototype, 'no prototype set from the wire')
})

test('[W8] a frame over the cap is refused before it is read', () => {
  const big = encodeFrame({ records: [rec(1, 'x'.repeat(100))], gaps: [] })
  const e = outcome(() => decodeBatchFrame(big, 50)) as { code: string, reason: string }
  assert.is(e.code, ErrorCodes.WIRE_INVALID)
  assert.is(e.reason, 'too-large')
})

test.run()
