// Which acks a board acts on [W4], and when a closed connection looks like a takeover.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AckBook } from '../../../device/sync/ack-book.js'
import { TakeoverWatch } from '../../../device/sync/takeover-watch.js'

const S = '0123456789abcdef'
const ids = (): (() => number) => { let n = 100; return () => ++n }

function book (stream: string | undefined = S): AckBook {
  return new AckBook(stream, ids())
}

function send (b: AckBook, from: number, through: number): number {
  const id = b.nextId()
  b.sent(id, from, through, 0)
  return id
}

test('[W4] an ack for this stream and an in-flight batch deletes up to that batch, never past it', () => {
  const b = book()
  const id = send(b, 1, 10)
  // The cloud's high-water may be past the batch (another board's records under this stream).
  assert.equal(b.judge({ seq: 500, stream: S, batchId: id }), { kind: 'advanced', acked: 10 })
  assert.is(b.inflight.length, 0)
})

test('[W4] acks for another stream, another board\'s batch or an earlier flight are not acted on', () => {
  const b = book()
  const id = send(b, 1, 10)
  assert.equal(b.judge({ seq: 10, stream: 'fedcba9876543210', batchId: id }), { kind: 'foreign', why: 'stream' })
  assert.equal(b.judge({ seq: 10, stream: S, batchId: 99_999 }), { kind: 'foreign', why: 'batch' })
  assert.equal(b.judge({ seq: 10 }), { kind: 'foreign', why: 'old-cloud' })
  b.restart()
  assert.equal(b.judge({ seq: 10, stream: S, batchId: id }), { kind: 'foreign', why: 'stale' })
  assert.is(b.acked, 0)
})

test('[W4] a refused batch holds back every later one: a later ack deletes nothing past it', () => {
  const b = book()
  const first = send(b, 1, 10)
  const second = send(b, 11, 20)
  // The second was taken (the cloud stores above its high-water), the first was a conflict.
  assert.equal(b.judge({ seq: 10, stream: S, batchId: second }), { kind: 'held' })
  assert.equal(b.judge({ seq: 0, stream: S, batchId: first, rejected: 'conflict' }), { kind: 'rejected', reason: 'conflict' })
  assert.is(b.acked, 0)
  // In order, both settle.
  b.restart()
  const a = send(b, 1, 10)
  const c = send(b, 11, 20)
  assert.equal(b.judge({ seq: 20, stream: S, batchId: c }), { kind: 'held' })
  assert.equal(b.judge({ seq: 20, stream: S, batchId: a }), { kind: 'advanced', acked: 20 })
})

test('[W4] a batch the cloud has only in part stays in flight; the legacy stream takes an older cloud\'s acks, capped', () => {
  const b = book()
  const id = send(b, 1, 10)
  assert.equal(b.judge({ seq: 6, stream: S, batchId: id }), { kind: 'advanced', acked: 6 })
  assert.is(b.inflight.length, 1)
  const legacy = new AckBook(undefined, ids())
  send(legacy, 1, 10)
  send(legacy, 11, 20)
  assert.equal(legacy.judge({ seq: 99 }), { kind: 'advanced', acked: 20 })
  assert.equal(legacy.judge({ seq: 5, stream: S }), { kind: 'foreign', why: 'stream' })
})

test('a connection closed soon after it was made, three times in a while, is a takeover pattern; said once per repeat interval', () => {
  const w = new TakeoverWatch({ shortMs: 1000, closes: 3, windowMs: 10_000, repeatMs: 60_000 })
  const cycle = (at: number, upFor: number): number | undefined => { w.connected(at); return w.closed(at + upFor) }
  assert.is(cycle(0, 5000), undefined, 'a long connection is no sign')
  assert.is(cycle(6000, 100), undefined)
  assert.is(cycle(7000, 100), undefined)
  assert.is(w.flapping(7200), false)
  assert.is(cycle(8000, 100), 3)
  assert.is(w.flapping(8200), true)
  assert.is(cycle(9000, 100), undefined, 'said already')
  assert.is(w.count, 4)
  assert.is(w.closed(70_000), undefined, 'a close without a connect is not counted')
  assert.is(cycle(80_000, 100), undefined, 'older closes left the window')
  assert.is(cycle(80_500, 100), undefined)
  assert.is(cycle(81_000, 100), 3)
})

test.run()
