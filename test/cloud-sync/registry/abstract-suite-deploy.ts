// Abstract suite cases about deployments (docs/deploy.md, DESIGN section 7): bundles and version numbers, the fleet-wide
// deployment id counter with desired state, reported state, and rollouts in chunks.
import * as assert from 'uvu/assert'
import type { DesiredFunction } from '../../../src/wire/index.js'
import type { Registry, RolloutRow } from '../../../cloud-sync/registry/index.js'
import type { RegistryFactory } from './abstract-suite.js'

export type Case = (title: string, fn: (reg: Registry, f: RegistryFactory) => Promise<void>) => void

const sha = (c: string): string => c.repeat(64)
const sig = new Uint8Array(64).fill(7)
const bundle = (c: string, name = 'f', version = c.repeat(16)): Parameters<Registry['putBundle']>[0] =>
  ({ sha256: sha(c), name, version, signature: sig, keyId: 'ab'.repeat(8), uploadedAt: 5, bytes: new Uint8Array([1, 2, 3]) })
const entry = (c: string, number = 1): DesiredFunction => ({ name: 'f', live: { version: c.repeat(16), number, sha256: sha(c), size: 3, signature: sig, keyId: 'ab'.repeat(8) } })
const rollout = (devices: number): Omit<RolloutRow, 'id'> => ({
  kind: 'deploy',
  fn: 'f',
  version: 'a'.repeat(16),
  number: 1,
  sha256: sha('a'),
  to: 'group:g',
  alias: 'live',
  state: 'running',
  createdAt: 1,
  revision: 1,
  abortAtPercent: 100,
  timeoutMs: 1000,
  open: true,
  counts: { total: devices, pending: devices, sent: 0, applied: 0, failed: 0, rolledBack: 0, offline: 0, skipped: 0 },
  devices: Array.from({ length: devices }, (_, i) => ({ id: `d-${i}`, state: 'pending' as const }))
})

