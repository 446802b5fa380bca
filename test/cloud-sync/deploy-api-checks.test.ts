// Operator API answers the CLI relies on (docs/cloud.md, "The operator API"), on a real cloud: checking a
// target before an upload, a rollback of a function no target has, cancel of a finished
// rollout, remote invoke's body limit and revoked devices, and what a too-large body says.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import { startCloud } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, untilRollout, upload } from '../helpers/deploy.js'

const keys = makeKeys()
type Err = { error: { code: string, message: string } }

test('GET /v1/targets/:to lists the devices a rollout would reach; unknown, revoked or empty targets are LAMBKIN_DEVICE_NOT_FOUND', async () => {
  const f = await startCloud()
  try {
    await f.addDevice('g-2', 'g')
    await f.addDevice('g-1', 'g')
    await f.addDevice('gone', 'g')
    assert.is((await f.api('POST', '/v1/devices/gone/revoke')).status, 200)
    assert.equal((await f.api('GET', `/v1/targets/${encodeURIComponent('group:g')}`)).body, { devices: ['g-1', 'g-2'] })
    assert.equal((await f.api('GET', '/v1/targets/g-1')).body, { devices: ['g-1'] })
    for (const to of ['ghost', 'gone', 'group:empty']) {
      const r = await f.api<Err>('GET', `/v1/targets/${encodeURIComponent(to)}`)
      assert.equal([r.status, r.body.error.code], [404, 'LAMBKIN_DEVICE_NOT_FOUND'], to)
    }
    assert.match((await f.api<Err>('GET', '/v1/targets/gone')).body.error.message, /\(revoked\)/)
    assert.is((await f.api<Err>('GET', '/v1/targets/Bad%20Id')).body.error.code, 'LAMBKIN_REQUEST_INVALID')
  } finally {
    await f.cleanup()
  }
})

test('a rollback of a function no target ever had is 404 LAMBKIN_FUNCTION_NOT_FOUND; when some have it the others are skipped', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    for (const id of ['g-1', 'g-2']) await SimDevice.connect(f, id, await f.addDevice(id, 'g'))
    const none = await f.api<Err>('POST', '/v1/rollbacks', { fn: 'greet', to: 'group:g' })
    assert.equal([none.status, none.body.error.code], [404, 'LAMBKIN_FUNCTION_NOT_FOUND'])
    assert.match(none.body.error.message, /no device in group:g has a deployed version of greet/)
    const one = await f.api<Err>('POST', '/v1/rollbacks', { fn: 'greet', to: 'g-2' })
    assert.equal([one.status, one.body.error.code], [404, 'LAMBKIN_FUNCTION_NOT_FOUND'])
    assert.match(one.body.error.message, /^device g-2 has no deployed version of greet; see lambkin rollouts$/)
    assert.equal((await f.api<{ rollouts: unknown[] }>('GET', '/v1/rollouts')).body.rollouts, [])
    const v1 = await makeBundle('greet', 'one')
    const r = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: await upload(f, v1, keys.key), to: 'g-1' })
    await untilRollout(f, r.body.id, (x) => x.state === 'done')
    const some = await f.api<RolloutView>('POST', '/v1/rollbacks', { fn: 'greet', to: 'group:g' })
    assert.equal([some.status, some.body.devices.map((d) => d.state)], [201, ['skipped', 'skipped']])
    assert.match(some.body.devices[1].message ?? '', /never deployed here/)
  } finally {
    await f.cleanup()
  }
})

test('cancel of a rollout that already finished answers it as it is with alreadyFinished: true', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    await SimDevice.connect(f, 'g-1', await f.addDevice('g-1', 'g'))
    const r = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: await upload(f, await makeBundle('greet', 'one'), keys.key), to: 'g-1' })
    const v = await untilRollout(f, r.body.id, (x) => x.state === 'done')
    const c = await f.api<RolloutView & { alreadyFinished?: boolean }>('POST', `/v1/rollouts/${v.id}/cancel`)
    assert.equal([c.status, c.body.state, c.body.alreadyFinished, c.body.revision], [200, 'done', true, v.revision])
  } finally {
    await f.cleanup()
  }
})

test('[W7] invoke takes an event at the 256 KiB event cap; a revoked device is LAMBKIN_DEVICE_NOT_FOUND (revoked); a too-large body names its limit, an event over the cap as LAMBKIN_INPUT_LIMIT as on the device', async () => {
  const f = await startCloud()
  try {
    const d = await SimDevice.connect(f, 'gh-01', await f.addDevice('gh-01'))
    d.running.set('greet', { name: 'greet', version: '0123456789abcdef' })
    const event = { blob: 'x'.repeat(250 * 1024) }
    const res = await f.api<{ ok: boolean }>('POST', '/v1/devices/gh-01/invoke', { fn: 'greet', event, timeoutMs: 5000 })
    assert.equal([res.status, res.body.ok], [200, true])
    const big = await f.api<Err>('POST', '/v1/devices/gh-01/invoke', { fn: 'greet', event: { blob: 'x'.repeat(300 * 1024) } })
    assert.equal([big.status, big.body.error.code], [413, 'LAMBKIN_INPUT_LIMIT'])
    assert.match(big.body.error.message, /takes at most 278528 bytes \(272 KiB\)/)
    const other = await f.api<Err>('POST', '/v1/devices', { id: 'x'.repeat(70 * 1024) })
    assert.equal([other.status, other.body.error.code], [413, 'LAMBKIN_REQUEST_INVALID'])
    assert.match(other.body.error.message, /POST \/v1\/devices takes at most 65536 bytes \(64 KiB\)/)
    assert.is((await f.api('POST', '/v1/devices/gh-01/revoke')).status, 200)
    const revoked = await f.api<Err>('POST', '/v1/devices/gh-01/invoke', { fn: 'greet' })
    assert.equal([revoked.status, revoked.body.error.code], [404, 'LAMBKIN_DEVICE_NOT_FOUND'])
    assert.match(revoked.body.error.message, /\(revoked\)/)
  } finally {
    await f.cleanup()
  }
})

test.run()
