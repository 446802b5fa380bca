// `lambkin device` refuses cloud settings until the cloud link exists, whichever way they come,
// instead of starting and silently ignoring them.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { deviceCommand } from '../../../cli/commands/device.js'

async function device (args: string[]): Promise<{ code: number, out: string, err: string }> {
  let out = ''
  let err = ''
  const code = await deviceCommand(args, { stdout: (s) => { out += s }, stderr: (s) => { err += s } })
  return { code, out, err }
}

test('--cloud is bad usage (exit 2) saying the cloud link is not built yet', async () => {
  const r = await device(['--cloud', 'mqtts://cloud.example:8883'])
  assert.is(r.code, 2)
  assert.match(r.err, /^LAMBKIN_USAGE: --cloud is reserved for the cloud link: the cloud link is not built yet/)
  assert.is(r.out, '', 'no ready line: nothing started')
})

test('cloud.url from a config file or LAMBKIN_CLOUD_URL is refused with LAMBKIN_CONFIG_INVALID (exit 1)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-cloud-'))
  const saved = process.env.LAMBKIN_CLOUD_URL
  try {
    const file = path.join(dir, 'device.json')
    writeFileSync(file, JSON.stringify({ id: 'c1', dataDir: 'data', functionsDir: 'fns', cloud: { url: 'mqtts://cloud.example:8883' } }))
    const fromFile = await device(['--config', file])
    assert.is(fromFile.code, 1)
    assert.match(fromFile.err, /^LAMBKIN_CONFIG_INVALID: config key "cloud.url" is reserved for the cloud link/)
    process.env.LAMBKIN_CLOUD_URL = 'mqtt://cloud.example'
    const fromEnv = await device(['--data', path.join(dir, 'data'), '--functions', path.join(dir, 'fns')])
    assert.is(fromEnv.code, 1)
    assert.match(fromEnv.err, /^LAMBKIN_CONFIG_INVALID: config key "cloud.url"/)
    assert.is(fromFile.out + fromEnv.out, '', 'no ready line: nothing started')
  } finally {
    if (saved === undefined) delete process.env.LAMBKIN_CLOUD_URL
    else process.env.LAMBKIN_CLOUD_URL = saved
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
