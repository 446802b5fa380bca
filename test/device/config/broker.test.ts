// The `broker` config section: user entries from the file and from broker.usersFile, checked
// when loaded, and the rule that a broker beyond loopback needs users (docs/device.md, "Opening the embedded broker to a LAN").
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadDeviceConfig } from '../../../device/config/index.js'
import { hashPassword } from '../../../src/secrets.js'
import { configFailure } from '../../helpers/config.js'

interface Ctx { dir: string, hash: string }
const test = suite<Ctx>('broker config', {} as Ctx)

test.before(async (ctx) => { ctx.hash = await hashPassword('pw', { N: 1024, r: 8, p: 1 }) })
test.before.each((ctx) => { ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-')) })
test.after.each((ctx) => { fs.rmSync(ctx.dir, { recursive: true, force: true }) })

async function load (ctx: Ctx, config: Record<string, unknown>): ReturnType<typeof loadDeviceConfig> {
  const file = path.join(ctx.dir, 'device.json')
  fs.writeFileSync(file, JSON.stringify(config))
  return await loadDeviceConfig({ file, env: {}, cwd: ctx.dir, hostname: 'pi' })
}

test('brokerHost 0.0.0.0 without users is refused naming broker.users; loopback without users is fine', async (ctx) => {
  const err = await configFailure(load(ctx, { brokerPort: 1883, brokerHost: '0.0.0.0' }))
  assert.is(err.details.key, 'broker.users')
  assert.match(err.message, 'broker.allowAnonymous')
  for (const host of ['192.168.1.20', '::', 'pi.local']) await configFailure(load(ctx, { brokerPort: 1883, brokerHost: host }))
  for (const host of ['127.0.0.1', '::1', 'localhost', '127.0.0.2']) await load(ctx, { brokerPort: 1883, brokerHost: host })
  // No broker, no rule.
  await load(ctx, { brokerHost: '0.0.0.0' })
  const open = await load(ctx, { brokerPort: 1883, brokerHost: '0.0.0.0', broker: { allowAnonymous: true } })
  assert.is(open.broker.allowAnonymous, true)
  const none = await configFailure(load(ctx, { brokerPort: 1883, broker: { allowAnonymous: false } }))
  assert.is(none.details.key, 'broker.users')
})

test('users are read with defaults (no grants, no retain); bad entries name the entry and field', async (ctx) => {
  const cfg = await load(ctx, { brokerPort: 1883, brokerHost: '0.0.0.0', broker: { users: [{ username: 'sensor', passwordHash: ctx.hash, publish: ['sensors/#'] }] } })
  assert.equal(cfg.broker.users, [{ username: 'sensor', passwordHash: ctx.hash, publish: ['sensors/#'], subscribe: [], retain: false }])
  assert.is(cfg.broker.maxPacketBytes, 320 * 1024)
  assert.is(cfg.broker.maxConnections, 64)
  const cases: Array<[unknown, string]> = [
    [{ username: 'a', passwordHash: 'plaintext' }, 'scrypt$N$r$p$salt$hash'],
    [{ username: 'a', passwordHash: ctx.hash.replace('$1024$', '$1000$') }, 'power of two'],
    [{ username: 'a', passwordHash: ctx.hash, publish: ['a/#/b'] }, 'publish[0] "a/#/b" is not a valid MQTT topic filter'],
    [{ username: 'a', passwordHash: ctx.hash, subscribe: 'a/#' }, 'subscribe must be an array'],
    [{ username: 'a', passwordHash: ctx.hash, retain: 'yes' }, 'retain must be true or false'],
    [{ username: 'a', passwordHash: ctx.hash, password: 'x' }, 'unknown key "password"'],
    [{ username: '', passwordHash: ctx.hash }, 'username must be']
  ]
  for (const [entry, words] of cases) {
    const err = await configFailure(load(ctx, { broker: { users: [entry] } }))
    assert.is(err.details.key, 'broker.users')
    assert.match(err.message, words)
  }
  const twice = await configFailure(load(ctx, { broker: { users: [{ username: 'a', passwordHash: ctx.hash }, { username: 'a', passwordHash: ctx.hash }] } }))
  assert.match(twice.message, 'appears twice')
})

test('broker.usersFile adds its users; a user in both places, a bad file or bad entries are refused', async (ctx) => {
  const users = path.join(ctx.dir, 'broker-users.json')
  fs.writeFileSync(users, JSON.stringify([{ username: 'panel', passwordHash: ctx.hash, subscribe: ['#'] }]))
  const cfg = await load(ctx, { brokerPort: 1883, brokerHost: '0.0.0.0', broker: { usersFile: 'broker-users.json', users: [{ username: 'sensor', passwordHash: ctx.hash }] } })
  assert.equal(cfg.broker.users.map((u) => u.username), ['sensor', 'panel'])
  fs.writeFileSync(users, JSON.stringify({ users: [{ username: 'panel', passwordHash: ctx.hash }] }))
  assert.equal((await load(ctx, { brokerPort: 1883, brokerHost: '0.0.0.0', broker: { usersFile: users } })).broker.users.map((u) => u.username), ['panel'])
  const clash = await configFailure(load(ctx, { broker: { usersFile: users, users: [{ username: 'panel', passwordHash: ctx.hash }] } }))
  assert.is(clash.details.key, 'broker.usersFile')
  fs.writeFileSync(users, '[{"username": "x", "passwordHash": 1}]')
  assert.match((await configFailure(load(ctx, { broker: { usersFile: users } }))).message, 'passwordHash must be a string')
  fs.writeFileSync(users, '{nope')
  assert.match((await configFailure(load(ctx, { broker: { usersFile: users } }))).message, 'not valid JSON')
  assert.is((await configFailure(load(ctx, { broker: { usersFile: 'missing.json' } }))).details.key, 'broker.usersFile')
})

test.run()
