// Stopping and reverting rollouts on a real cloud with simulated devices: the abort threshold
// (moved devices get their previous version back, pending ones are never sent), cancel,
// supersede by a newer rollout of the same function, rollback rollouts, and canaries.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, untilRollout, upload } from '../helpers/deploy.js'

const keys = makeKeys()
type Err = { error: { code: string, message: string } }

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
const states = (r: RolloutView): Record<string, string> => Object.fromEntries(r.devices.map((d) => [d.id, d.state]))
/** Every version the device was ever asked to run for greet. */
const asked = (d: SimDevice | undefined): string[] => (d?.desired ?? []).map((x) => x.functions.find((fn) => fn.name === 'greet')?.live.version ?? '-')

test('a rollout stops at abortAtPercent: devices not reached never get it, moved devices get their previous version back under a new deployment id', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const ids = ['g-1', 'g-2', 'g-3', 'g-4', 'g-5', 'g-6']
    const v1 = await makeBundle('greet', 'one')
    const v2 = await makeBundle('greet', 'two')
    const devs = await fleet(f, ids, (d) => { d.behaviour = (_fn, version) => version === v2.version && (d.id === 'g-2' || d.id === 'g-3') ? 'fail' : 'apply' })
    const first = await start(f, { sha256: await upload(f, v1, keys.key), to: 'group:g' })
    await untilRollout(f, first.id, (x) => x.state === 'done' && x.counts.applied === 6)
    const r = await start(f, { sha256: await upload(f, v2, keys.key), to: 'group:g', ratePerMin: 60, abortAtPercent: 30 })
    await untilRollout(f, r.id, (x) => x.counts.applied === 1)
    await clock.advance(1000)
    await untilRollout(f, r.id, (x) => x.counts.failed === 1)
    await clock.advance(1000)
    const v = await untilRollout(f, r.id, (x) => x.state === 'aborted')
    assert.equal(states(v), { 'g-1': 'rolled-back', 'g-2': 'failed', 'g-3': 'failed', 'g-4': 'skipped', 'g-5': 'skipped', 'g-6': 'skipped' })
    assert.match(v.reason ?? '', /2 failed and 0 rolled back of 6 devices.*30%/)
    assert.is(v.devices[0].code, 'LAMBKIN_ROLLOUT_ABORTED')
    assert.ok(v.finishedAt !== undefined)
    // g-1 ran v2, then was put back on v1 with a newer id; g-4..g-6 were never asked for v2.
    const g1 = devs.get('g-1')
    await untilRollout(f, r.id, () => g1?.running.get('greet')?.version === v1.version)
    assert.equal(asked(g1), [v1.version, v2.version, v1.version])
    assert.ok((g1?.desired.at(-1)?.deploymentId ?? 0) > (v.devices[0].deploymentId ?? Infinity))
    for (const id of ['g-4', 'g-5', 'g-6']) assert.equal(asked(devs.get(id)), [v1.version])
    // g-2's desired state was put back too, so a later deployment id does not retry v2 there.
    assert.is(devs.get('g-2')?.desired.at(-1)?.functions[0].live.version, v1.version)
    // Nothing more happens to an aborted rollout.
    await clock.advance(10 * 60_000)
    assert.is((await f.api<RolloutView>('GET', `/v1/rollouts/${r.id}`)).body.revision, v.revision)
  } finally {
    await f.cleanup()
  }
})

test('cancel: devices not reached keep their version, moved ones stay moved; an unknown id is LAMBKIN_ROLLOUT_NOT_FOUND', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const devs = await fleet(f, ['g-1', 'g-2', 'g-3'])
    const b = await makeBundle('greet', 'one')
    const r = await start(f, { sha256: await upload(f, b, keys.key), to: 'group:g', ratePerMin: 1 })
    await untilRollout(f, r.id, (x) => x.counts.applied === 1)
    const c = await f.api<RolloutView>('POST', `/v1/rollouts/${r.id}/cancel`)
    assert.equal([c.status, c.body.state, states(c.body)], [200, 'cancelled', { 'g-1': 'applied', 'g-2': 'skipped', 'g-3': 'skipped' }])
    assert.match(c.body.reason ?? '', /already moved stay moved/)
    await clock.advance(5 * 60_000)
    assert.equal([devs.get('g-2')?.desired.length, devs.get('g-1')?.running.get('greet')?.version], [0, b.version])
    const again = await f.api<RolloutView>('POST', `/v1/rollouts/${r.id}/cancel`)
    assert.is(again.body.state, 'cancelled')
    const none = await f.api<Err>('POST', '/v1/rollouts/r999/cancel')
    assert.equal([none.status, none.body.error.code], [404, 'LAMBKIN_ROLLOUT_NOT_FOUND'])
    assert.is((await f.api<Err>('GET', '/v1/rollouts/nope')).status, 404)
  } finally {
    await f.cleanup()
  }
})

