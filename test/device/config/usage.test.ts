// The usage text lists every flag and env var with its key, clamp and default.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { deviceConfigUsage, ENV_VARS, FLAGS, loadDeviceConfig } from '../../../device/config/index.js'
import { fieldAt, ruleOf } from '../../../device/config/schema.js'
import type { Field } from '../../../device/config/schema.js'

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

test('every key says what it is for before its range and default, not only its type', () => {
  const lines = deviceConfigUsage().split('\n')
  for (const f of FLAGS) {
    if (f.name === 'config') continue
    assert.is.not(f.help, ruleOf(fieldAt(f.key) as Field), `--${f.name} (${f.key}) has no description, only its rule`)
    const at = lines.findIndex((l) => l.startsWith(`  ${f.key}  --${f.name} `))
    assert.ok(at >= 0, f.key)
    assert.ok(lines[at + 1].trim().startsWith(`${f.help}: `), `${f.key}: ${lines[at + 1]}`)
  }
})

// That each flag and variable sets its key is checked for every key in every-key.test.ts.

test('the test-only crash hook is not offered in the usage, yet is no typo to the loader', async ({ dir }) => {
  assert.not.match(deviceConfigUsage(), 'LAMBKIN_TEST_CRASH_AT')
  assert.not.match(deviceConfigUsage(), 'kills itself')
  const cfg = await loadDeviceConfig({ env: { LAMBKIN_TEST_CRASH_AT: 'fetched', LAMBKIN_DATA: path.join(dir, 'd') } })
  assert.is(cfg.dataDir, path.join(dir, 'd'))
})

test.run()