export function deployCases (it: Case): void {
  it('bundles: stored with bytes, numbered per function from 1; the same sha256 keeps its number', async (reg) => {
    const a = await reg.putBundle(bundle('a'))
    assert.equal([a.created, a.bundle.number, a.bundle.size], [true, 1, 3])
    assert.is((await reg.putBundle(bundle('b'))).bundle.number, 2)
    assert.is((await reg.putBundle(bundle('c', 'g'))).bundle.number, 1)
    const again = await reg.putBundle(bundle('a'))
    assert.equal([again.created, again.bundle.number], [false, 1])
    const got = await reg.getBundle(sha('b'))
    assert.equal([got?.name, got?.version, got?.keyId, got?.uploadedAt, [...(got?.signature ?? [])]], ['f', 'b'.repeat(16), 'ab'.repeat(8), 5, [...sig]])
    assert.equal([...(await reg.bundleBytes(sha('a')) ?? [])], [1, 2, 3])
    assert.is(await reg.getBundle(sha('d')), undefined)
    assert.is(await reg.bundleBytes(sha('d')), undefined)
  })

  it('concurrent uploads of one function get distinct numbers', async (reg) => {
    const all = await Promise.all(['1', '2', '3', '4', '5', '6'].map(async (c) => await reg.putBundle(bundle(c))))
    assert.equal(all.map((r) => r.bundle.number).sort(), [1, 2, 3, 4, 5, 6])
  })

  it('[W5] desired state: one deployment id per device changed, fleet-wide; the replaced entry is kept as previous', async (reg) => {
    assert.is(await reg.lastDeploymentId(), 0)
    const first = await reg.setDesired([{ device: 'd1', fn: 'f', to: entry('a') }, { device: 'd2', fn: 'f', to: entry('a') }], 10)
    assert.equal(first.map((r) => [r.device, r.deploymentId]), [['d1', 1], ['d2', 2]])
    const second = await reg.setDesired([{ device: 'd1', fn: 'f', to: entry('b', 2) }, { device: 'd1', fn: 'g', to: { ...entry('c'), name: 'g' } }], 11)
    assert.equal(second.map((r) => [r.device, r.deploymentId]), [['d1', 3]])
    const d1 = await reg.getDesired('d1')
    assert.is(d1?.deploymentId, 3)
    assert.is(d1?.functions.f.current?.live.version, 'b'.repeat(16))
    assert.is(d1?.functions.f.previous?.live.version, 'a'.repeat(16))
    assert.is(d1?.functions.g.current?.live.number, 1)
    assert.is(d1?.functions.g.previous, undefined)
    assert.equal([...(d1?.functions.f.current?.live.signature ?? [])], [...sig])
    // The same entry again (a rollout re-sent after a restart) gets a new id but keeps previous.
    const same = await reg.setDesired([{ device: 'd1', fn: 'f', to: entry('b', 2) }], 12)
    assert.equal([same[0].deploymentId, same[0].functions.f.previous?.live.version], [4, 'a'.repeat(16)])
    // Removing a function keeps what it ran as previous; the counter still moves.
    await reg.setDesired([{ device: 'd2', fn: 'f', to: null }], 12)
    const d2 = await reg.getDesired('d2')
    assert.equal([d2?.deploymentId, d2?.functions.f.current, d2?.functions.f.previous?.live.version], [5, undefined, 'a'.repeat(16)])
    assert.is(await reg.lastDeploymentId(), 5)
    assert.equal(await reg.setDesired([], 13), [])
    assert.is(await reg.getDesired('d3'), undefined)
  })

  it('[W5] concurrent desired changes never share a deployment id; ids and rows survive a reopen', async (reg, f) => {
    const rows = (await Promise.all(Array.from({ length: 20 }, async (_, i) => await reg.setDesired([{ device: `d${i % 4}`, fn: 'f', to: entry(String(i % 10)) }], i)))).flat()
    assert.equal(rows.map((r) => r.deploymentId).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1))
    await reg.close()
    const again = await f.open()
    try {
      assert.is(await again.lastDeploymentId(), 20)
      const newest = Math.max(...rows.filter((r) => r.device === 'd3').map((r) => r.deploymentId))
      assert.is((await again.getDesired('d3'))?.deploymentId, newest)
      assert.is((await again.setDesired([{ device: 'd9', fn: 'f', to: entry('a') }], 99))[0].deploymentId, 21)
    } finally {
      await again.close()
    }
  })

  it('[W5] reported state: the last one per device', async (reg) => {
    await reg.putReported('d1', { deploymentId: 3, applying: false, functions: [{ name: 'f', version: 'a'.repeat(16) }], failures: [], rollbacks: [], time: 1, receivedAt: 2 })
    await reg.putReported('d1', { deploymentId: 4, applying: true, functions: [], failures: [{ deploymentId: 4, name: 'f', code: 'LAMBKIN_SIGNATURE_INVALID', message: 'x', at: 3 }], rollbacks: [], time: 3, receivedAt: 4 })
    const r = await reg.getReported('d1')
    assert.equal([r?.deploymentId, r?.applying, r?.failures[0].code, r?.receivedAt], [4, true, 'LAMBKIN_SIGNATURE_INVALID', 4])
    assert.is(await reg.getReported('d2'), undefined)
  })

  it('[W5] a change from a rollout records it as the slot\'s source; a change without one clears it', async (reg) => {
    const [row] = await reg.setDesired([{ device: 'd1', fn: 'f', to: entry('a'), rollout: { id: 'r4', index: 2 } }], 10)
    assert.equal(row.functions.f.from, { rollout: 'r4', index: 2, deploymentId: row.deploymentId })
    await reg.setDesired([{ device: 'd1', fn: 'g', to: { ...entry('c'), name: 'g' } }], 11)
    assert.equal((await reg.getDesired('d1'))?.functions.f.from, { rollout: 'r4', index: 2, deploymentId: row.deploymentId }, 'another function\'s change leaves it')
    await reg.setDesired([{ device: 'd1', fn: 'f', to: entry('b') }], 12)
    assert.is((await reg.getDesired('d1'))?.functions.f.from, undefined)
  })

  it('rollouts: one device is read and written back with the head, without the other chunks', async (reg, f) => {
    const big = await reg.createRollout(rollout(600))
    const got = await reg.getRolloutDevice(big.id, 513)
    assert.equal([got?.device.id, got?.device.state, got?.rollout.id, (got?.rollout as { devices?: unknown } | undefined)?.devices], ['d-513', 'pending', big.id, undefined])
    assert.is(await reg.getRolloutDevice(big.id, 600), undefined)
    assert.is(await reg.getRolloutDevice('r99', 0), undefined)
    const head = got?.rollout as NonNullable<typeof got>['rollout']
    head.counts.pending--
    head.counts.failed++
    head.revision = 5
    await reg.putRolloutDevice(head, 513, { id: 'd-513', state: 'failed', code: 'LAMBKIN_BUNDLE_INVALID', at: 3 })
    await reg.close()
    const again = await f.open()
    try {
      const back = await again.getRollout(big.id)
      assert.equal([back?.devices.length, back?.revision, back?.counts.failed, back?.devices[513].code, back?.devices[512].state, back?.devices[0].state], [600, 5, 1, 'LAMBKIN_BUNDLE_INVALID', 'pending', 'pending'])
    } finally {
      await again.close()
    }
  })

  it('a rotated secret replaces the hash and keeps the device row and its desired state; a revoked device stays revoked', async (reg, f) => {
    await reg.addDevice({ id: 'gh-01', group: 'g', secretHash: 'old', createdAt: 1 })
    await reg.setDesired([{ device: 'gh-01', fn: 'f', to: entry('a') }], 3)
    const row = await reg.rotateSecret('gh-01', 'new', 4)
    assert.equal([row?.secretHash, row?.rotatedAt, row?.group, row?.createdAt], ['new', 4, 'g', 1])
    assert.is(await reg.rotateSecret('nope', 'x', 5), undefined)
    await reg.close()
    const again = await f.open()
    try {
      assert.equal([(await again.getDevice('gh-01'))?.secretHash, (await again.getDesired('gh-01'))?.functions.f.current?.live.sha256], ['new', sha('a')])
      await again.revokeDevice('gh-01', 6)
      const revoked = await again.rotateSecret('gh-01', 'newer', 7)
      assert.equal([revoked?.secretHash, revoked?.revokedAt], ['new', 6])
    } finally {
      await again.close()
    }
  })

  it('rollouts: ids r1, r2...; listed newest first; a large one reads back whole after changes to some devices', async (reg, f) => {
    const small = await reg.createRollout(rollout(2))
    const big = await reg.createRollout(rollout(600))
    assert.equal([small.id, big.id], ['r1', 'r2'])
    big.devices[300] = { id: 'd-300', state: 'applied', deploymentId: 7, at: 9 }
    big.devices[599] = { id: 'd-599', state: 'failed', code: 'LAMBKIN_DEPLOY_TIMEOUT', message: 'silent', at: 9 }
    big.revision = 2
    await reg.putRollout(big, [300, 599])
    small.state = 'done'
    small.open = false
    await reg.putRollout(small)
    assert.equal((await reg.listRollouts()).map((r) => r.id), ['r2', 'r1'])
    assert.equal((await reg.listRollouts({ limit: 1 })).map((r) => r.id), ['r2'])
    assert.is(await reg.getRollout('r3'), undefined)
    assert.is(await reg.getRollout('nope'), undefined)
    await reg.close()
    const again = await f.open()
    try {
      const back = await again.getRollout('r2')
      assert.is(back?.devices.length, 600)
      assert.equal([back?.revision, back?.devices[300].state, back?.devices[300].deploymentId, back?.devices[599].code, back?.devices[0].state], [2, 'applied', 7, 'LAMBKIN_DEPLOY_TIMEOUT', 'pending'])
      assert.equal((await again.openRollouts()).map((r) => r.id), ['r2'])
      assert.is((await again.createRollout(rollout(1))).id, 'r3')
    } finally {
      await again.close()
    }
  })
}
