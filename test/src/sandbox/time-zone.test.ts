// QuickJS has no Intl, so toLocaleString ignores its time zone; ctx.time.parts() gives local
// date and time in a named IANA zone, computed by the host, across daylight-saving changes.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import type { Outcome, OutcomeFail } from '../../../src/sandbox/index.js'
import { zonedPartsJson } from '../../../src/sandbox/time-zone.js'
import { makeSpec } from '../../helpers/spec.js'

const test = suite<{ pool: SandboxPool, parts: string }>('ctx.time.parts', { pool: undefined as never, parts: '' })
test.before(async (ctx) => {
  ctx.pool = await SandboxPool.create({ workers: 1 })
  ctx.parts = await ctx.pool.load(makeSpec('export default (e, ctx) => e.ms === undefined ? ctx.time.parts(e.zone) : ctx.time.parts(e.zone, e.ms)'))
})
test.after(async (ctx) => { await ctx.pool.close() })

function result (o: Outcome): Record<string, unknown> {
  if (!o.ok) assert.unreachable(`${o.error.code}: ${o.error.message}`)
  return (o as { result: Record<string, unknown> }).result
}

test('what a function has: no Intl, so toLocaleString ignores the zone it is given', async ({ pool }) => {
  const k = await pool.load(makeSpec(`export default () => ({
    intl: typeof Intl,
    local: new Date(Date.UTC(2026, 6, 1, 12)).toLocaleString('de-DE', { timeZone: 'Europe/Berlin' }).includes('14')
  })`))
  assert.equal(result(await pool.invoke(k, {})), { intl: 'undefined', local: false })
})

test('Europe/Berlin around the spring change (2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST)', async ({ pool, parts }) => {
  const before = result(await pool.invoke(parts, { zone: 'Europe/Berlin', ms: Date.UTC(2026, 2, 29, 0, 59, 59, 500) }))
  assert.equal(before, { year: 2026, month: 3, day: 29, hour: 1, minute: 59, second: 59, millisecond: 500, weekday: 7, offsetMinutes: 60, zone: 'Europe/Berlin' })
  const after = result(await pool.invoke(parts, { zone: 'Europe/Berlin', ms: Date.UTC(2026, 2, 29, 1, 0, 0) }))
  assert.equal(after, { year: 2026, month: 3, day: 29, hour: 3, minute: 0, second: 0, millisecond: 0, weekday: 7, offsetMinutes: 120, zone: 'Europe/Berlin' })
})

test('Europe/Berlin around the autumn change (2026-10-25 01:00 UTC: 03:00 CEST becomes 02:00 CET)', async ({ pool, parts }) => {
  const before = result(await pool.invoke(parts, { zone: 'Europe/Berlin', ms: Date.UTC(2026, 9, 25, 0, 59) }))
  assert.equal([before.hour, before.minute, before.offsetMinutes], [2, 59, 120])
  const after = result(await pool.invoke(parts, { zone: 'Europe/Berlin', ms: Date.UTC(2026, 9, 25, 1, 0) }))
  assert.equal([after.hour, after.minute, after.offsetMinutes], [2, 0, 60])
})

test('other zones: a southern one, a half-hour one, UTC, a date line crossing, before 1970', async ({ pool, parts }) => {
  const sydney = result(await pool.invoke(parts, { zone: 'Australia/Sydney', ms: Date.UTC(2026, 0, 15, 20, 0) }))
  assert.equal([sydney.year, sydney.month, sydney.day, sydney.hour, sydney.weekday, sydney.offsetMinutes], [2026, 1, 16, 7, 5, 660])
  const kolkata = result(await pool.invoke(parts, { zone: 'Asia/Kolkata', ms: Date.UTC(2026, 5, 1, 0, 0) }))
  assert.equal([kolkata.hour, kolkata.minute, kolkata.offsetMinutes], [5, 30, 330])
  const utc = result(await pool.invoke(parts, { zone: 'UTC', ms: 0 }))
  assert.equal(utc, { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0, weekday: 4, offsetMinutes: 0, zone: 'UTC' })
  const old = result(await pool.invoke(parts, { zone: 'America/New_York', ms: Date.UTC(1969, 11, 31, 23, 59, 59, 999) }))
  assert.equal([old.year, old.month, old.day, old.hour, old.millisecond, old.offsetMinutes], [1969, 12, 31, 18, 999, -300])
})

test('without a time, parts are of now', async ({ pool, parts }) => {
  const t0 = Date.now()
  const r = result(await pool.invoke(parts, { zone: 'UTC' }))
  const t1 = Date.now()
  const at = Date.UTC(
    r.year as number,
    (r.month as number) - 1,
    r.day as number,
    r.hour as number,
    r.minute as number,
    r.second as number,
    r.millisecond as number
  )
  assert.ok(at >= t0 && at <= t1, `${at} not within [${t0}, ${t1}]`)
})

test('an unknown zone or a bad time is a clear error inside the function, which can catch it', async ({ pool, parts }) => {
  const o = await pool.invoke(parts, { zone: 'Europe/Berln', ms: 0 }) as OutcomeFail
  assert.is(o.error.code, 'LAMBKIN_FUNCTION_ERROR')
  assert.match(o.error.message, 'RangeError: ctx.time.parts: unknown time zone "Europe/Berln"')
  for (const [zone, ms] of [[42, 0], ['UTC', 'soon'], ['UTC', 9e15]]) {
    const f = await pool.invoke(parts, { zone, ms }) as OutcomeFail
    assert.is(f.error?.code, 'LAMBKIN_FUNCTION_ERROR', `${String(zone)} ${String(ms)}`)
    assert.match(f.error.message, 'ctx.time.parts')
  }
  const k = await pool.load(makeSpec("export default (e, ctx) => { try { ctx.time.parts('Nowhere/Land') } catch (err) { return err.name } }"))
  assert.is(result(await pool.invoke(k, {})) as unknown, 'RangeError')
})

test('the host helper caps its cache of zones and answers in JSON', () => {
  for (let i = 0; i < 200; i++) assert.ok(zonedPartsJson(i % 2 === 0 ? 'Europe/Berlin' : `Etc/GMT+${i % 12}`, 0).startsWith('{'))
  assert.not.ok(zonedPartsJson('Not/AZone', 0).startsWith('{'))
})

test.run()
