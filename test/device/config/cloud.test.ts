// The cloud link's keys: defaults, a URL without the device's secret, and a user name that is
// not the device id are refused at start with the key named.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadDeviceConfig } from '../../../device/config/index.js'

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p } catch (err) { return `${(err as { code: string }).code} ${(err as Error).message}` }
  return 'loaded'
}

test('cloud defaults: no URL, logs uploaded, no caps, 30 s heartbeats', async () => {
  const c = await loadDeviceConfig({ env: {}, hostname: 'gh-01' })
  assert.is(c.cloud.url, undefined)
  assert.equal([c.cloud.uploadLogs, c.cloud.uploadBytesPerSec, c.cloud.dailyUploadBytes, c.cloud.heartbeatMs], [true, 0, 0, 30_000])
})

test('a cloud URL without the secret, and a user name other than the device id, are refused', async () => {
  assert.match(await codeOf(loadDeviceConfig({ env: { LAMBKIN_CLOUD_URL: 'mqtt://127.0.0.1:1883' } })), /^LAMBKIN_CONFIG_INVALID .*cloud\.url.*cloud\.password/)
  assert.match(await codeOf(loadDeviceConfig({ env: { LAMBKIN_ID: 'gh-01', LAMBKIN_CLOUD_URL: 'mqtt://127.0.0.1:1883', LAMBKIN_CLOUD_PASSWORD: 's' }, flags: {} })), /^loaded$/)
  const c = await loadDeviceConfig({ env: { LAMBKIN_ID: 'gh-01', LAMBKIN_CLOUD_URL: 'mqtt://127.0.0.1:1883', LAMBKIN_CLOUD_PASSWORD: 's' } })
  assert.is(c.cloud.password, 's')
})

test('cloud.logExclude takes function names only', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const path = await import('node:path')
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-cfg-'))
  const file = path.join(dir, 'device.json')
  writeFileSync(file, JSON.stringify({ id: 'gh-01', cloud: { logExclude: ['noisy', 'Bad Name'] } }))
  assert.match(await codeOf(loadDeviceConfig({ file, env: {} })), /^LAMBKIN_CONFIG_INVALID .*cloud\.logExclude/)
  writeFileSync(file, JSON.stringify({ id: 'gh-01', cloud: { username: 'other', url: 'mqtt://127.0.0.1:1', password: 'p' } }))
  assert.match(await codeOf(loadDeviceConfig({ file, env: {} })), /^LAMBKIN_CONFIG_INVALID .*cloud\.username.*device id/)
  writeFileSync(file, JSON.stringify({ id: 'gh-01', cloud: { logExclude: ['noisy'], uploadLogs: false } }))
  const c = await loadDeviceConfig({ file, env: {} })
  assert.equal([c.cloud.logExclude, c.cloud.uploadLogs], [['noisy'], false])
})

test.run()
