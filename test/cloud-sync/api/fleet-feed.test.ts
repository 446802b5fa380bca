// The dashboard's fleet feed over a real LevelDB registry, on a FakeClock: it polls only while
// subscribed, turns a silent device stale by the clock alone, and reads metric snapshots once;
// with notes from the cloud instances flowing it refreshes on a note, and polls a quiet fleet slowly.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FEED_DEFAULTS, FleetFeed } from '../../../cloud-sync/api/fleet-feed.js'
import type { FeedWake } from '../../../cloud-sync/api/fleet-feed.js'
import type { FleetChange } from '../../../cloud-sync/api/dashboard-types.js'
import { LevelRegistry } from '../../../cloud-sync/registry/index.js'
import { TAKEOVER_WINDOW_MS } from '../../../cloud-sync/api/views.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const T0 = Date.UTC(2026, 11, 6, 12)

interface World { registry: LevelRegistry, clock: FakeClock, feed: FleetFeed, changes: FleetChange[], close: () => Promise<void> }

async function world (wake?: FeedWake): Promise<World> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-feed-'))
  const registry = await LevelRegistry.open(dir)
  const clock = new FakeClock(T0)
  const feed = new FleetFeed({ registry, isConnected: () => true, clock, minPollMs: 100, maxPollMs: 100, wake })
  const changes: FleetChange[] = []
  return { registry, clock, feed, changes, close: async () => { feed.close(); await registry.close(); rmSync(dir, { recursive: true, force: true }) } }
}

test('[W3] a device whose heartbeats stop turns stale by the clock alone, and the change is sent once', async () => {
  const w = await world()
  try {
    await w.registry.addDevice({ id: 'gh-01', secretHash: 'x', createdAt: T0 })
    await w.registry.touch('gh-01', { lastSeen: T0, status: { state: 'online', agent: '1', functions: [], heartbeatMs: 1000 } })
    const off = w.feed.subscribe((c) => w.changes.push(c))
    await w.clock.advance(150)
    const states = (): string[] => w.changes.flatMap((c) => c.devices.map((d) => d.state))
    assert.equal(states(), ['online'])
    await w.clock.advance(2000)
    assert.equal(states(), ['online'])
    await w.clock.advance(1500)
    assert.equal(states(), ['online', 'stale'])
    assert.is(w.changes.at(-1)?.summary?.devices.stale, 1)
    off()
    // Nobody listens: nothing polls.
    assert.is(w.clock.pending(), 0)
  } finally {
    await w.close()
  }
})

test('metric snapshots are read once each, and minutes older than an hour drop out of the errors', async () => {
  const w = await world()
  try {
    await w.registry.addDevice({ id: 'gh-01', secretHash: 'x', createdAt: T0 })
    const snap = (seq: number, errors: number): { seq: number, kind: 'metric', time: number, data: unknown } => ({ seq, kind: 'metric', time: T0, data: { v: 1, kind: 'delta', from: T0, to: T0, bucketsSeconds: [], functions: { f: { invocations: errors, errors: { LAMBKIN_FUNCTION_ERROR: errors } } }, series: [] } })
    await w.registry.ingest('gh-01', { records: [snap(1, 2)], gaps: [] }, T0)
    let view = await w.feed.view(0)
    assert.is(view.devices[0].errorsHour, 2)
    await w.registry.ingest('gh-01', { records: [snap(2, 5)], gaps: [] }, T0 + 1000)
    view = await w.feed.view(0)
    assert.is(view.devices[0].errorsHour, 7)
    view = await w.feed.view(0)
    assert.is(view.devices[0].errorsHour, 7)
    w.clock.jumpTo(T0 + 61 * 60_000)
    view = await w.feed.view(0)
    assert.is(view.devices[0].errorsHour, 0)
  } finally {
    await w.close()
  }
})

test('with notes flowing: a note refreshes at the pace, a change no note announced shows by the quiet poll; the bus down, the pace again', async () => {
  const notes = new Set<() => void>()
  let up = true
  const wake: FeedWake = { listen: (cb) => { notes.add(cb); return () => { notes.delete(cb) } }, up: () => up }
  const w = await world(wake)
  try {
    await w.registry.addDevice({ id: 'gh-01', secretHash: 'x', createdAt: T0 })
    const off = w.feed.subscribe((c) => w.changes.push(c))
    await w.clock.advance(50)
    const heard = (): number => w.changes.flatMap((c) => c.devices).length
    assert.is(heard(), 1, 'the first refresh at once')
    // A change nobody noted (a heartbeat): only the quiet poll reads it.
    await w.registry.touch('gh-01', { lastSeen: T0 + 50, status: { state: 'online', agent: '1', functions: [], heartbeatMs: 60_000 } })
    await w.clock.advance(500)
    assert.is(heard(), 1, 'not read at the pace while notes flow')
    await w.clock.advance(FEED_DEFAULTS.quietPollMs)
    assert.is(heard(), 2, 'read by the quiet poll')
    // A change with its note: read at the pace.
    await w.registry.touch('gh-01', { lastSeen: T0 + 1600, status: { state: 'online', agent: '2', functions: [], heartbeatMs: 60_000 } })
    for (const cb of notes) cb()
    await w.clock.advance(150)
    assert.is(heard(), 3, 'woken by the note')
    // The bus down: notes may be lost, so the feed polls at its pace.
    up = false
    await w.clock.advance(FEED_DEFAULTS.quietPollMs)
    await w.registry.touch('gh-01', { lastSeen: T0 + 3000, status: { state: 'online', agent: '3', functions: [], heartbeatMs: 60_000 } })
    await w.clock.advance(150)
    assert.is(heard(), 4, 'polled at the pace while the bus is down')
    off()
    assert.is(notes.size, 0, 'nobody listens: the notes are let go')
  } finally {
    await w.close()
  }
})

test('a takeover warning shows when a third takeover comes and goes by the clock alone once they leave the window', async () => {
  const w = await world()
  try {
    await w.registry.addDevice({ id: 'twin-1', secretHash: 'x', createdAt: T0 })
    // Offline, so its state never moves with the clock: only the takeovers' window can.
    await w.registry.touch('twin-1', { lastSeen: T0, status: { state: 'offline' } })
    const off = w.feed.subscribe((c) => w.changes.push(c))
    const warned = (): Array<boolean | null> => w.changes.flatMap((c) => c.devices.map((d) => d.takeovers?.shared ?? null))
    await w.clock.advance(150)
    assert.equal(warned(), [null])
    for (let i = 0; i < 3; i++) await w.registry.noteTakeover('twin-1', T0 + 150 + i)
    await w.clock.advance(150)
    assert.equal(warned(), [null, true])
    assert.equal(w.changes.at(-1)?.devices[0].takeovers, { count: 3, recent: 3, lastAt: T0 + 152, shared: true })
    assert.is(w.changes.at(-1)?.summary?.devices.shared, 1)
    await w.clock.advance(TAKEOVER_WINDOW_MS)
    assert.equal(warned(), [null, true, false])
    assert.equal(w.changes.at(-1)?.devices[0].takeovers, { count: 3, recent: 0, lastAt: T0 + 152, shared: false })
    assert.is(w.changes.at(-1)?.summary?.devices.shared, 0)
    off()
  } finally {
    await w.close()
  }
})

test.run()
