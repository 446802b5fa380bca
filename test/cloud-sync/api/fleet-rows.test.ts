// The devices table's rows and the fleet summary as the dashboard shows them (docs/dashboard.md).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { conflictOf, fleetRow, fleetSummary } from '../../../cloud-sync/api/fleet-rows.js'
import { TAKEOVER_WINDOW_MS } from '../../../cloud-sync/api/views.js'
import { MINUTE_MS, MetricWindow } from '../../../cloud-sync/api/metric-window.js'
import type { DesiredRow, DeviceRow, ReportedRow } from '../../../cloud-sync/registry/index.js'
import type { DesiredVersion } from '../../../src/wire/index.js'

const NOW = Date.UTC(2026, 11, 6, 12, 0, 30)
const V = (n: number): string => String(n).repeat(16).slice(0, 16)
const entry = (n: number): DesiredVersion => ({ version: V(n), number: n, sha256: String(n).repeat(64).slice(0, 64), size: 100, signature: new Uint8Array(64), keyId: '0'.repeat(16) })

function device (over: Partial<DeviceRow> = {}): DeviceRow {
  return { id: 'gh-01', group: 'greenhouse', secretHash: 'x', createdAt: NOW - 86_400_000, highWater: 7, counts: { stored: 7, duplicates: 0, gaps: 0, gapSeqs: 0 }, lastSeen: NOW - 2000, status: { state: 'online', agent: '0.1.0', functions: [{ name: 'thermo', version: V(1) }, { name: 'local', version: 'abcdefabcdefabcd' }], heartbeatMs: 30_000, at: NOW - 60_000 }, heartbeat: { time: NOW, backlog: { records: 4, bytes: 512 }, uploadedToday: 2048, lastSeq: 7, at: NOW - 2000 }, ...over }
}

const desired: DesiredRow = { device: 'gh-01', deploymentId: 5, updatedAt: NOW - 10_000, functions: { thermo: { current: { name: 'thermo', live: entry(2) }, previous: { name: 'thermo', live: entry(1) } } } }

test('a function whose active version is not the desired one is a mismatch, with both numbers', () => {
  const r = fleetRow(device(), NOW, true, undefined, desired, undefined)
  assert.is(r.state, 'online')
  assert.ok(r.mismatch)
  const thermo = r.functions.find((f) => f.name === 'thermo')
  assert.equal(thermo, { name: 'thermo', version: V(1), number: 1, desired: V(2), desiredNumber: 2, canary: null })
  // A function from the device's own folder has nothing desired: no mismatch for it.
  assert.equal(r.functions.find((f) => f.name === 'local')?.desired, null)
  assert.equal(r.backlog, { records: 4, bytes: 512 })
  assert.is(r.uploadedToday, 2048)
})

test('the newer report [W5] gives the active versions; an offline device keeps its last known functions', () => {
  const reported: ReportedRow = { deploymentId: 5, applying: false, functions: [{ name: 'thermo', version: V(2) }], failures: [], rollbacks: [], time: NOW, receivedAt: NOW - 5000 }
  const r = fleetRow(device(), NOW, true, reported, desired, undefined)
  assert.not.ok(r.mismatch)
  assert.equal(r.functions.map((f) => `${f.name} ${f.number ?? '-'}`), ['thermo 2'])
  const offline = fleetRow(device({ status: { state: 'offline', at: NOW - 1000 } }), NOW, false, reported, desired, undefined)
  assert.is(offline.state, 'offline')
  assert.equal(offline.functions.map((f) => f.name), ['thermo'])
})

test('a device that stopped heartbeating is stale, then offline once its connection is gone [W3]', () => {
  assert.is(fleetRow(device({ lastSeen: NOW - 91_000 }), NOW, true, undefined, undefined, undefined).state, 'stale')
  assert.is(fleetRow(device({ lastSeen: NOW - 91_000 }), NOW, false, undefined, undefined, undefined).state, 'offline')
})

test('conflict is read from whichever shape the registry gives, and absent means none', () => {
  assert.is(conflictOf({ state: 'online' }), null)
  assert.is(conflictOf({ conflicts: 0 }), null)
  assert.is(conflictOf({ conflicts: 2 }), '2 conflicting batches')
  assert.is(conflictOf({ conflict: { message: 'seq 9 differs' } }), 'seq 9 differs')
  assert.is(conflictOf({ conflict: { seq: 9 } }), 'seq 9 arrived with different bytes')
  assert.is(conflictOf({ conflicts: [{ seq: 1 }] }), '1 conflicting batch')
  assert.ok(conflictOf({ state: 'conflict' }) !== null)
})

test('the summary counts states, running functions, backlog, uploads and per-minute rates', async () => {
  const w = new MetricWindow()
  const minute = Math.floor(NOW / MINUTE_MS)
  w.minutes.set(minute, { invocations: 50, errors: 5 })
  w.minutes.set(minute - 2, { invocations: 50, errors: 0 })
  w.minutes.set(minute - 30, { invocations: 1000, errors: 100 })
  const rows = [
    fleetRow(device(), NOW, true, undefined, desired, w),
    fleetRow(device({ id: 'gh-02', lastSeen: NOW - 200_000 }), NOW, true, undefined, undefined, undefined),
    fleetRow(device({ id: 'gh-03', lastSeen: undefined, status: undefined, heartbeat: undefined }), NOW, false, undefined, undefined, undefined)
  ]
  assert.is(rows[0].errorsHour, 105)
  assert.is(rows[0].invocationsHour, 1100)
  const s = fleetSummary(rows, [w], 1, NOW)
  assert.equal(s.devices, { total: 3, online: 1, stale: 1, offline: 0, neverSeen: 1, revoked: 0, conflict: 0, shared: 0 })
  assert.is(s.functionsRunning, 2)
  assert.is(s.functionNames, 2)
  assert.equal(s.perMinute, { invocations: 20, errors: 1, windowMinutes: 5 })
  assert.is(s.series.minutes.length, 60)
  assert.is(s.series.invocations.at(-1), 50)
  assert.is(s.series.errors.at(-31), 100)
  assert.equal(s.backlog, { records: 8, bytes: 1024 })
  assert.is(s.uploadedToday, 2 * 2048)
  assert.is(s.rolloutsRunning, 1)
})

test('takeovers: none is null; one is shown but no warning; 3 within the window say two boards share the id, counted on the takeovers\' clock', () => {
  assert.is(fleetRow(device(), NOW, true, undefined, undefined, undefined).takeovers, null)
  const once = fleetRow(device({ takeovers: { count: 1, lastAt: NOW - 5000, recent: [NOW - 5000] } }), NOW, true, undefined, undefined, undefined)
  assert.equal(once.takeovers, { count: 1, recent: 1, lastAt: NOW - 5000, shared: false })
  const fought = device({ takeovers: { count: 7, lastAt: NOW - 1000, recent: [NOW - TAKEOVER_WINDOW_MS - 1, NOW - 3000, NOW - 2000, NOW - 1000] } })
  const row = fleetRow(fought, NOW, true, undefined, undefined, undefined)
  assert.equal(row.takeovers, { count: 7, recent: 3, lastAt: NOW - 1000, shared: true })
  // The takeovers' own clock decides the window, not the cloud's wall clock (stepped back an hour here).
  const stepped = fleetRow(fought, NOW - 3_600_000, true, undefined, undefined, undefined, NOW + TAKEOVER_WINDOW_MS - 2500)
  assert.equal(stepped.takeovers, { count: 7, recent: 2, lastAt: NOW - 1000, shared: false })
  assert.is(fleetSummary([row, once], [], 0, NOW).devices.shared, 1)
})

test.run()
