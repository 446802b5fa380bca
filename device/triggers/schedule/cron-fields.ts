// A cron expression as sorted field values, parsed by node-cron (so what the manifest
// validator accepts is exactly what runs), and node-cron's day rules: L, LW, nW, L-n, nL, n#k.
import { nodeCron } from '../../../src/cron-lib.js'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'

export interface CronFields {
  seconds: number[]
  minutes: number[]
  hours: number[]
  months: number[]
  /** Day-of-month values: 1-31, or node-cron's tokens 'L', 'LW', '15W', 'L-3'. */
  daysOfMonth: Array<number | string>
  /** Day-of-week values: 0-6 (Sunday 0), or tokens '5L' (last Friday), '1#2' (second Monday). */
  daysOfWeek: Array<number | string>
  /** The hour field covers all 24 hours: such a schedule also runs in a repeated DST hour. */
  everyHour: boolean
}

function sortedNumbers (values: Array<number | string>): number[] {
  return values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b)
}

export function parseCron (expression: string): CronFields {
  const check = typeof expression === 'string' ? nodeCron().validateDetailed(expression) : undefined
  if (check?.valid !== true || check.fields === undefined) {
    const why = check?.errors.map((e) => e.message).join('; ') ?? 'not a string'
    throw new LambkinError(ErrorCodes.SCHEDULE_INVALID, `schedule ${JSON.stringify(expression)} is not a valid cron expression (${why}): use 5 fields, or 6 with seconds first, e.g. "*/10 * * * * *"`, { details: { key: 'schedule', expression } })
  }
  const f = check.fields
  const hours = sortedNumbers(f.hour)
  return {
    seconds: sortedNumbers(f.second),
    minutes: sortedNumbers(f.minute),
    hours,
    months: sortedNumbers(f.month),
    daysOfMonth: f.dayOfMonth,
    daysOfWeek: f.dayOfWeek,
    everyHour: hours.length === 24
  }
}

export function daysInMonth (year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

function weekdayOf (year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay()
}

/** The weekday nearest to target in the same month (the W token), as node-cron defines it. */
function nearestWeekday (year: number, month: number, target: number): number {
  const last = daysInMonth(year, month)
  if (target < 1 || target > last) return -1
  const wd = weekdayOf(year, month, target)
  if (wd === 6) return target === 1 ? target + 2 : target - 1
  if (wd === 0) return target === last ? target - 2 : target + 1
  return target
}

function domMatches (values: Array<number | string>, year: number, month: number, day: number): boolean {
  const last = daysInMonth(year, month)
  for (const v of values) {
    if (v === day) return true
    if (typeof v !== 'string') continue
    if (v === 'L') {
      if (day === last) return true
      continue
    }
    const w = /^(\d{1,2}|L)W$/.exec(v)
    if (w !== null && nearestWeekday(year, month, w[1] === 'L' ? last : Number(w[1])) === day) return true
    const off = /^L-(\d{1,2})$/.exec(v)
    if (off !== null && last - Number(off[1]) === day) return true
  }
  return false
}

function dowMatches (values: Array<number | string>, year: number, month: number, day: number): boolean {
  const wd = weekdayOf(year, month, day)
  for (const v of values) {
    if (v === wd) return true
    if (typeof v !== 'string') continue
    const nth = /^([0-7])#([1-5])$/.exec(v)
    if (nth !== null) {
      if (Number(nth[1]) % 7 === wd && Math.floor((day - 1) / 7) + 1 === Number(nth[2])) return true
      continue
    }
    const lastOf = /^([0-7])L$/i.exec(v)
    if (lastOf !== null && Number(lastOf[1]) % 7 === wd && day + 7 > daysInMonth(year, month)) return true
  }
  return false
}

/**
 * Whether a calendar day matches. Like node-cron (and unlike Vixie cron, which ORs them when
 * both are restricted), day-of-month and day-of-week must both match.
 */
export function dayMatches (f: CronFields, year: number, month: number, day: number): boolean {
  return domMatches(f.daysOfMonth, year, month, day) && dowMatches(f.daysOfWeek, year, month, day)
}
