// Fire times in a time zone, through DST changes, and the bounded look-back used by catch-up.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CronSchedule } from '../../../../device/triggers/schedule/index.js'

/** The next n fire times after `fromIso`, as UTC ISO strings. */
const fires = (expr: string, tz: string, fromIso: string, n: number): string[] => {
  const s = new CronSchedule(expr, tz)
  const out: string[] = []
  let t = Date.parse(fromIso)
  for (let i = 0; i < n; i++) {
    const next = s.next(t)
    if (next === undefined) break
    out.push(new Date(next).toISOString().replace('.000', ''))
    t = next
  }
  return out
}

test('09:00 in Europe/Berlin stays 09:00 local across the March change; in UTC it stays 09:00 UTC', () => {
  assert.equal(fires('0 0 9 * * *', 'Europe/Berlin', '2024-03-29T12:00:00Z', 3), ['2024-03-30T08:00:00Z', '2024-03-31T07:00:00Z', '2024-04-01T07:00:00Z'])
  assert.equal(fires('0 0 9 * * *', 'UTC', '2024-03-29T12:00:00Z', 3), ['2024-03-30T09:00:00Z', '2024-03-31T09:00:00Z', '2024-04-01T09:00:00Z'])
  assert.equal(fires('0 0 9 * * *', 'Europe/Berlin', '2024-10-26T12:00:00Z', 2), ['2024-10-27T08:00:00Z', '2024-10-28T08:00:00Z'])
})

test('a time skipped by spring-forward runs once, when the clocks jump', () => {
  // Berlin 2024-03-31: 02:00 CET -> 03:00 CEST at 01:00 UTC. 02:30 does not exist that day.
  assert.equal(fires('30 2 * * *', 'Europe/Berlin', '2024-03-30T00:00:00Z', 3), ['2024-03-30T01:30:00Z', '2024-03-31T01:00:00Z', '2024-04-01T00:30:00Z'])
  // Every 20 minutes: 02:00, 02:20 and 02:40 collapse into the 03:00 run; nothing runs twice.
  assert.equal(fires('*/20 * * * *', 'Europe/Berlin', '2024-03-31T00:30:00Z', 4), ['2024-03-31T00:40:00Z', '2024-03-31T01:00:00Z', '2024-03-31T01:20:00Z', '2024-03-31T01:40:00Z'])
})

test('a fixed time in the repeated autumn hour runs once, at its first occurrence', () => {
  // Berlin 2024-10-27: 03:00 CEST -> 02:00 CET at 01:00 UTC; 02:30 happens twice.
  assert.equal(fires('30 2 * * *', 'Europe/Berlin', '2024-10-26T00:00:00Z', 3), ['2024-10-26T00:30:00Z', '2024-10-27T00:30:00Z', '2024-10-28T01:30:00Z'])
  assert.equal(fires('0,30 2,3 * * *', 'Europe/Berlin', '2024-10-26T23:50:00Z', 4), ['2024-10-27T00:00:00Z', '2024-10-27T00:30:00Z', '2024-10-27T02:00:00Z', '2024-10-27T02:30:00Z'])
  // Starting inside the second pass does not run the repeated 02:45 again.
  assert.equal(fires('45 2 * * *', 'Europe/Berlin', '2024-10-27T01:10:00Z', 1), ['2024-10-28T01:45:00Z'])
})

test('an every-hour schedule keeps its rhythm through the repeated autumn hour', () => {
  assert.equal(fires('*/20 * * * *', 'Europe/Berlin', '2024-10-26T23:30:00Z', 8), [
    '2024-10-26T23:40:00Z', '2024-10-27T00:00:00Z', '2024-10-27T00:20:00Z', '2024-10-27T00:40:00Z',
    '2024-10-27T01:00:00Z', '2024-10-27T01:20:00Z', '2024-10-27T01:40:00Z', '2024-10-27T02:00:00Z'
  ])
  // From inside the second pass, the next run is in the second pass too.
  assert.equal(fires('0 */15 * * * *', 'Europe/Berlin', '2024-10-27T01:05:00Z', 1), ['2024-10-27T01:15:00Z'])
})

