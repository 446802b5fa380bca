// [W4] The hand-written `up/batch` encoder (src/wire/batch-encode.ts) writes what encodeFrame
// writes for the same frame, and frames the cloud's parser takes.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { dataValue, decodeFrame, embedData, encodeBatch, encodeFrame, parseBatch } from '../../../src/wire/index.js'
import type { BatchOut } from '../../../src/wire/index.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

const frames: Array<[string, BatchOut]> = [
  ['the legacy stream, no batch id, one record', { records: [{ seq: 1, kind: 'result', time: 1, data: null }], gaps: [] }],
  ['a stream, a batch id, fn, gaps, decoded data of every kind', {
    stream: '0123456789abcdef',
    batchId: 70_000,
    records: [
      { seq: 5, kind: 'log', fn: 'f-1', time: 1_700_000_000_123, data: { lines: ['ünï ✓', 2.5, -3, true, undefined, Buffer.from([1, 2])] } },
      { seq: 6, kind: 'metric', time: -5, data: 'x'.repeat(300) },
      { seq: 2 ** 33, kind: 'dead-letter', fn: 'g', time: 0.5, data: [] }
    ],
    gaps: [{ from: 1, to: 4, reason: 'dropped' }]
  }],
  ['gaps only', { stream: 'abcdef01', batchId: 0, records: [], gaps: [{ from: 1, to: 3, reason: 'excluded' }] }]
]

test('[W4] encodeBatch writes the frame encodeFrame writes (fields, order and number forms; map heads at their shortest)', () => {
  for (const [what, f] of frames) {
    const { stream, ...rest } = f
    const viaEncoder = encodeFrame({ ...(stream === undefined ? {} : { stream }), ...rest })
    const mine = encodeBatch(f)
    assert.equal(cbor.decode(mine), cbor.decode(viaEncoder), what)
    assert.equal(JSON.stringify(cbor.decode(mine)), JSON.stringify(cbor.decode(viaEncoder)), `${what}: key order`)
    // cbor-x writes every map head with a 16-bit count (0xb9 00 0n): 2 bytes more per map.
    const maps = 1 + f.records.length + (f.records.some((r) => typeof r.data === 'object' && r.data !== null && !Array.isArray(r.data)) ? 1 : 0)
    assert.ok(mine.length <= viaEncoder.length && mine.length >= viaEncoder.length - 2 * (maps + 2), what)
  }
})

test('[W4] records with embedded data (200 of them, data up to 70 KB) decode to the values their bytes hold', () => {
  const values = Array.from({ length: 200 }, (_, i) => i === 7 ? { big: 'y'.repeat(70_000) } : { n: i, s: `r${i}` })
  const frame = encodeBatch({ stream: '0123456789abcdef', batchId: 3, records: values.map((v, i) => ({ seq: i + 1, kind: 'result', fn: 'f', time: 1_800_000_000_000 + i, data: embedData(cbor.encode(v)) })), gaps: [] })
  const b = parseBatch(decodeFrame(frame, 2 * 1024 * 1024))
  assert.is(b.records.length, 200)
  assert.equal(b.records.map((r) => dataValue(r.data)), values)
  assert.equal([b.stream, b.batchId, b.first, b.last, b.records[199].time], ['0123456789abcdef', 3, 1, 200, 1_800_000_000_199])
})

test.run()
