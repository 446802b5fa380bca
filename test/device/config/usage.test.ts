// The usage text lists every flag and env var, and each one listed really sets its key.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { deviceConfigUsage, ENV_VARS, FLAGS, loadDeviceConfig } from '../../../device/config/index.js'
import type { DeviceConfig } from '../../../device/config/index.js'

const test = suite<{ dir: string }>('device config usage', { dir: '' })
test.before.each((ctx) => { ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-')) })
test.after.each((ctx) => { fs.rmSync(ctx.dir, { recursive: true, force: true }) })

const SAMPLE: Record<string, string> = {
  id: 'sample-id',
  dataDir: 'sample-data',
  functionsDir: 'sample-fns',
  'mqtt.url': 'mqtt://sample:1883',
  'mqtt.username': 'sample-user',
  'mqtt.password': 'sample-pass',
  'cloud.url': 'wss://cloud.example:443/mqtt',
  'cloud.username': 'sample-user',
  'cloud.password': 'sample-pass',
  brokerPort: '1999',
  metricsPort: '9999',
  'outbox.syncIntervalMs': '123',
  'outbox.quotaBytes': '2097152'
}

function get (cfg: DeviceConfig, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], cfg)
}

function expected (dir: string, key: string): unknown {
  const raw = SAMPLE[key] as string
  if (key.endsWith('Dir')) return path.join(dir, raw)
  return /^\d+$/.test(raw) ? Number(raw) : raw
}

test('usage names every flag and env var, with the config keys and their clamps', () => {
  const text = deviceConfigUsage()
  for (const f of FLAGS) assert.match(text, `--${f.name} `)
  for (const e of ENV_VARS) assert.match(text, e.name)
  assert.match(text, 'outbox.syncIntervalMs')
  assert.match(text, 'an integer between 10 and 60000; default 200')
  assert.ok(text.endsWith('\n'))
})

/** Keys that are refused alone: a cloud URL needs the device's secret beside it. */
const COMPANION: Record<string, Record<string, string>> = { 'cloud.url': { LAMBKIN_CLOUD_PASSWORD: 'secret' } }

test('each documented env var sets the key it names', async ({ dir }) => {
  for (const e of ENV_VARS) {
    if (e.key === 'file') continue
    assert.ok(e.key in SAMPLE, `no sample for ${e.key}`)
    const cfg = await loadDeviceConfig({ env: { ...COMPANION[e.key], [e.name]: SAMPLE[e.key] }, cwd: dir })
    assert.equal(get(cfg, e.key), expected(dir, e.key), e.name)
  }
})

test('each documented flag sets the key it names', async ({ dir }) => {
  for (const f of FLAGS) {
    if (f.key === 'file') continue
    assert.ok(f.key in SAMPLE, `no sample for ${f.key}`)
    const cfg = await loadDeviceConfig({ flags: { [f.name]: SAMPLE[f.key] }, env: { ...COMPANION[f.key] }, cwd: dir })
    assert.equal(get(cfg, f.key), expected(dir, f.key), `--${f.name}`)
  }
})

test('the test-only crash hook is not offered in the usage, yet is no typo to the loader', async ({ dir }) => {
  assert.not.match(deviceConfigUsage(), 'LAMBKIN_TEST_CRASH_AT')
  assert.not.match(deviceConfigUsage(), 'kills itself')
  const cfg = await loadDeviceConfig({ env: { LAMBKIN_TEST_CRASH_AT: 'fetched', LAMBKIN_DATA: path.join(dir, 'd') } })
  assert.is(cfg.dataDir, path.join(dir, 'd'))
})

test.run()