test('a newer rollout of the same function supersedes one still running; the newer one finishes', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const devs = await fleet(f, ['g-1', 'g-2', 'g-3'])
    const v1 = await makeBundle('greet', 'one')
    const v2 = await makeBundle('greet', 'two')
    const old = await start(f, { sha256: await upload(f, v1, keys.key), to: 'group:g', ratePerMin: 1 })
    await untilRollout(f, old.id, (x) => x.counts.applied === 1)
    const neu = await start(f, { sha256: await upload(f, v2, keys.key), to: 'group:g' })
    const o = (await f.api<RolloutView>('GET', `/v1/rollouts/${old.id}`)).body
    assert.equal([o.state, o.reason, states(o)], ['superseded', `superseded by rollout ${neu.id}`, { 'g-1': 'applied', 'g-2': 'skipped', 'g-3': 'skipped' }])
    const n = await untilRollout(f, neu.id, (x) => x.state === 'done')
    assert.equal(n.counts.applied, 3)
    for (const d of devs.values()) assert.is(d.running.get('greet')?.version, v2.version)
    await clock.advance(5 * 60_000)
    assert.is((await f.api<RolloutView>('GET', `/v1/rollouts/${old.id}`)).body.revision, o.revision)
  } finally {
    await f.cleanup()
  }
})

test('a rollback rollout takes each target back to the version before its current one; a device with none is skipped', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    const devs = await fleet(f, ['g-1', 'g-2', 'g-3'])
    const v1 = await makeBundle('greet', 'one')
    const v2 = await makeBundle('greet', 'two')
    await untilRollout(f, (await start(f, { sha256: await upload(f, v1, keys.key), to: 'group:g' })).id, (x) => x.state === 'done')
    await untilRollout(f, (await start(f, { sha256: await upload(f, v2, keys.key), to: 'g-1' })).id, (x) => x.state === 'done')
    await untilRollout(f, (await start(f, { sha256: v2.sha256, to: 'g-2' })).id, (x) => x.state === 'done')
    const g3 = devs.get('g-3')
    const rb = await start(f, { fn: 'greet', to: 'group:g' }, '/v1/rollbacks')
    assert.equal([rb.kind, rb.fn, rb.version, rb.number], ['rollback', 'greet', v1.version, 1])
    // g-3 runs v1 and had nothing before it.
    const v = await untilRollout(f, rb.id, (x) => x.state === 'done')
    assert.equal(states(v), { 'g-1': 'applied', 'g-2': 'applied', 'g-3': 'skipped' })
    assert.match(v.devices[2].message ?? '', /no previous version/)
    for (const id of ['g-1', 'g-2']) assert.is(devs.get(id)?.running.get('greet')?.version, v1.version)
    assert.is(g3?.desired.length, 1)
    const unknown = await f.api<Err>('POST', '/v1/rollbacks', { fn: 'greet', to: 'group:nobody' })
    assert.equal([unknown.status, unknown.body.error.code], [404, 'LAMBKIN_DEVICE_NOT_FOUND'])
  } finally {
    await f.cleanup()
  }
})

test('a canary rollout adds the canary beside live with its weight and counts a device applied when it runs the canary', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    const devs = await fleet(f, ['g-1'])
    await f.addDevice('g-2', 'g')
    const v1 = await makeBundle('greet', 'one')
    const v2 = await makeBundle('greet', 'two')
    await untilRollout(f, (await start(f, { sha256: await upload(f, v1, keys.key), to: 'g-1' })).id, (x) => x.state === 'done')
    const r = await start(f, { sha256: await upload(f, v2, keys.key), to: 'group:g', alias: 'canary', weight: 20 })
    // g-2 has no live version to split with.
    assert.equal([r.alias, r.weight, r.devices[1].state], ['canary', 20, 'skipped'])
    const v = await untilRollout(f, r.id, (x) => x.state === 'done')
    assert.is(states(v)['g-1'], 'applied')
    const last = devs.get('g-1')?.desired.at(-1)?.functions[0]
    assert.equal([last?.live.version, last?.canary?.version, last?.canary?.weight], [v1.version, v2.version, 20])
  } finally {
    await f.cleanup()
  }
})

test('bad rollout requests are refused with LAMBKIN_REQUEST_INVALID or LAMBKIN_DEVICE_NOT_FOUND', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    await f.addDevice('g-1', 'g')
    const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ sha256: sha, to: 'ghost' }, 404, 'LAMBKIN_DEVICE_NOT_FOUND'],
      [{ sha256: sha, to: 'group:empty' }, 404, 'LAMBKIN_DEVICE_NOT_FOUND'],
      [{ sha256: sha, to: 'g-1', alias: 'canary' }, 400, 'LAMBKIN_REQUEST_INVALID'],
      [{ sha256: sha, to: 'g-1', alias: 'beta' }, 400, 'LAMBKIN_REQUEST_INVALID'],
      [{ sha256: sha, to: 'g-1', ratePerMin: 0 }, 400, 'LAMBKIN_REQUEST_INVALID'],
      // Slower than one device a year: the second device would be due at Infinity, never released.
      [{ sha256: sha, to: 'g-1', ratePerMin: 1e-320 }, 400, 'LAMBKIN_REQUEST_INVALID'],
      [{ sha256: sha, to: 'g-1', abortAtPercent: 101 }, 400, 'LAMBKIN_REQUEST_INVALID'],
      [{ sha256: sha, to: 'g-1', timeoutMs: 5 }, 400, 'LAMBKIN_REQUEST_INVALID'],
      [{ sha256: sha, to: 'Bad Id' }, 400, 'LAMBKIN_REQUEST_INVALID']
    ]
    for (const [body, status, code] of cases) {
      const r = await f.api<Err>('POST', '/v1/rollouts', body)
      assert.equal([r.status, r.body.error?.code], [status, code], JSON.stringify(body))
    }
    assert.equal((await f.api<{ rollouts: unknown[] }>('GET', '/v1/rollouts')).body.rollouts, [])
  } finally {
    await f.cleanup()
  }
})

test.run()
