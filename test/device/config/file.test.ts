// Config files as people get them wrong: typos in keys, broken JSON, a missing file.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CONFIG_MAX_BYTES, CONFIG_MAX_DEPTH, loadDeviceConfig } from '../../../device/config/index.js'
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
  assert.is(top?.details.key, 'metricPort')
  assert.match(top?.message ?? '', 'did you mean "metricsPort"?')
  assert.match(top?.message ?? '', path.join(dir, 'device.json'))
  const nested = await loadText(dir, JSON.stringify({ outbox: { syncIntervalMS: 100 } }))
  assert.is(nested?.details.key, 'outbox.syncIntervalMS')
  assert.match(nested?.message ?? '', 'did you mean "syncIntervalMs"?')
  assert.match(nested?.message ?? '', 'Known keys under "outbox": quotaBytes, syncIntervalMs, ttlMs, writeBufferKiB')
  const far = await loadText(dir, JSON.stringify({ caps: { gpu: 1 } }))
  assert.is(far?.details.key, 'caps.gpu')
  assert.not.match(far?.message ?? '', 'did you mean')
  const ttl = await loadText(dir, JSON.stringify({ outbox: { ttlMs: { debug: 1000 } } }))
  assert.is(ttl?.details.key, 'outbox.ttlMs.debug')
  const proto = await loadText(dir, '{"__proto__": {"id": "x"}}')
  assert.is(proto?.details.key, '__proto__', 'JSON keys never reach the prototype chain')
})

test('broken JSON is a config error naming the file and the parser\'s complaint', async ({ dir }) => {
  const err = await loadText(dir, '{ "id": "pi", }')
  assert.match(err?.message ?? '', `config file ${path.join(dir, 'device.json')} is not valid JSON`)
  assert.is(err?.details.file, path.join(dir, 'device.json'))
  assert.instance(err?.cause, SyntaxError)
  const arr = await loadText(dir, '[1, 2]')
  assert.match(arr?.message ?? '', 'must hold a JSON object, got an array')
})

// docs/device.md, the config file: config files get the manifest's treatment (src/function/strict-json.ts).
test('a key given twice is refused, naming the key and its line; the file is never quoted', async ({ dir }) => {
  const err = await loadText(dir, '{\n  "mqtt": { "password": "hunter2" },\n  "mqtt": { "url": "mqtt://evil" }\n}')
  assert.match(err?.message ?? '', 'names key "mqtt" twice in one object at line 3, column 3')
  assert.is(err?.details.key, 'mqtt')
  assert.not.match(err?.message ?? '', 'hunter2')
  const broken = await loadText(dir, '{ "mqtt": { "password": "hunter2" } x }')
  assert.not.match(broken?.message ?? '', 'hunter2')
  // A URL written where the "mqtt" group belongs is named by its type, not echoed.
  const misplaced = await loadText(dir, JSON.stringify({ mqtt: 'mqtt://u:hunter2@h' }))
  assert.match(misplaced?.message ?? '', 'config key "mqtt" must be an object (keys: ')
  assert.match(misplaced?.message ?? '', 'got string')
  assert.not.match(misplaced?.message ?? '', 'hunter2')
})

test('a config file over its size cap, nested too deep, or not UTF-8 is refused', async ({ dir }) => {
  const big = await loadText(dir, JSON.stringify({ id: 'pi', mqtt: { password: 'x'.repeat(CONFIG_MAX_BYTES) } }))
  assert.match(big?.message ?? '', `larger than the ${CONFIG_MAX_BYTES} bytes allowed`)
  const deep = await loadText(dir, `{"caps":${'['.repeat(CONFIG_MAX_DEPTH)}${']'.repeat(CONFIG_MAX_DEPTH)}}`)
  assert.match(deep?.message ?? '', `nests deeper than ${CONFIG_MAX_DEPTH} levels`)
  const file = path.join(dir, 'device.json')
  fs.writeFileSync(file, Buffer.concat([Buffer.from('{"id":"pi","mqtt":{"username":"'), Buffer.from([0xff]), Buffer.from('"}}')]))
  const bytes = await loadDeviceConfig({ file, env: {}, cwd: dir }).then(() => undefined, (e: LambkinError) => e)
  assert.is(bytes?.code, 'LAMBKIN_CONFIG_INVALID')
  assert.match(bytes?.message ?? '', 'is not valid UTF-8 (byte offset 31)')
})

test('a config that is a folder or a device is refused, not read for ever', async ({ dir }) => {
  const folder = await loadDeviceConfig({ file: dir, env: {}, cwd: dir }).then(() => undefined, (e: LambkinError) => e)
  assert.is(folder?.code, 'LAMBKIN_CONFIG_INVALID')
  const zero = await loadDeviceConfig({ file: '/dev/zero', env: {}, cwd: dir }).then(() => undefined, (e: LambkinError) => e)
  assert.match(zero?.message ?? '', 'larger than the')
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
