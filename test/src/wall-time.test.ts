// The one Intl time-zone reader: known and unknown zones, wall parts (with years before 1 AD),
// and the offset read back from them across a daylight-saving change.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isKnownZone, wallAsUtc, wallParts, zoneFormatter } from '../../src/wall-time.js'

test('known zones have a formatter, unknown ones and hostile names none', () => {
  assert.ok(isKnownZone('Europe/Berlin'))
  assert.ok(isKnownZone('UTC'))
  for (const name of ['Mars/Olympus_Mons', 'constructor', '__proto__', '']) assert.not.ok(isKnownZone(name), name)
})

test('wall parts of an instant, and the offset they give, either side of Berlin\'s spring change', () => {
  const fmt = zoneFormatter('Europe/Berlin')
  if (fmt === undefined) throw new Error('no Europe/Berlin')
  const winter = Date.UTC(2026, 2, 29, 0, 59, 59)
  const summer = Date.UTC(2026, 2, 29, 1, 0, 0)
  assert.equal(wallParts(fmt, winter), { year: 2026, month: 3, day: 29, hour: 1, minute: 59, second: 59, weekday: 7 })
  assert.equal(wallParts(fmt, summer), { year: 2026, month: 3, day: 29, hour: 3, minute: 0, second: 0, weekday: 7 })
  assert.is(wallAsUtc(wallParts(fmt, winter)) - winter, 3_600_000)
  assert.is(wallAsUtc(wallParts(fmt, summer)) - summer, 7_200_000)
})

test('years before 1 AD are astronomical (1 BC is 0)', () => {
  const fmt = zoneFormatter('UTC')
  if (fmt === undefined) throw new Error('no UTC')
  const t = new Date(0).setUTCFullYear(0, 5, 1)
  assert.is(wallParts(fmt, t).year, 0)
  assert.is(wallAsUtc(wallParts(fmt, t)), t)
})

test.run()
