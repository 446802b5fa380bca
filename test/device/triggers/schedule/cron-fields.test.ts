// Parsing through node-cron and the day rules a user writes in a schedule: names, L, W, #,
// and that day-of-month and day-of-week must both match (node-cron's rule).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { dayMatches, parseCron } from '../../../../device/triggers/schedule/cron-fields.js'
import { LambkinError } from '../../../../src/errors.js'

const days = (expr: string, year: number, month: number): number[] => {
  const f = parseCron(expr)
  const out: number[] = []
  for (let d = 1; d <= new Date(Date.UTC(year, month, 0)).getUTCDate(); d++) if (dayMatches(f, year, month, d)) out.push(d)
  return out
}

test('5 fields get second 0; 6 fields keep the seconds; names and steps expand', () => {
  const five = parseCron('*/15 8-17 * jan,JUL mon-fri')
  assert.equal(five.seconds, [0])
  assert.equal(five.minutes, [0, 15, 30, 45])
  assert.equal(five.hours, [8, 9, 10, 11, 12, 13, 14, 15, 16, 17])
  assert.equal(five.months, [1, 7])
  assert.is(five.everyHour, false)
  const six = parseCron('*/20 * * * * *')
  assert.equal(six.seconds, [0, 20, 40])
  assert.is(six.everyHour, true)
})

test('an invalid expression is LAMBKIN_SCHEDULE_INVALID naming the problem', () => {
  for (const expr of ['* * *', '61 * * * *', '0 0 30 2 *', 'every minute']) {
    try {
      parseCron(expr)
      assert.unreachable(`accepted ${expr}`)
    } catch (err) {
      assert.instance(err, LambkinError)
      assert.is((err as LambkinError).code, 'LAMBKIN_SCHEDULE_INVALID')
      assert.ok((err as LambkinError).message.includes(JSON.stringify(expr)), (err as LambkinError).message)
    }
  }
})

test('day-of-month and day-of-week must both match', () => {
  // March 2024: Fridays are 1, 8, 15, 22, 29.
  assert.equal(days('0 0 1-10 * fri', 2024, 3), [1, 8])
  assert.equal(days('0 0 * * 5,7', 2024, 3), [1, 3, 8, 10, 15, 17, 22, 24, 29, 31])
})

test('L, LW, nW and L-n in day-of-month', () => {
  assert.equal(days('0 0 L * *', 2024, 2), [29])
  assert.equal(days('0 0 L * *', 2023, 2), [28])
  // June 2024 ends on Sunday 30: the last weekday is Friday 28.
  assert.equal(days('0 0 LW * *', 2024, 6), [28])
  // 1 June 2024 is a Saturday: 1W moves forward to Monday 3, not back into May.
  assert.equal(days('0 0 1W * *', 2024, 6), [3])
  // 15 June 2024 is a Saturday: the nearest weekday is Friday 14.
  assert.equal(days('0 0 15W * *', 2024, 6), [14])
  assert.equal(days('0 0 L-3 * *', 2024, 4), [27])
})

test('nL and n#k in day-of-week', () => {
  // March 2024: last Friday is 29, second Monday is 11.
  assert.equal(days('0 0 * * 5L', 2024, 3), [29])
  assert.equal(days('0 0 * * 1#2', 2024, 3), [11])
  assert.equal(days('0 0 * * 7#1', 2024, 3), [3])
})

test.run()
