import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planBatch, UploadBudget, utcDay } from '../../../device/sync/index.js'
import type { OutboxRecord } from '../../../device/store/index.js'

const r = (seq: number, kind: OutboxRecord['kind'] = 'result', fn = 'f', bytes = 10): OutboxRecord => ({ seq, kind, fn, time: seq, data: seq, bytes })
const none = (): boolean => false

test('[W4] contiguous records become one batch; missing seqs are declared as dropped gaps', () => {
  const p = planBatch([r(3), r(4), r(7)], { from: 1, maxRecords: 10, maxBytes: 1000, exclude: none })
  assert.equal(p.records.map((x) => x.seq), [3, 4, 7])
  assert.equal(p.gaps, [{ from: 1, to: 2, reason: 'dropped' }, { from: 5, to: 6, reason: 'dropped' }])
  assert.is(p.through, 7)
})

test('excluded logs become excluded gaps, merged when adjacent', () => {
  const p = planBatch([r(1), r(2, 'log'), r(3, 'log'), r(4)], { from: 1, maxRecords: 10, maxBytes: 1000, exclude: (x) => x.kind === 'log' })
  assert.equal(p.records.map((x) => x.seq), [1, 4])
  assert.equal(p.gaps, [{ from: 2, to: 3, reason: 'excluded' }])
  assert.is(p.through, 4)
})

test('batches stop at the record and byte limits; the first record always goes; nothing to send is undefined', () => {
  assert.is(planBatch([r(1), r(2), r(3)], { from: 1, maxRecords: 2, maxBytes: 1000, exclude: none }).through, 2)
  assert.is(planBatch([r(1, 'result', 'f', 600), r(2, 'result', 'f', 600)], { from: 1, maxRecords: 10, maxBytes: 1000, exclude: none }).through, 1)
  assert.is(planBatch([r(1, 'result', 'f', 5000)], { from: 1, maxRecords: 10, maxBytes: 1000, exclude: none }).through, 1)
  assert.is(planBatch([], { from: 5, maxRecords: 10, maxBytes: 1000, exclude: none }).through, undefined)
  assert.is(planBatch([r(3)], { from: 5, maxRecords: 10, maxBytes: 1000, exclude: none }).through, undefined)
})

test('the upload budget: a token bucket per second and a cap per UTC day, kept across restarts', () => {
  let now = Date.parse('2026-11-30T23:59:00Z')
  const b = new UploadBudget({ bytesPerSec: 1000, dailyBytes: 5000, now: () => now, today: { day: '2026-11-30', bytes: 3000 } })
  assert.is(b.waitMs(800), 0)
  b.spend(800)
  assert.is(b.waitMs(800), 600)
  now += 600
  assert.is(b.waitMs(800), 0)
  b.spend(800)
  // 4600 of 5000 spent today: 800 more waits for midnight UTC.
  now += 5000
  assert.is(b.waitMs(800), Date.parse('2026-12-01T00:00:00Z') - now)
  now = Date.parse('2026-12-01T00:00:01Z')
  assert.is(b.waitMs(800), 0)
  assert.is(b.sentToday, 0)
  assert.is(utcDay(now), '2026-12-01')
  const stale = new UploadBudget({ bytesPerSec: 0, dailyBytes: 100, now: () => now, today: { day: '2026-11-30', bytes: 99 } })
  assert.is(stale.waitMs(100), 0, "yesterday's bytes do not count today")
  assert.is(new UploadBudget({ bytesPerSec: 0, dailyBytes: 0, now: () => now }).waitMs(1e9), 0)
})

test('the daily cap: dailyRoom() says what today still takes; one batch over a whole day\'s cap goes first thing in a day, never stuck', () => {
  let now = Date.parse('2026-11-30T12:00:00Z')
  const b = new UploadBudget({ bytesPerSec: 0, dailyBytes: 1000, now: () => now })
  assert.is(b.dailyRoom(), 1000)
  assert.is(b.waitMs(1500), 0, 'nothing sent today: a batch larger than the cap goes, alone')
  b.spend(1500)
  assert.is(b.dailyRoom(), 0)
  assert.is(b.waitMs(10), Date.parse('2026-12-01T00:00:00Z') - now, 'and then nothing more today')
  now = Date.parse('2026-12-01T00:00:00Z')
  assert.is(b.dailyRoom(), 1000)
  b.spend(400)
  assert.is(b.dailyRoom(), 600)
  assert.ok(b.waitMs(700) > 0, 'a batch over what is left waits, since something went today')
  assert.is(new UploadBudget({ bytesPerSec: 0, dailyBytes: 0, now: () => now }).dailyRoom(), Infinity)
})

test.run()
