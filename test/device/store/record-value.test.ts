// A stored record's value split without decoding its data (device/store/record-value.ts): item
// ends found by walking heads agree with what cbor-x encodes, definite and indefinite lengths
// alike; a cut or malformed value answers -1 or undefined (the store then decodes); the
// envelope and the data bytes come out as stored, the same function name read twice included.
import { Encoder } from 'cbor-x'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { itemEnd, splitRecord } from '../../../device/store/record-value.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const values: unknown[] = [
  0, 23, 24, 255, 256, 65_536, 2 ** 32, -1, -500, 1.5, -0.25, 2 ** 53 - 1, true, false, null, undefined,
  '', 'a', 'x'.repeat(300), 'é€', Buffer.alloc(0), Buffer.from([1, 2, 3]),
  [], [1, [2, [3, [4]]]], {}, { a: 1, b: { c: [1, 2, { d: 'e' }] } },
  { invocationId: 'i-1', result: { value: 21.5, alarm: false }, durationMs: 0.4, attempts: 1 },
  Array.from({ length: 30 }, (_, i) => ({ i, s: `s${i}` }))
]

test('itemEnd: the end of each encoded item, alone and followed by more bytes', () => {
  for (const v of values) {
    const b = cbor.encode(v)
    assert.is(itemEnd(b, 0), b.length, JSON.stringify(v))
    const more = Buffer.concat([Buffer.from([0x61, 0x78]), b, Buffer.from([0x01, 0x02])])
    assert.is(itemEnd(more, 2), 2 + b.length)
  }
})

test('itemEnd: indefinite lengths, and cut or malformed items answer -1', () => {
  // [_ 1, {_ "a": [_ ]}] then 0x07; "ab" as an indefinite text of two chunks.
  const indef = Buffer.from([0x9f, 0x01, 0xbf, 0x61, 0x61, 0x9f, 0xff, 0xff, 0xff, 0x07])
  assert.is(itemEnd(indef, 0), 9)
  assert.is(itemEnd(Buffer.from([0x7f, 0x61, 0x61, 0x61, 0x62, 0xff]), 0), 6)
  // A map inside a definite array holding an indefinite one.
  assert.is(itemEnd(Buffer.from([0x82, 0x9f, 0x01, 0xff, 0x02]), 0), 5)
  for (const v of values) {
    const b = cbor.encode(v)
    for (let cut = 0; cut < b.length; cut++) assert.is(itemEnd(b.subarray(0, cut), 0), -1, `${JSON.stringify(v)} cut at ${cut}`)
  }
  assert.is(itemEnd(Buffer.from([0xff]), 0), -1, 'a break alone')
  assert.is(itemEnd(Buffer.from([0x1c]), 0), -1, 'a reserved additional info')
  assert.is(itemEnd(Buffer.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0), -1, 'a count past the bytes')
})

test('splitRecord: the envelope as values and the data as its stored bytes; other shapes answer undefined', () => {
  const stored = [
    { t: 1_700_000_000_000, d: values[26], f: 'threshold' },
    { t: 1_700_000_000_001, d: values[26], f: 'threshold' },
    { t: 1.5, d: null, f: 'другой' },
    { t: 5, d: 'x'.repeat(300), f: 'thresholt', x: 1_700_000_100_000, m: 12_345, b: 'ab12' },
    { t: 6, d: [1, 2] }
  ]
  for (const s of stored) {
    const v = cbor.encode(s)
    const r = splitRecord(v)
    assert.ok(r, JSON.stringify(s))
    const { d, ...envelope } = r
    const { d: data, ...expected } = s
    assert.equal(envelope, expected)
    assert.equal(cbor.decode(d), data)
    assert.ok(Buffer.from(cbor.encode(data)).equals(Buffer.from(d)))
  }
  assert.is(splitRecord(cbor.encode({ d: 1 })), undefined, 'no t')
  assert.is(splitRecord(cbor.encode({ t: 1 })), undefined, 'no d')
  assert.is(splitRecord(cbor.encode({ t: 1, d: 2, f: 3 })), undefined, 'f not text')
  assert.is(splitRecord(cbor.encode([1, 2])), undefined, 'not a map')
  const v = cbor.encode({ t: 1, d: { a: 1 } })
  assert.is(splitRecord(v.subarray(0, v.length - 1)), undefined, 'cut')
  assert.is(splitRecord(Buffer.concat([v, Buffer.from([0])])), undefined, 'bytes after the map')
})

test.run()
