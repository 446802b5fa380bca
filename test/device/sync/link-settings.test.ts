// The cloud link's settings from the device config: each cloud.* key lands on its option, the
// upload window is UPLOAD_WINDOW, reconnectMaxMs never falls below reconnectMs, and a TLS file
// that is gone is an error naming it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadDeviceConfig } from '../../../device/config/index.js'
import { cloudLinkSettings } from '../../../device/sync/index.js'
import { UPLOAD_WINDOW } from '../../../device/sync/uploader.js'

const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-link-settings-'))
const load = async (env: Record<string, string>): Promise<Awaited<ReturnType<typeof loadDeviceConfig>>> =>
  await loadDeviceConfig({ env: { LAMBKIN_CLOUD_URL: 'mqtt://cloud.example:1883', LAMBKIN_CLOUD_PASSWORD: 'a-secret-of-16+', ...env }, cwd: dir, hostname: 'pi-test', arch: 'x64' })

test('cloud.* keys land on the link options', async () => {
  const c = await load({ LAMBKIN_CLOUD_PASSWORD: 's3cret-s3cret', LAMBKIN_CLOUD_BATCH_RECORDS: '250', LAMBKIN_CLOUD_RECONNECT_MS: '500', LAMBKIN_CLOUD_RECONNECT_MAX_MS: '9000' })
  const s = cloudLinkSettings(c, c.cloud.url as string)
  assert.is(s.url, 'mqtt://cloud.example:1883')
  assert.is(s.deviceId, c.id)
  assert.is(s.secret, 's3cret-s3cret')
  assert.is(s.batchRecords, 250)
  assert.is(s.window, UPLOAD_WINDOW)
  assert.is(s.reconnectMinMs, 500)
  assert.is(s.reconnectMaxMs, 9000)
  assert.is(s.ca, undefined)
})

test('reconnectMaxMs is never below reconnectMs', async () => {
  const c = await load({ LAMBKIN_CLOUD_RECONNECT_MS: '5000', LAMBKIN_CLOUD_RECONNECT_MAX_MS: '1000' })
  assert.is(cloudLinkSettings(c, c.cloud.url as string).reconnectMaxMs, 5000)
})

test('TLS files are read; one that is gone is an error naming it', async () => {
  const ca = path.join(dir, 'ca.pem')
  writeFileSync(ca, 'not really a certificate')
  const c = await load({ LAMBKIN_CLOUD_CA_FILE: ca })
  assert.equal(cloudLinkSettings(c, c.cloud.url as string).ca?.toString(), 'not really a certificate')
  rmSync(ca)
  try {
    cloudLinkSettings(c, c.cloud.url as string)
    assert.unreachable('the file is gone')
  } catch (err) {
    assert.match(String((err as Error).message), 'ca.pem')
  }
})

test.after(() => { rmSync(dir, { recursive: true, force: true }) })
test.run()
