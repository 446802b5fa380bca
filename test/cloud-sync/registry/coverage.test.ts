import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { addRanges, advance, covers, runsOf } from '../../../cloud-sync/registry/coverage.js'

test('ranges merge when they overlap or touch, and stay sorted', () => {
  assert.equal(addRanges([[5, 7]], [[1, 2], [3, 4], [10, 12], [8, 8]]), [[1, 8], [10, 12]])
  assert.equal(addRanges([], []), [])
})

test('covers finds a seq in any range', () => {
  const r: Array<[number, number]> = [[1, 3], [7, 9], [20, 20]]
  for (const [s, want] of [[0, false], [1, true], [3, true], [4, false], [8, true], [20, true], [21, false]] as const) assert.is(covers(r, s), want, String(s))
})

test('[W4] the high-water advances only over a range that starts right after it', () => {
  assert.equal(advance(0, [[2, 5]]), { hw: 0, above: [[2, 5]] })
  assert.equal(advance(1, [[2, 5], [7, 9]]), { hw: 5, above: [[7, 9]] })
  assert.equal(advance(10, [[2, 5], [11, 12]]), { hw: 12, above: [] })
})

test('runs of consecutive seqs', () => {
  assert.equal(runsOf([1, 2, 3, 5, 7, 8]), [[1, 3], [5, 5], [7, 8]])
  assert.equal(runsOf([]), [])
})

test.run()
