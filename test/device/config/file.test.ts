// Config files as people get them wrong: typos in keys, broken JSON, a missing file.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadDeviceConfig } from '../../../device/config/index.js'
import { LambkinError } from '../../../src/errors.js'

const test = suite<{ dir: string }>('device config file', { dir: '' })
test.before.each((ctx) => { ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-')) })
test.after.each((ctx) => { fs.rmSync(ctx.dir, { recursive: true, force: true }) })

async function loadText (dir: string, text: string): Promise<LambkinError | undefined> {
  const file = path.join(dir, 'device.json')
  fs.writeFileSync(file, text)
  try {
    await loadDeviceConfig({ file, env: {}, cwd: dir })
    return undefined
  } catch (err) {
    assert.instance(err, LambkinError)
    assert.is((err as LambkinError).code, 'LAMBKIN_CONFIG_INVALID')
    return err as LambkinError
  }
}

test('an unknown key is refused with the nearest known key suggested', async ({ dir }) => {
  const top = await loadText(dir, JSON.stringify({ metricPort: 9100 }))
  assert.is(top?.info.key, 'metricPort')
  assert.match(top?.message ?? '', 'did you mean "metricsPort"?')
  assert.match(top?.message ?? '', path.join(dir, 'device.json'))
  const nested = await loadText(dir, JSON.stringify({ outbox: { syncIntervalMS: 100 } }))
  assert.is(nested?.info.key, 'outbox.syncIntervalMS')
  assert.match(nested?.message ?? '', 'did you mean "syncIntervalMs"?')
  assert.match(nested?.message ?? '', 'Known keys under "outbox": quotaBytes, syncIntervalMs, ttlMs')
  const far = await loadText(dir, JSON.stringify({ caps: { gpu: 1 } }))
  assert.is(far?.info.key, 'caps.gpu')
  assert.not.match(far?.message ?? '', 'did you mean')
  const ttl = await loadText(dir, JSON.stringify({ outbox: { ttlMs: { debug: 1000 } } }))
  assert.is(ttl?.info.key, 'outbox.ttlMs.debug')
  const proto = await loadText(dir, '{"__proto__": {"id": "x"}}')
  assert.is(proto?.info.key, '__proto__', 'JSON keys never reach the prototype chain')
})

test('broken JSON is a config error naming the file and the parser\'s complaint', async ({ dir }) => {
  const err = await loadText(dir, '{ "id": "pi", }')
  assert.match(err?.message ?? '', `config file ${path.join(dir, 'device.json')} is not valid JSON`)
  assert.is(err?.info.file, path.join(dir, 'device.json'))
  assert.instance(err?.cause, SyntaxError)
  const arr = await loadText(dir, '[1, 2]')
  assert.match(arr?.message ?? '', 'must hold a JSON object, got an array')
})

test('a byte order mark is tolerated; a valid file loads', async ({ dir }) => {
  assert.is(await loadText(dir, '\uFEFF{ "id": "pi-1", "outbox": { "ttlMs": { "log": 86400000 } } }'), undefined)
})

test('a missing config file names the path it looked for', async ({ dir }) => {
  try {
    await loadDeviceConfig({ flags: { config: 'nope.json' }, env: {}, cwd: dir })
    assert.unreachable('loaded a missing file')
  } catch (err) {
    assert.is((err as LambkinError).code, 'LAMBKIN_CONFIG_INVALID')
    assert.match((err as Error).message, path.join(dir, 'nope.json'))
    assert.match((err as Error).message, 'ENOENT')
  }
})

test.run()
