import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Coverage, joinRanges, runsOf } from '../../../cloud-sync/registry/coverage.js'

test('ranges join when they overlap or touch, stay sorted, and each change names what it removed and added', () => {
  const c = new Coverage([[5, 7]])
  assert.equal(c.add(1, 2), { removed: [], added: [1, 2] })
  assert.equal(c.add(10, 12), { removed: [], added: [10, 12] })
  assert.equal(c.add(3, 4), { removed: [[1, 2], [5, 7]], added: [1, 7] })
  assert.equal(c.add(8, 8), { removed: [[1, 7]], added: [1, 8] })
  assert.equal(c.add(9, 9), { removed: [[1, 8], [10, 12]], added: [1, 12] })
  assert.equal(c.list(), [[1, 12]])
  assert.equal(joinRanges([[5, 7], [1, 2], [3, 4], [10, 12], [8, 8]]), [[1, 8], [10, 12]])
  assert.equal(joinRanges([]), [])
})

test('covers finds a seq in any range; firstOverlap finds the first range meeting a span', () => {
  const c = new Coverage([[1, 3], [7, 9], [20, 20]])
  for (const [s, want] of [[0, false], [1, true], [3, true], [4, false], [8, true], [20, true], [21, false]] as const) assert.is(c.covers(s), want, String(s))
  assert.equal(c.firstOverlap(4, 6), undefined)
  assert.equal(c.firstOverlap(4, 7), [7, 9])
  assert.equal(c.firstOverlap(9, 30), [7, 9])
})

test('[W4] the high-water advances only over a range that starts right after it', () => {
  const c = new Coverage([[2, 5]])
  assert.equal(c.advance(0), { hw: 0, change: { removed: [] } })
  c.add(7, 9)
  assert.equal(c.advance(1), { hw: 5, change: { removed: [[2, 5]] } })
  assert.equal(c.list(), [[7, 9]])
  assert.equal(new Coverage([[11, 12]]).advance(10), { hw: 12, change: { removed: [[11, 12]] } })
})

test('[W4] one more hole among thousands changes one range, not the list', () => {
  const c = new Coverage()
  for (let i = 1; i <= 4000; i++) assert.equal(c.add(2 * i, 2 * i).removed, [])
  assert.is(c.size, 4000)
  const change = c.add(8001, 8001)
  assert.equal(change, { removed: [[8000, 8000]], added: [8000, 8001] })
  assert.is(c.size, 4000)
})

test('runs of consecutive seqs', () => {
  assert.equal(runsOf([1, 2, 3, 5, 7, 8]), [[1, 3], [5, 5], [7, 8]])
  assert.equal(runsOf([]), [])
})

test.run()