test('other zones: a half-hour DST shift, a midnight gap, a day that never happened', () => {
  // Lord Howe falls back 30 minutes at 02:00 local on 7 April 2024: 01:30 runs once, at +11.
  assert.equal(fires('0 30 1 * * *', 'Australia/Lord_Howe', '2024-04-06T00:00:00Z', 2), ['2024-04-06T14:30:00Z', '2024-04-07T15:00:00Z'])
  // Santiago springs forward at midnight on 8 September 2024: midnight runs at the jump (01:00 local).
  assert.equal(fires('0 0 * * *', 'America/Santiago', '2024-09-06T12:00:00Z', 3), ['2024-09-07T04:00:00Z', '2024-09-08T04:00:00Z', '2024-09-09T03:00:00Z'])
  // Samoa skipped 30 December 2011 entirely; noon that day runs when the day was skipped.
  assert.equal(fires('0 12 * * *', 'Pacific/Apia', '2011-12-29T00:00:00Z', 3), ['2011-12-29T22:00:00Z', '2011-12-30T10:00:00Z', '2011-12-30T22:00:00Z'])
})

test('recent() returns at most count of the latest fire times in (after, upTo], oldest first', () => {
  const s = new CronSchedule('0 * * * *', 'UTC')
  const after = Date.parse('2024-05-01T00:00:00Z')
  const upTo = Date.parse('2024-05-01T10:30:00Z')
  assert.equal(s.recent(after, upTo, 3).map((t) => new Date(t).toISOString()), ['2024-05-01T08:00:00.000Z', '2024-05-01T09:00:00.000Z', '2024-05-01T10:00:00.000Z'])
  // The range excludes `after` and includes `upTo`.
  assert.equal(s.recent(after, Date.parse('2024-05-01T02:00:00Z'), 10).map((t) => new Date(t).toISOString()), ['2024-05-01T01:00:00.000Z', '2024-05-01T02:00:00.000Z'])
  assert.equal(s.recent(after, upTo, 0), [])
  assert.equal(s.recent(upTo, after, 3), [])
})

test('recent() over a year of an every-second schedule stays bounded', () => {
  const s = new CronSchedule('* * * * * *', 'Europe/Berlin')
  let calls = 0
  const next = s.next.bind(s)
  s.next = (t: number) => { calls++; return next(t) }
  const upTo = Date.parse('2024-06-01T00:00:00Z')
  const got = s.recent(upTo - 365 * 86_400_000, upTo, 5)
  assert.equal(got, [upTo - 4000, upTo - 3000, upTo - 2000, upTo - 1000, upTo])
  assert.ok(calls < 200, `${calls} next() calls for 5 runs`)
})

test('a schedule that can never fire again gives undefined', () => {
  assert.is(new CronSchedule('0 0 L-30 2 *', 'Europe/Berlin').next(Date.parse('2024-01-01T00:00:00Z')), undefined)
})

test('every-hour schedules agree with a minute-by-minute scan of local time around DST changes', () => {
  const cases: Array<[string, string]> = [
    ['Europe/Berlin', '2024-03-30T22:00:00Z'], ['Europe/Berlin', '2024-10-26T22:00:00Z'],
    ['America/New_York', '2024-03-10T03:00:00Z'], ['America/New_York', '2024-11-03T03:00:00Z'],
    ['Australia/Lord_Howe', '2024-04-06T12:00:00Z'], ['Australia/Lord_Howe', '2024-10-05T12:00:00Z'],
    ['America/Santiago', '2024-09-07T22:00:00Z'], ['America/Santiago', '2024-04-06T22:00:00Z']
  ]
  for (const [tz, startIso] of cases) {
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', hour: 'numeric', minute: 'numeric' })
    const local = (t: number): { h: number, m: number } => {
      const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, x.value]))
      return { h: Number(p.hour), m: Number(p.minute) }
    }
    const start = Date.parse(startIso)
    const end = start + 6 * 3_600_000
    // Expected: each minute whose local minute is a multiple of 7, plus the instant of a
    // spring-forward jump when the skipped wall times held a match.
    const expected = new Set<number>()
    for (let t = start + 60_000; t <= end; t += 60_000) {
      const now = local(t)
      const before = local(t - 60_000)
      if (now.m % 7 === 0) expected.add(t)
      const moved = ((now.h * 60 + now.m) - (before.h * 60 + before.m) + 1440) % 1440
      // A forward jump skips moved - 1 wall minutes; a backward one (moved near 1440) skips none.
      const skipped = moved > 720 ? 0 : moved - 1
      for (let k = 1; k <= skipped; k++) if ((before.m + k) % 60 % 7 === 0) expected.add(t)
    }
    const s = new CronSchedule('*/7 * * * *', tz)
    const got: number[] = []
    for (let t = s.next(start); t !== undefined && t <= end; t = s.next(t)) got.push(t)
    assert.equal(got.map((t) => new Date(t).toISOString()), [...expected].sort((a, b) => a - b).map((t) => new Date(t).toISOString()), `${tz} from ${startIso}`)
  }
})

test.run()
