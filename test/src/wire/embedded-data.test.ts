// [W4][W8] Record data sent embedded as CBOR (tag 24, src/wire/embedded-data.ts): the bytes are
// checked without decoding them, by the rules decoded data is checked by (record-data.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { DATA_MAX_DEPTH, checkEmbedded, dataBytes, dataProblem, dataValue, embedData, embeddedBytes, parseBatch } from '../../../src/wire/index.js'
import { array, bytes, embedded, float, map, nested, nil, obj, tag, text, uint, uint64, undef } from '../../helpers/cbor-craft.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

test('[W8] what decoded data may hold is taken embedded too, whatever its encoding (indefinite-length containers, 8-byte integers, floats)', () => {
  const ok = [
    cbor.encode({ invocationId: 'i-1', result: { value: 21.5, alarm: false }, list: [1, -2, 'x', null, undefined, Buffer.from([1])] }),
    cbor.encode('a string'), cbor.encode(7), cbor.encode(1 - 2 ** 53), cbor.encode(NaN),
    uint64(2n ** 53n - 1n), Buffer.concat([Buffer.from([0x3b]), Buffer.from('001ffffffffffffe', 'hex')]),
    obj({ n: uint64(5n), gone: undef, none: nil, f: float(Infinity), bin: bytes(Buffer.from('ab')) }),
    // Keys cbor-x turns into text: numbers, booleans, null.
    map([[uint(1), text('one')], [Buffer.from([0xf5]), nil], [nil, nil], [float(1.5), nil]]),
    // Indefinite-length array and map.
    Buffer.from([0x9f, 0x01, 0xbf, 0x61, 0x61, 0x02, 0xff, 0x9f, 0xff, 0xff]),
    nested(DATA_MAX_DEPTH)
  ]
  for (const [i, b] of ok.entries()) {
    assert.is(checkEmbedded(b), undefined, `case ${i}: ${b.toString('hex').slice(0, 40)}`)
    // The rule is the decoded data's: the same bytes decoded are taken too.
    assert.is(dataProblem(cbor.decode(b)), undefined, `case ${i} decoded`)
  }
})

test('[W8] embedded bytes that break a rule are refused for the reason decoded data would be, or as malformed', () => {
  const refused: Array<[string, Buffer, string]> = [
    ['a 64-bit integer beyond 2^53', obj({ n: uint64(2n ** 64n - 1n) }), 'integer'],
    ['a negative integer beyond -2^53', Buffer.concat([Buffer.from([0x3b]), Buffer.from('0020000000000001', 'hex')]), 'integer'],
    ['a tag inside (a date)', obj({ at: tag(1, uint(1)) }), 'tag'],
    ['value sharing (tags 28/29)', tag(28, obj({ self: tag(29, uint(0)) })), 'tag'],
    ['tag 24 inside tag 24', embedded(uint(1)), 'tag'],
    [`nesting ${DATA_MAX_DEPTH + 1} deep`, nested(DATA_MAX_DEPTH + 1), 'depth'],
    ['nesting 50,000 deep', nested(50_000), 'depth'],
    ['no bytes', Buffer.alloc(0), 'malformed'],
    ['garbage (a reserved head)', Buffer.from([0x1c, 0xde, 0xad]), 'malformed'],
    ['an item cut short', cbor.encode({ a: 'long enough text' }).subarray(0, 10), 'malformed'],
    ['two items', Buffer.concat([uint(1), uint(2)]), 'malformed'],
    ['an array claiming 2^32 items in 3 bytes', Buffer.from([0x9a, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03]), 'malformed'],
    ['a string claiming 2^40 bytes', Buffer.concat([Buffer.from([0x5b]), Buffer.from('0000010000000000', 'hex'), Buffer.from('ab')]), 'malformed'],
    ['a break outside an indefinite item', Buffer.from([0x82, 0x01, 0xff]), 'malformed'],
    ['an indefinite map ending after a key', Buffer.from([0xbf, 0x61, 0x61, 0xff]), 'malformed'],
    ['a byte-string map key', map([[bytes(Buffer.from('k')), uint(1)]]), 'malformed'],
    ['an array as a map key', map([[array([]), uint(1)]]), 'malformed'],
    ['an unassigned simple value', Buffer.from([0xf0]), 'malformed'],
    ['an indefinite-length text string (cbor-x reads none back)', Buffer.from([0x7f, 0x61, 0x61, 0xff]), 'malformed']
  ]
  for (const [what, b, reason] of refused) assert.is(checkEmbedded(b)?.reason, reason, what)
})

test('[W4] a batch may carry embedded data beside decoded data; a refused one names the record and the reason', () => {
  const data = cbor.encode({ n: 1 })
  const frame = cbor.decode(cbor.encode({ v: 1, records: [{ seq: 1, kind: 'result', time: 1, data: embedData(data) }, { seq: 2, kind: 'result', time: 2, data: { n: 2 } }] })) as Record<string, unknown>
  const b = parseBatch(frame)
  assert.equal([...(embeddedBytes(b.records[0].data) ?? [])], [...data])
  assert.equal(dataValue(b.records[0].data), { n: 1 })
  assert.equal(dataValue(b.records[1].data), { n: 2 })
  assert.equal([...dataBytes(b.records[0].data)], [...dataBytes(b.records[1].data).subarray(0, 0), ...data])
  const bad = cbor.decode(cbor.encode({ v: 1, records: [{ seq: 1, kind: 'result', time: 1, data: embedData(Buffer.from([0x9f, 0x01])) }] })) as Record<string, unknown>
  try {
    parseBatch(bad)
    assert.unreachable('garbage embedded data was taken')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'LAMBKIN_WIRE_INVALID')
    assert.is((err as { details?: { reason?: string } }).details?.reason, 'data-malformed')
    assert.match((err as Error).message, /records\[0\]\.data/)
  }
})

test('[W4] embedData sends a Buffer as a plain byte string (never a typed array, tag 64)', () => {
  const item = cbor.encode({ x: 1 })
  const sent = cbor.encode(embedData(new Uint8Array(item)))
  assert.equal([...sent.subarray(0, 2)], [0xd8, 24])
  assert.is(sent[2] >> 5, 2)
  assert.equal([...sent.subarray(sent.length - item.length)], [...item])
})

test.run()
