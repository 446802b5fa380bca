// Rollouts on a real cloud (aedes, LevelDB, Fastify) with simulated devices speaking [W5]-[W6]
// over MQTT.js: a group reaching done with each device's state, rate pacing, a silent device
// timing out, an offline device converging later, and a restart in the middle. Time is a
// FakeClock where the test depends on it; nothing sleeps for a timeout.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, until, untilRollout, upload } from '../helpers/deploy.js'

const keys = makeKeys()

async function fleet (f: CloudFixture, ids: string[], setup: (d: SimDevice) => void = () => {}): Promise<Map<string, SimDevice>> {
  const out = new Map<string, SimDevice>()
  for (const id of ids) out.set(id, await SimDevice.connect(f, id, await f.addDevice(id, 'g'), setup))
  return out
}
const start = async (f: CloudFixture, body: Record<string, unknown>): Promise<RolloutView> => {
  const r = await f.api<RolloutView>('POST', '/v1/rollouts', body)
  if (r.status !== 201) throw new Error(`rollout: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}
const states = (r: RolloutView): Record<string, string> => Object.fromEntries(r.devices.map((d) => [d.id, d.state]))

test('[W5] a rollout to a group goes to every device and is done with each one\'s state: applied, failed with its code, rolled back by its health gate', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    const ids = ['g-1', 'g-2', 'g-3', 'g-4', 'g-5']
    const devs = await fleet(f, ids, (d) => { d.behaviour = () => d.id === 'g-4' ? 'fail' : d.id === 'g-5' ? 'health-fail' : 'apply' })
    const b = await makeBundle('greet', 'one')
    const sha = await upload(f, b, keys.key)
    const r = await start(f, { sha256: sha, to: 'group:g' })
    assert.equal([r.kind, r.fn, r.version, r.number, r.alias, r.abortAtPercent, r.timeoutMs, r.counts.total], ['deploy', 'greet', b.version, 1, 'live', 100, 120_000, 5])
    const done = await untilRollout(f, r.id, (v) => v.state === 'done')
    assert.equal(states(done), { 'g-1': 'applied', 'g-2': 'applied', 'g-3': 'applied', 'g-4': 'failed', 'g-5': 'rolled-back' })
    assert.equal(done.counts, { total: 5, pending: 0, sent: 0, applied: 3, failed: 1, rolledBack: 1, offline: 0, skipped: 0 })
    const byId = new Map(done.devices.map((d) => [d.id, d]))
    assert.is(byId.get('g-4')?.code, 'LAMBKIN_COMPILE_ERROR')
    assert.is(byId.get('g-5')?.code, 'LAMBKIN_HEALTH_CHECK_FAILED')
    // One deployment id per device, fleet-wide, each the id of the desired state the device got.
    const ids2 = done.devices.map((d) => d.deploymentId)
    assert.is(new Set(ids2).size, 5)
    // (A device that failed or rolled back then gets a newer id putting it back on what it runs: rollout-learning.test.ts.)
    for (const d of done.devices) {
      const got = devs.get(d.id)?.desired.find((x) => x.deploymentId === d.deploymentId)
      assert.is(got?.deploymentId, d.deploymentId)
      assert.equal(got?.functions.map((x) => [x.name, x.live.version, x.live.number, x.live.sha256, x.live.size, x.live.signature.byteLength]), [['greet', b.version, 1, sha, b.bytes.byteLength, 64]])
    }
    assert.ok(done.finishedAt !== undefined && done.reason === undefined)
    assert.equal((await f.api<{ rollouts: RolloutView[] }>('GET', '/v1/rollouts?limit=5')).body.rollouts.map((x) => [x.id, x.state]), [[r.id, 'done']])
    // A health gate that fails after the device reported applied still shows, after done.
    const g1 = devs.get('g-1') as SimDevice
    g1.rollbacks.push({ deploymentId: byId.get('g-1')?.deploymentId as number, name: 'greet', from: b.version, code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'late', at: Date.now() })
    await g1.report()
    const later = await untilRollout(f, r.id, (v) => v.counts.rolledBack === 2)
    assert.is(later.devices[0].state, 'rolled-back')
  } finally {
    await f.cleanup()
  }
})

test('a rollout goes out at ratePerMin: one device at once, the next only when its minute share has passed', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    await fleet(f, ['g-1', 'g-2', 'g-3'])
    const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
    const r = await start(f, { sha256: sha, to: 'group:g', ratePerMin: 2 })
    assert.is(r.ratePerMin, 2)
    await untilRollout(f, r.id, (v) => v.counts.applied === 1)
    await clock.advance(29_000)
    let v = (await f.api<RolloutView>('GET', `/v1/rollouts/${r.id}`)).body
    assert.equal([v.counts.pending, v.counts.applied + v.counts.sent], [2, 1])
    await clock.advance(1000)
    v = await untilRollout(f, r.id, (x) => x.counts.applied === 2)
    assert.is(v.counts.pending, 1)
    await clock.advance(30_000)
    v = await untilRollout(f, r.id, (x) => x.state === 'done')
    assert.equal(states(v), { 'g-1': 'applied', 'g-2': 'applied', 'g-3': 'applied' })
    // Once the watch for late rollbacks ends, the engine holds no timer at all.
    assert.is(clock.pending(), 1)
    await clock.advance(10 * 60_000)
    assert.is(clock.pending(), 0)
  } finally {
    await f.cleanup()
  }
})

test('a connected device that never reports fails with LAMBKIN_DEPLOY_TIMEOUT after timeoutMs; the rollout still ends', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    await fleet(f, ['g-1', 'g-2'], (d) => { if (d.id === 'g-2') d.behaviour = () => 'silent' })
    const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
    const r = await start(f, { sha256: sha, to: 'group:g', timeoutMs: 5000 })
    let v = await untilRollout(f, r.id, (x) => x.counts.applied === 1)
    assert.equal([v.state, v.devices[1].state], ['running', 'sent'])
    await clock.advance(4000)
    assert.is((await f.api<RolloutView>('GET', `/v1/rollouts/${r.id}`)).body.devices[1].state, 'sent')
    await clock.advance(2000)
    v = await untilRollout(f, r.id, (x) => x.state === 'done')
    assert.equal([v.devices[1].state, v.devices[1].code], ['failed', 'LAMBKIN_DEPLOY_TIMEOUT'])
  } finally {
    await f.cleanup()
  }
})

test('[W5] a device offline during the rollout does not hold it; it converges when it connects and the view updates', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    await fleet(f, ['g-1'])
    const secret = await f.addDevice('g-2', 'g')
    const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
    const r = await start(f, { sha256: sha, to: 'group:g' })
    let v = await untilRollout(f, r.id, (x) => x.state === 'done')
    assert.equal(states(v), { 'g-1': 'applied', 'g-2': 'offline' })
    assert.equal([v.counts.offline, v.counts.applied], [1, 1])
    const late = await SimDevice.connect(f, 'g-2', secret)
    v = await untilRollout(f, r.id, (x) => x.counts.applied === 2)
    assert.equal([v.state, states(v)['g-2']], ['done', 'applied'])
    assert.is(late.running.get('greet')?.sha256, sha)
  } finally {
    await f.cleanup()
  }
})

test('a cloud restarted in the middle of a paced rollout resumes it from the registry and republishes desired state on connect', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const secrets = new Map<string, string>()
    for (const id of ['g-1', 'g-2', 'g-3']) secrets.set(id, await f.addDevice(id, 'g'))
    let devs = new Map<string, SimDevice>()
    for (const [id, s] of secrets) devs.set(id, await SimDevice.connect(f, id, s))
    const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
    const r = await start(f, { sha256: sha, to: 'group:g', ratePerMin: 1 })
    const before = await untilRollout(f, r.id, (x) => x.counts.applied === 1)
    for (const d of devs.values()) d.end()
    await f.restart({ clock })
    devs = new Map()
    for (const [id, s] of secrets) devs.set(id, await SimDevice.connect(f, id, s))
    // g-1's desired state came back from the registry (aedes kept it in memory only).
    await until(() => devs.get('g-1')?.running.get('greet')?.sha256 === sha)
    let v = await untilRollout(f, r.id, (x) => x.devices[0].state === 'applied')
    assert.equal([v.state, v.devices[0].deploymentId, v.counts.pending], ['running', before.devices[0].deploymentId, 2])
    await clock.advance(60_000)
    await untilRollout(f, r.id, (x) => x.counts.applied === 2)
    await clock.advance(60_000)
    v = await untilRollout(f, r.id, (x) => x.state === 'done')
    assert.equal(states(v), { 'g-1': 'applied', 'g-2': 'applied', 'g-3': 'applied' })
  } finally {
    await f.cleanup()
  }
})

test.run()
