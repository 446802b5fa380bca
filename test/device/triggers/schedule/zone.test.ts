// Offsets from Intl, and mapping wall times to instants across DST gaps and overlaps.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { findTransition, resolveWall, zoneOf } from '../../../../device/triggers/schedule/zone.js'
import { LambkinError } from '../../../../src/errors.js'

const H = 3_600_000
const wall = (s: string): number => Date.parse(`${s}Z`)

test('offsets follow the zone\'s rules, UTC is fixed', () => {
  const berlin = zoneOf('Europe/Berlin')
  assert.is(berlin.offset(Date.parse('2024-01-15T12:00:00Z')), 1 * H)
  assert.is(berlin.offset(Date.parse('2024-07-15T12:00:00Z')), 2 * H)
  assert.is(zoneOf('Asia/Kolkata').offset(Date.parse('2024-07-15T12:00:00Z')), 5.5 * H)
  assert.is(zoneOf('America/New_York').offset(Date.parse('2024-01-15T12:00:00Z')), -5 * H)
  assert.is(zoneOf('UTC').fixedUtc, true)
  assert.is(berlin.fixedUtc, false)
})

test('a normal wall time has one instant', () => {
  const r = resolveWall(zoneOf('Europe/Berlin'), wall('2024-07-15T09:00:00'))
  assert.equal(r, { kind: 'instants', instants: [Date.parse('2024-07-15T07:00:00Z')] })
})

test('a wall time in the spring gap has none: it resolves to the instant the clocks jump', () => {
  // Berlin, 31 March 2024: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
  const r = resolveWall(zoneOf('Europe/Berlin'), wall('2024-03-31T02:30:00'))
  assert.equal(r, { kind: 'gap', at: Date.parse('2024-03-31T01:00:00Z') })
})

test('a wall time in the autumn overlap has two instants, earliest first', () => {
  // Berlin, 27 October 2024: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
  const r = resolveWall(zoneOf('Europe/Berlin'), wall('2024-10-27T02:30:00'))
  assert.equal(r, { kind: 'instants', instants: [Date.parse('2024-10-27T00:30:00Z'), Date.parse('2024-10-27T01:30:00Z')] })
})

test('findTransition finds the exact second the offset changes', () => {
  const z = zoneOf('America/New_York')
  assert.is(findTransition(z, Date.parse('2024-03-10T00:00:00Z'), Date.parse('2024-03-10T12:00:00Z')), Date.parse('2024-03-10T07:00:00Z'))
})

test('an unknown zone is LAMBKIN_SCHEDULE_INVALID naming it', () => {
  try {
    zoneOf('Mars/Olympus_Mons')
    assert.unreachable()
  } catch (err) {
    assert.instance(err, LambkinError)
    assert.is((err as LambkinError).code, 'LAMBKIN_SCHEDULE_INVALID')
    assert.is((err as LambkinError).details.timezone, 'Mars/Olympus_Mons')
  }
})

test.run()
