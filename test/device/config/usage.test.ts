// The usage text lists every flag and env var with its key, clamp and default.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { deviceConfigUsage, ENV_VARS, FLAGS, loadDeviceConfig } from '../../../device/config/index.js'

const test = suite<{ dir: string }>('device config usage', { dir: '' })
test.before.each((ctx) => { ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-')) })
test.after.each((ctx) => { fs.rmSync(ctx.dir, { recursive: true, force: true }) })

test('usage names every flag and env var, with the config keys and their clamps', () => {
  const text = deviceConfigUsage()
  for (const f of FLAGS) assert.match(text, `--${f.name} `)
  for (const e of ENV_VARS) assert.match(text, e.name)
  assert.match(text, 'outbox.syncIntervalMs')
  assert.match(text, 'an integer between 10 and 60000; default 200')
  assert.ok(text.endsWith('\n'))
})

// That each flag and variable sets its key is checked for every key in every-key.test.ts.

test('the test-only crash hook is not offered in the usage, yet is no typo to the loader', async ({ dir }) => {
  assert.not.match(deviceConfigUsage(), 'LAMBKIN_TEST_CRASH_AT')
  assert.not.match(deviceConfigUsage(), 'kills itself')
  const cfg = await loadDeviceConfig({ env: { LAMBKIN_TEST_CRASH_AT: 'fetched', LAMBKIN_DATA: path.join(dir, 'd') } })
  assert.is(cfg.dataDir, path.join(dir, 'd'))
})

test.run()
