// The next matching wall time, with no time zone: field by field, across month and year ends.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseCron } from '../../../../device/triggers/schedule/cron-fields.js'
import { nextWall } from '../../../../device/triggers/schedule/next-wall.js'

const next = (expr: string, afterIso: string): string | undefined => {
  const w = nextWall(parseCron(expr), Date.parse(afterIso))
  return w === undefined ? undefined : new Date(w).toISOString()
}

test('strictly after: a time that matches exactly moves to the next one', () => {
  assert.is(next('* * * * * *', '2024-05-01T10:00:00.000Z'), '2024-05-01T10:00:01.000Z')
  assert.is(next('* * * * * *', '2024-05-01T10:00:00.400Z'), '2024-05-01T10:00:01.000Z')
  assert.is(next('0 * * * *', '2024-05-01T10:00:00.000Z'), '2024-05-01T11:00:00.000Z')
})

test('carries across minute, hour, day, month and year ends', () => {
  assert.is(next('*/10 * * * * *', '2024-12-31T23:59:55Z'), '2025-01-01T00:00:00.000Z')
  assert.is(next('30 * * * * *', '2024-05-01T10:59:31Z'), '2024-05-01T11:00:30.000Z')
  assert.is(next('0 0 9 * * *', '2024-05-31T09:00:00Z'), '2024-06-01T09:00:00.000Z')
  assert.is(next('0 0 1 1 *', '2024-01-01T00:00:01Z'), '2025-01-01T00:00:00.000Z')
  assert.is(next('15 10 31 * *', '2024-04-01T00:00:00Z'), '2024-05-31T10:15:00.000Z')
})

test('the earliest allowed value of each smaller field is used after a bigger one moves', () => {
  assert.is(next('5,45 20,40 8,17 * * *', '2024-05-01T08:40:46Z'), '2024-05-01T17:20:05.000Z')
  assert.is(next('0 0 12 * * mon', '2024-05-01T00:00:00Z'), '2024-05-06T12:00:00.000Z')
})

test('rare dates are found; impossible ones give undefined instead of looping', () => {
  // 29 February on a Monday: 2044 is the next.
  assert.is(next('0 0 0 29 2 1', '2024-03-01T00:00:00Z'), '2044-02-29T00:00:00.000Z')
  // L-30 of February never exists.
  assert.is(next('0 0 L-30 2 *', '2024-01-01T00:00:00Z'), undefined)
})

test.run()
