// Remote invoke through the cloud [W7] with a simulated device: answered, the device offline
// (refused at once), and no answer (LAMBKIN_INVOKE_TIMEOUT on a FakeClock, no sleeping).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeFrame, upTopic } from '../../src/wire/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, until, untilRollout, upload } from '../helpers/deploy.js'

type Err = { error: { code: string, message: string } }

test('[W7] an invoke reaches the connected device and its answer comes back with the version that ran', async () => {
  const keys = makeKeys()
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    await SimDevice.connect(f, 'gh-01', await f.addDevice('gh-01'))
    const b = await makeBundle('greet', 'one')
    const r = (await f.api<{ id: string }>('POST', '/v1/rollouts', { sha256: await upload(f, b, keys.key), to: 'gh-01' })).body
    await untilRollout(f, r.id, (v) => v.state === 'done')
    const res = await f.api('POST', '/v1/devices/gh-01/invoke', { fn: 'greet', event: { n: 1 }, timeoutMs: 5000 })
    assert.is(res.status, 200)
    assert.equal({ ...res.body, id: typeof res.body.id }, { id: 'string', fn: 'greet', ok: true, version: b.version, result: { echo: { n: 1 } }, durationMs: 1 })
    const missing = await f.api('POST', '/v1/devices/gh-01/invoke', { fn: 'nope' })
    assert.equal([missing.status, missing.body.ok, (missing.body.error as { code: string }).code], [200, false, 'LAMBKIN_FUNCTION_NOT_FOUND'])
  } finally {
    await f.cleanup()
  }
})

test('[W7] a device that is not connected is LAMBKIN_DEVICE_OFFLINE (409) at once; an unknown one 404; a bad body 400', async () => {
  const f = await startCloud()
  try {
    await f.addDevice('gh-01')
    const off = await f.api<Err>('POST', '/v1/devices/gh-01/invoke', { fn: 'greet', event: {} })
    assert.equal([off.status, off.body.error.code], [409, 'LAMBKIN_DEVICE_OFFLINE'])
    const ghost = await f.api<Err>('POST', '/v1/devices/ghost/invoke', { fn: 'greet' })
    assert.equal([ghost.status, ghost.body.error.code], [404, 'LAMBKIN_DEVICE_NOT_FOUND'])
    const bad = await f.api<Err>('POST', '/v1/devices/gh-01/invoke', { fn: 'Not A Name' })
    assert.equal([bad.status, bad.body.error.code], [400, 'LAMBKIN_REQUEST_INVALID'])
  } finally {
    await f.cleanup()
  }
})

test('[W7] no answer within timeoutMs (plus the margin) is LAMBKIN_INVOKE_TIMEOUT (504); a late answer is counted and dropped', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ clock })
  try {
    const d = await SimDevice.connect(f, 'gh-01', await f.addDevice('gh-01'), (s) => { s.answerInvokes = false })
    const pending = f.api<Err>('POST', '/v1/devices/gh-01/invoke', { fn: 'greet', event: {}, timeoutMs: 3000 })
    await until(() => d.invokesSeen === 1)
    await clock.advance(3000)
    await clock.advance(2000)
    const res = await pending
    assert.equal([res.status, res.body.error.code], [504, 'LAMBKIN_INVOKE_TIMEOUT'])
    assert.is(f.cloud.invoker.unmatched, 0)
    await d.client.publishAsync(upTopic('gh-01', 'invoke-result'), encodeFrame({ id: 'late', fn: 'greet', ok: true, result: 1, durationMs: 1 }), { qos: 1 })
    assert.is(f.cloud.invoker.unmatched, 1)
  } finally {
    await f.cleanup()
  }
})

test.run()
