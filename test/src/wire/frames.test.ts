import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { decodeFrame, encodeFrame, parseAck, parseBatch, parseHeartbeat, parseStatus, BATCH_LIMITS } from '../../../src/wire/index.js'

const plain = new Encoder({ useRecords: false, mapsAsObjects: true })
const reasonOf = (fn: () => unknown): string => {
  try { fn() } catch (err) { assert.is((err as { code: string }).code, 'LAMBKIN_WIRE_INVALID'); return String((err as { details: { reason: string } }).details.reason) }
  throw new Error('did not throw')
}
const rec = (seq: number): Record<string, unknown> => ({ seq, kind: 'result', fn: 'f', time: 1, data: { r: seq } })

test('[W2] frames round-trip with v set by the encoder; unknown fields are kept, ignored by parsers', () => {
  const f = decodeFrame(encodeFrame({ seq: 7, extra: 'x' }), 1024)
  assert.is(f.v, 1)
  assert.equal(parseAck(f), { seq: 7 })
})

test('[W2][W8] malformed CBOR, a non-map, a wrong v and an oversized frame are refused with a reason', () => {
  assert.is(reasonOf(() => decodeFrame(Buffer.from([0xbf, 0x61]), 1024)), 'malformed')
  assert.is(reasonOf(() => decodeFrame(plain.encode([1, 2]), 1024)), 'not-a-map')
  assert.is(reasonOf(() => decodeFrame(plain.encode({ v: 2, seq: 1 }), 1024)), 'version')
  assert.is(reasonOf(() => decodeFrame(plain.encode({ seq: 1 }), 1024)), 'version')
  assert.is(reasonOf(() => decodeFrame(Buffer.alloc(2000), 1024)), 'too-large')
})

test('[W4] a batch of contiguous records with a declared gap parses and is sorted', () => {
  const b = parseBatch({ records: [rec(5), rec(3), rec(9)], gaps: [{ from: 6, to: 8, reason: 'dropped' }, { from: 4, to: 4, reason: 'excluded' }] })
  assert.equal(b.records.map((r) => r.seq), [3, 5, 9])
  assert.is(b.first, 3)
  assert.is(b.last, 9)
  assert.equal(parseBatch({ records: [], gaps: [{ from: 1, to: 2, reason: 'excluded' }] }).last, 2)
  assert.equal(parseBatch({ records: [], gaps: [{ from: 1, to: 900, reason: 'dropped' }, { from: 901, to: 901, reason: 'excluded' }] }).last, 901)
})

test('[W4] a batch names its stream and batch id, both optional (older agents send neither); an ack echoes them', () => {
  const b = parseBatch({ stream: '0123456789abcdef', batchId: 2 ** 40, records: [rec(1)] })
  assert.equal([b.stream, b.batchId], ['0123456789abcdef', 2 ** 40])
  const old = parseBatch({ records: [rec(1)] })
  assert.equal([old.stream, old.batchId, 'stream' in old], [undefined, undefined, false])
  assert.is(reasonOf(() => parseBatch({ stream: 'legacy', records: [rec(1)] })), 'field')
  assert.is(reasonOf(() => parseBatch({ stream: 'ABCDEF0123456789', records: [rec(1)] })), 'field')
  assert.is(reasonOf(() => parseBatch({ batchId: -1, records: [rec(1)] })), 'field')
  assert.equal(parseAck({ seq: 3, stream: '0123456789abcdef', batchId: 7, rejected: 'conflict' }), { seq: 3, stream: '0123456789abcdef', batchId: 7, rejected: 'conflict' })
  assert.is(reasonOf(() => parseAck({ seq: 3, stream: 5 })), 'field')
})

test('[W4] a gap may not reach past what its batch covers: beyond the last record, or up to 2^53-1', () => {
  const top = Number.MAX_SAFE_INTEGER
  assert.is(reasonOf(() => parseBatch({ records: [rec(5)], gaps: [{ from: 6, to: 9, reason: 'dropped' }] })), 'gap-unbounded')
  assert.is(reasonOf(() => parseBatch({ records: [rec(5)], gaps: [{ from: 6, to: top, reason: 'dropped' }] })), 'gap-unbounded')
  assert.is(reasonOf(() => parseBatch({ records: [], gaps: [{ from: 1, to: top, reason: 'lost' }] })), 'gap-unbounded')
  assert.is(reasonOf(() => parseBatch({ records: [], gaps: [{ from: 1, to: top, reason: 'excluded' }] })), 'gap-unbounded')
  assert.is(reasonOf(() => parseBatch({ records: [], gaps: [{ from: 1, to: BATCH_LIMITS.maxRecords + 1, reason: 'excluded' }] })), 'gap-unbounded')
  assert.is(parseBatch({ records: [], gaps: [{ from: 1, to: BATCH_LIMITS.maxRecords, reason: 'excluded' }] }).last, BATCH_LIMITS.maxRecords)
})

