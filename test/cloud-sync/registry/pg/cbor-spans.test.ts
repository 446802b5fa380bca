// cbor-spans.ts: each record's data bytes cut out of a batch frame as the device encoded it
// [W2][W4], and undefined (the caller encodes the data itself) for a frame of another shape.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { recordDataSpans } from '../../../../cloud-sync/registry/pg/cbor-spans.js'
import { encodeFrame } from '../../../../src/wire/index.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

test('the spans decode to each record\'s data, whatever it holds and wherever the key stands', () => {
  const datas: unknown[] = [{ n: 1 }, 'text', [1, 2.5, -3, null, true], { deep: { er: [{ x: new Uint8Array([1, 2]) }] } }, 2 ** 40, -1.5e300, null]
  const frame = encodeFrame({ v: 1, stream: 'ab12ab12ab12ab12', records: datas.map((data, i) => ({ data, seq: i + 1, kind: 'result', time: 5 })), gaps: [] })
  const spans = recordDataSpans(frame)
  assert.ok(spans !== undefined)
  assert.equal(spans.map((b) => cbor.decode(b)), datas)
})

test('indefinite lengths and tags are walked over', () => {
  // { "x": tag 1 (0), "records": [ { "data": [_ 1, {_ "a": 2 }], "seq": 1 } ] }: indefinite array and map.
  const frame = Buffer.from([0xa2, 0x61, 0x78, 0xc1, 0x00, 0x67, ...Buffer.from('records'), 0x81, 0xa2, 0x64, ...Buffer.from('data'), 0x9f, 0x01, 0xbf, 0x61, 0x61, 0x02, 0xff, 0xff, 0x63, ...Buffer.from('seq'), 0x01])
  const spans = recordDataSpans(frame)
  assert.equal(spans?.map((b) => cbor.decode(b)), [[1, { a: 2 }]])
})

test('a frame of another shape, or cut short, gives undefined', () => {
  assert.is(recordDataSpans(cbor.encode([1, 2])), undefined)
  assert.is(recordDataSpans(cbor.encode({ records: 'no' })), undefined)
  assert.is(recordDataSpans(cbor.encode({ records: [{ seq: 1 }] })), undefined, 'a record without data')
  const whole = encodeFrame({ records: [{ seq: 1, kind: 'result', time: 1, data: { n: 'x'.repeat(50) } }] })
  assert.is(recordDataSpans(whole.subarray(0, whole.length - 10)), undefined)
})

test.run()
