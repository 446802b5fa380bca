// What the cloud learns from rollout verdicts, on a real cloud with simulated devices: a
// version a device refused or rolled back leaves its desired state (so no later deployment id
// sends it again), rollback and abort go back only to versions a device applied and kept, and
// a device failed by the cloud's timeout still converges in the view when it reports later.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, untilRollout, upload } from '../helpers/deploy.js'

const keys = makeKeys()

async function fleet (f: CloudFixture, ids: string[], setup: (d: SimDevice) => void = () => {}): Promise<Map<string, SimDevice>> {
  const out = new Map<string, SimDevice>()
  for (const id of ids) out.set(id, await SimDevice.connect(f, id, await f.addDevice(id, 'g'), setup))
  return out
}
const start = async (f: CloudFixture, body: Record<string, unknown>, route = '/v1/rollouts'): Promise<RolloutView> => {
  const r = await f.api<RolloutView>('POST', route, body)
  if (r.status !== 201) throw new Error(`${route}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}
const done = async (f: CloudFixture, body: Record<string, unknown>, route?: string): Promise<RolloutView> => await untilRollout(f, (await start(f, body, route)).id, (x) => x.state !== 'running')
/** The version of `fn` in the device's newest desired state ('-' when it is not there). */
const lastAsked = (d: SimDevice | undefined, fn = 'greet'): string => d?.desired.at(-1)?.functions.find((x) => x.name === fn)?.live.version ?? '-'

test('a version a device rolled back or refused leaves its desired state: a later deployment of another function does not send it again', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    const v1 = await makeBundle('greet', 'one')
    const v2 = await makeBundle('greet', 'two')
    const other = await makeBundle('other', 'x')
    const devs = await fleet(f, ['g-1', 'g-2'], (d) => { d.behaviour = (_fn, version) => version !== v2.version ? 'apply' : d.id === 'g-1' ? 'health-fail' : 'fail' })
    await done(f, { sha256: await upload(f, v1, keys.key), to: 'g-1' })
    const r = await done(f, { sha256: await upload(f, v2, keys.key), to: 'group:g' })
    // The view's verdicts stay as judged.
    assert.equal(r.devices.map((d) => d.state), ['rolled-back', 'failed'])
    // g-1 is asked for what it runs (v1) again, g-2 (which runs no greet) for no greet, each under a newer id.
    const g1 = devs.get('g-1')
    const g2 = devs.get('g-2')
    await untilRollout(f, r.id, () => lastAsked(g1) === v1.version && lastAsked(g2) === '-')
    assert.ok((g1?.desired.at(-1)?.deploymentId ?? 0) > (r.devices[0].deploymentId ?? Infinity))
    await done(f, { sha256: await upload(f, other, keys.key), to: 'group:g' })
    for (const d of [g1, g2]) assert.ok(d?.desired.at(-1)?.functions.some((x) => x.name === 'other'))
    assert.equal([lastAsked(g1), lastAsked(g2)], [v1.version, '-'])
    assert.is(g1?.running.get('greet')?.version, v1.version)
    // Nobody was ever asked for v2 twice.
    for (const d of [g1, g2]) assert.is(d?.desired.filter((x) => x.functions.some((y) => y.live.version === v2.version)).length, 1)
  } finally {
    await f.cleanup()
  }
})

test('rollback goes to the newest version the device applied and kept, never to one its health gate rolled back', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    const [v1, v2, v3] = await Promise.all(['one', 'two', 'three'].map(async (t) => await makeBundle('greet', t)))
    const devs = await fleet(f, ['g-1'], (d) => { d.behaviour = (_fn, version) => version === v3.version ? 'health-fail' : 'apply' })
    await done(f, { sha256: await upload(f, v1, keys.key), to: 'g-1' })
    assert.is((await done(f, { sha256: await upload(f, v2, keys.key), to: 'g-1' })).devices[0].state, 'applied')
    // v3 fails the health gate: the device stays on v2, and so does its desired state.
    assert.is((await done(f, { sha256: await upload(f, v3, keys.key), to: 'g-1' })).devices[0].state, 'rolled-back')
    const rb = await done(f, { fn: 'greet', to: 'g-1' }, '/v1/rollbacks')
    assert.equal([rb.version, rb.devices[0].state, rb.devices[0].version], [v1.version, 'applied', v1.version])
    assert.is(devs.get('g-1')?.running.get('greet')?.version, v1.version)
  } finally {
    await f.cleanup()
  }
})

test('an abort never sends a device back to a version it refused: with no kept version it loses the function', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const v1 = await makeBundle('greet', 'one')
    const v2 = await makeBundle('greet', 'two')
    // g-1 refuses v1 (say, signed with a key it does not trust) and takes v2; g-2 refuses v2.
    const devs = await fleet(f, ['g-1', 'g-2'], (d) => { d.behaviour = (_fn, version) => (d.id === 'g-1') === (version === v1.version) ? 'fail' : 'apply' })
    assert.is((await done(f, { sha256: await upload(f, v1, keys.key), to: 'g-1' })).devices[0].state, 'failed')
    const r = await start(f, { sha256: await upload(f, v2, keys.key), to: 'group:g', ratePerMin: 60, abortAtPercent: 50 })
    await untilRollout(f, r.id, (x) => x.counts.applied === 1)
    await clock.advance(1000)
    const v = await untilRollout(f, r.id, (x) => x.state === 'aborted')
    assert.equal(v.devices.map((d) => d.state), ['rolled-back', 'failed'])
    const g1 = devs.get('g-1')
    await untilRollout(f, r.id, () => g1?.running.get('greet') === undefined)
    assert.is(lastAsked(g1), '-')
    assert.is(g1?.desired.filter((x) => x.functions.some((y) => y.live.version === v1.version)).length, 1)
  } finally {
    await f.cleanup()
  }
})

test('a device failed with LAMBKIN_DEPLOY_TIMEOUT moves to applied when it reports the version later', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const devs = await fleet(f, ['g-1', 'g-2'], (d) => { if (d.id === 'g-2') d.behaviour = () => 'silent' })
    const b = await makeBundle('greet', 'one')
    const r = await start(f, { sha256: await upload(f, b, keys.key), to: 'group:g', timeoutMs: 5000 })
    await untilRollout(f, r.id, (x) => x.counts.applied === 1)
    await clock.advance(6000)
    let v = await untilRollout(f, r.id, (x) => x.state === 'done')
    assert.equal([v.devices[1].state, v.devices[1].code], ['failed', 'LAMBKIN_DEPLOY_TIMEOUT'])
    // Later (past the finished rollout's watch window too) the slow device applies it and reports.
    await clock.advance(20 * 60_000)
    const g2 = devs.get('g-2')
    // Silent, it only keeps what it gets: on a loaded host its desired state may still be on the way.
    for (const end = Date.now() + 15_000; (g2?.desired.length ?? 0) === 0 && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 20))
    const sent = g2?.desired.at(-1)
    const want = sent?.functions[0]
    if (g2 === undefined || sent === undefined || want === undefined) throw new Error('g-2 got no desired state')
    g2.running.set('greet', { name: 'greet', version: want.live.version, sha256: want.live.sha256 })
    g2.acted = sent.deploymentId
    await g2.report()
    v = await untilRollout(f, r.id, (x) => x.devices[1].state === 'applied')
    assert.equal([v.counts.applied, v.counts.failed, v.devices[1].code], [2, 0, undefined])
  } finally {
    await f.cleanup()
  }
})

test.run()