test('[W4] holes, overlaps, duplicates and bad fields are refused', () => {
  assert.is(reasonOf(() => parseBatch({ records: [rec(1), rec(3)] })), 'not-contiguous')
  assert.is(reasonOf(() => parseBatch({ records: [rec(1), rec(1)] })), 'not-contiguous')
  assert.is(reasonOf(() => parseBatch({ records: [rec(2)], gaps: [{ from: 1, to: 2, reason: 'dropped' }] })), 'not-contiguous')
  assert.is(reasonOf(() => parseBatch({ records: [{ ...rec(1), seq: 0 }] })), 'field')
  assert.is(reasonOf(() => parseBatch({ records: [{ ...rec(1), seq: 1.5 }] })), 'field')
  assert.is(reasonOf(() => parseBatch({ records: [{ ...rec(1), kind: 'nope' }] })), 'field')
  assert.is(reasonOf(() => parseBatch({ records: [{ ...rec(1), time: 'x' }] })), 'field')
  assert.is(reasonOf(() => parseBatch({ records: [{ ...rec(1), fn: 'Bad/Name' }] })), 'field')
  assert.is(reasonOf(() => parseBatch({ records: 'x' })), 'field')
  assert.is(reasonOf(() => parseBatch({})), 'field')
  assert.is(reasonOf(() => parseBatch({ records: [] })), 'field')
  assert.is(reasonOf(() => parseBatch({ records: [rec(1)], gaps: [{ from: 3, to: 2, reason: 'dropped' }] })), 'field')
  assert.is(reasonOf(() => parseBatch({ records: Array.from({ length: BATCH_LIMITS.maxRecords + 1 }, (_, i) => rec(i + 1)) })), 'too-large')
})

test('[W3] status and heartbeat frames are checked', () => {
  assert.equal(parseStatus({ state: 'online', agent: '0.1.0', functions: [{ name: 'f', version: '1' }] }).functions, [{ name: 'f', version: '1' }])
  assert.is(parseStatus({ state: 'offline' }).state, 'offline')
  assert.is(reasonOf(() => parseStatus({ state: 'running' })), 'field')
  // [W3] the boot id: kept when printable and short, refused otherwise, absent from older agents.
  assert.is(parseStatus({ state: 'online', boot: '5f0c2a9e81d4aa01' }).boot, '5f0c2a9e81d4aa01')
  assert.not.ok('boot' in parseStatus({ state: 'online' }))
  for (const boot of ['', 'x'.repeat(33), 'a\nb', 7]) assert.is(reasonOf(() => parseStatus({ state: 'online', boot })), 'field')
  assert.is(parseHeartbeat({ time: 5, backlog: { records: 1, bytes: 2 }, uploadedToday: 3, lastSeq: 4 }).lastSeq, 4)
  assert.is(reasonOf(() => parseHeartbeat({ time: 5, backlog: 1, uploadedToday: 3, lastSeq: 4 })), 'field')
  assert.is(reasonOf(() => parseAck({ seq: -1 })), 'field')
})

test('[W2] a frame defining cbor-x record structures is refused, and what it defined is not kept for the next frame', () => {
  const records = new Encoder({ useRecords: true, mapsAsObjects: true })
  const defining = records.encode({ v: 1, x: 1, y: 2 })
  assert.is(defining[0], 0xd9, 'a structure definition (tag 0xdfff) leads the frame')
  assert.is(reasonOf(() => decodeFrame(defining, 1e6)), 'malformed')
  // The same record by its id alone (tag 0xe000): nothing defined it for this decoder.
  const byId = Buffer.from([0xd9, 0xe0, 0x00, 0x83, 0x01, 0x03, 0x04])
  assert.throws(() => decodeFrame(byId, 1e6))
  assert.equal(decodeFrame(encodeFrame({ x: 1 }), 1e6), { v: 1, x: 1 })
})

test.run()
