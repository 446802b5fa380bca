// The deployment keys of the device config: trustedKeys (file list, and --trust repeatable),
// deploy.* with their ranges, and errors naming the key.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadDeviceConfig } from '../../../device/config/index.js'
import { generateKeys } from '../../../src/bundle/index.js'
import { configFailure } from '../../helpers/config.js'

interface Ctx { dir: string }
const test = suite<Ctx>('device config: deployments', {} as Ctx)
test.before.each((ctx) => { ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-')) })
test.after.each((ctx) => { fs.rmSync(ctx.dir, { recursive: true, force: true }) })

const write = (file: string, value: unknown): string => { fs.writeFileSync(file, JSON.stringify(value)); return file }

test('defaults: no trusted keys, a 30 s health window at error rate 0.5 after 3 invocations, 30 s fetches, a 30 s first retry after a transient failure', async (ctx) => {
  const cfg = await loadDeviceConfig({ env: {}, cwd: ctx.dir })
  assert.equal(cfg.trustedKeys, [])
  assert.equal(cfg.deploy, { healthWindowMs: 30_000, maxErrorRate: 0.5, minInvocations: 3, fetchTimeoutMs: 30_000, retryMs: 30_000 })
})

test('trustedKeys resolve against the config file\'s folder, and --trust adds keys relative to the cwd', async (ctx) => {
  generateKeys(path.join(ctx.dir, 'a'))
  generateKeys(path.join(ctx.dir, 'b'))
  const file = write(path.join(ctx.dir, 'device.json'), { trustedKeys: ['a/lambkin.pub'], deploy: { maxErrorRate: 0.25 } })
  const cfg = await loadDeviceConfig({ env: {}, cwd: path.join(ctx.dir, 'b'), file, trust: ['lambkin.pub'] })
  assert.equal(cfg.trustedKeys, [path.join(ctx.dir, 'a', 'lambkin.pub'), path.join(ctx.dir, 'b', 'lambkin.pub')])
  assert.is(cfg.deploy.maxErrorRate, 0.25)
})

test('a trusted key that is missing, or a private key, is refused naming trustedKeys', async (ctx) => {
  const keys = generateKeys(path.join(ctx.dir, 'k'))
  let err = await configFailure(loadDeviceConfig({ env: {}, cwd: ctx.dir, trust: ['nope.pub'] }))
  assert.match(err.message, 'config key "trustedKeys"')
  assert.match(err.message, 'from flag --trust')
  err = await configFailure(loadDeviceConfig({ env: {}, cwd: ctx.dir, file: write(path.join(ctx.dir, 'd.json'), { trustedKeys: [keys.privateFile] }) }))
  assert.match(err.message, 'private key')
})

test('deploy.* out of range is refused naming the key', async (ctx) => {
  for (const [deploy, key] of [[{ maxErrorRate: 1.5 }, 'deploy.maxErrorRate'], [{ minInvocations: 0 }, 'deploy.minInvocations'], [{ fetchTimeoutMs: 5 }, 'deploy.fetchTimeoutMs'], [{ healthWindowMs: -1 }, 'deploy.healthWindowMs']] as const) {
    const err = await configFailure(loadDeviceConfig({ env: {}, cwd: ctx.dir, file: write(path.join(ctx.dir, 'd.json'), { deploy }) }))
    assert.match(err.message, `config key "${key}"`)
  }
})

test.run()
