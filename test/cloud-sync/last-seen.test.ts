// last-seen.ts and the operator API: a device's staleness is aged on the monotonic clock, so a
// wall-clock step of the cloud neither makes a live device stale nor keeps a silent one online.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LastSeen } from '../../cloud-sync/last-seen.js'
import { deviceState } from '../../cloud-sync/index.js'
import type { DeviceRow } from '../../cloud-sync/registry/index.js'
import { encodeFrame, upTopic } from '../../src/wire/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'

const T = Date.UTC(2025, 5, 1)
const row = (lastSeen: number): DeviceRow => ({ id: 'd', secretHash: '', createdAt: 0, highWater: 0, counts: { stored: 0, duplicates: 0, gaps: 0, gapSeqs: 0 }, lastSeen, status: { state: 'online', agent: '1', functions: [], time: 0, heartbeatMs: 1000, at: lastSeen } })

test('a device heard from: its age is monotonic time since, whatever the wall clock does', async () => {
  const clock = new FakeClock(T)
  const seen = new LastSeen(clock)
  seen.heard('d')
  const d = row(T)
  clock.jumpTo(T + 5 * 365 * 86_400_000)
  assert.is(deviceState(d, seen.nowFor('d', d.lastSeen)), 'online', 'a 5-year step is not silence')
  clock.jumpTo(T - 86_400_000)
  await clock.advance(3001)
  assert.is(deviceState(d, seen.nowFor('d', d.lastSeen)), 'stale', 'a step back does not keep it online')
})

test('a device not heard since the start is aged from the wall clock read at start', async () => {
  const clock = new FakeClock(T + 2000)
  const seen = new LastSeen(clock)
  const d = row(T)
  assert.is(deviceState(d, seen.nowFor('d', d.lastSeen)), 'online')
  clock.jumpTo(T + 86_400_000)
  assert.is(deviceState(d, seen.nowFor('d', d.lastSeen)), 'online', 'the step while running does not count')
  await clock.advance(1001)
  assert.is(deviceState(d, seen.nowFor('d', d.lastSeen)), 'stale')
})

test('the API: a cloud whose wall clock steps 5 years forward still shows its heartbeating device online', async () => {
  const clock = new FakeClock(T)
  const f = await startCloud({ clock })
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    await c.publishAsync(upTopic('gh-01', 'status'), encodeFrame({ state: 'online', agent: '0.1.0', heartbeatMs: 1000, functions: [] }), { qos: 1 })
    clock.jumpTo(T + 5 * 365 * 86_400_000)
    assert.is((await f.api<{ state: string }>('GET', '/v1/devices/gh-01')).body.state, 'online')
    await clock.advance(3001)
    assert.is((await f.api<{ state: string }>('GET', '/v1/devices/gh-01')).body.state, 'stale')
  } finally {
    await f.cleanup()
  }
})

test.run()
