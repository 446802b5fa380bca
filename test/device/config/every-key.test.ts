// Every config key can be set by a flag and by a LAMBKIN_* variable, so a systemd unit or a
// container image needs no config file (docs/device.md). Walks the schema: a key
// added later is covered without touching this file.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { containerMarker, ENV_VARS, envNameOf, fieldAt, FLAGS, flagNameOf, loadDeviceConfig, OTHER_ENV_VARS, schemaKeys } from '../../../device/config/index.js'
import type { DeviceConfig } from '../../../device/config/index.js'
import type { Field } from '../../../device/config/schema.js'
import { generateKeys } from '../../../src/bundle/index.js'
import { hashPassword } from '../../../src/secrets.js'
import { configFailure } from '../../helpers/config.js'

interface Ctx { dir: string, file: string, users: string, key: string }
const test = suite<Ctx>('device config: every key by flag and variable', {} as Ctx)
test.before.each(async (ctx) => {
  ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
  ctx.file = path.join(ctx.dir, 'readable.pem')
  fs.writeFileSync(ctx.file, 'not parsed at load time')
  ctx.users = path.join(ctx.dir, 'users.json')
  fs.writeFileSync(ctx.users, JSON.stringify([{ username: 'sensor', passwordHash: await hashPassword('pw', { N: 1024, r: 8, p: 1 }), publish: ['sensors/#'] }]))
  ctx.key = generateKeys(path.join(ctx.dir, 'keys')).publicFile
})
test.after.each((ctx) => { fs.rmSync(ctx.dir, { recursive: true, force: true }) })

/** A valid value for a key, as text, and what the loaded config should then hold. */
function sample (ctx: Ctx, key: string, field: Field): { raw: string, want: unknown } {
  switch (key) {
    case 'id': return { raw: 'sample-id', want: 'sample-id' }
    case 'cloud.username': return { raw: 'sample-id', want: 'sample-id' }
    case 'mqtt.clientId': return { raw: 'client-7', want: 'client-7' }
    case 'broker.users': return { raw: '[]', want: [] }
    case 'cloud.logExclude': return { raw: '["noisy","chatty"]', want: ['noisy', 'chatty'] }
    case 'broker.usersFile': return { raw: ctx.users, want: ctx.users }
    case 'trustedKeys': return { raw: ctx.key, want: [ctx.key] }
    case 'functionLogs': return { raw: 'warn', want: 'warn' }
  }
  switch (field.kind) {
    case 'int': return { raw: String(field.min + 1), want: field.min + 1 }
    case 'number': return { raw: '0.25', want: 0.25 }
    case 'bool': return { raw: 'false', want: false }
    case 'string': return { raw: 'x'.repeat(Math.max(field.min, 3)), want: 'x'.repeat(Math.max(field.min, 3)) }
    case 'host': return { raw: '0.0.0.0', want: '0.0.0.0' }
    case 'path': return field.file === true ? { raw: ctx.file, want: ctx.file } : { raw: 'some-dir', want: path.join(ctx.dir, 'some-dir') }
    case 'url': return { raw: 'mqtt://broker.example:1883', want: 'mqtt://broker.example:1883' }
    default: throw new Error(`no sample for ${key} (${field.kind}): add one above`)
  }
}

/** Keys that are refused alone need their companions (set in the environment). */
function companions (ctx: Ctx, key: string): Record<string, string> {
  switch (key) {
    case 'cloud.url': return { LAMBKIN_CLOUD_PASSWORD: 'secret' }
    case 'cloud.username': return { LAMBKIN_ID: 'sample-id' }
    case 'mqtt.certFile': return { LAMBKIN_MQTT_KEY_FILE: ctx.file }
    case 'mqtt.keyFile': return { LAMBKIN_MQTT_CERT_FILE: ctx.file }
    case 'cloud.certFile': return { LAMBKIN_CLOUD_KEY_FILE: ctx.file }
    case 'cloud.keyFile': return { LAMBKIN_CLOUD_CERT_FILE: ctx.file }
    default: return {}
  }
}

/** Loads, failing the test with the message when the value is refused. */
async function load (what: string, opts: Parameters<typeof loadDeviceConfig>[0]): Promise<DeviceConfig> {
  try {
    return await loadDeviceConfig(opts)
  } catch (err) {
    assert.unreachable(`${what}: ${(err as Error).message}`)
    throw err
  }
}

function get (cfg: DeviceConfig, key: string): unknown {
  const parts = key.split('.')
  let node: unknown = cfg
  for (const p of parts) node = (node as Record<string, unknown>)[p]
  return node
}

test('the schema has keys, and each has exactly one flag and one variable, all names distinct', () => {
  const keys = schemaKeys()
  assert.ok(keys.length > 60, `only ${keys.length} keys found`)
  for (const key of keys) {
    assert.is(FLAGS.filter((f) => f.key === key).length, 1, `flags for ${key}`)
    assert.is(ENV_VARS.filter((e) => e.key === key).length, 1, `variables for ${key}`)
  }
  const flags = FLAGS.map((f) => f.name)
  const envs = [...ENV_VARS, ...OTHER_ENV_VARS].map((e) => e.name)
  assert.equal(flags.filter((n, i) => flags.indexOf(n) !== i), [], 'a flag names two keys')
  assert.equal(envs.filter((n, i) => envs.indexOf(n) !== i), [], 'a variable names two keys')
  // The command's own flags are not config keys.
  for (const own of ['trust', 'quiet', 'help', 'print']) assert.not.ok(flags.includes(own), `--${own} is taken by a key`)
  for (const f of FLAGS) assert.match(f.name, /^[a-z][a-z0-9-]*$/)
  for (const e of ENV_VARS) assert.match(e.name, /^LAMBKIN_[A-Z0-9_]+$/)
})

test('names follow the key: words of the path, kebab-case flags and LAMBKIN_ upper-case variables', () => {
  assert.is(flagNameOf('brokerHost'), 'broker-host')
  assert.is(envNameOf('brokerHost'), 'LAMBKIN_BROKER_HOST')
  assert.is(flagNameOf('broker.usersFile'), 'broker-users-file')
  assert.is(envNameOf('broker.usersFile'), 'LAMBKIN_BROKER_USERS_FILE')
  assert.is(flagNameOf('outbox.ttlMs.dead-letter'), 'outbox-ttl-ms-dead-letter')
  assert.is(envNameOf('caps.memoryKiB'), 'LAMBKIN_CAPS_MEMORY_KIB')
  // The short names documented from the start stay.
  assert.is(envNameOf('dataDir'), 'LAMBKIN_DATA')
  assert.is(flagNameOf('mqtt.url'), 'mqtt')
  assert.is(envNameOf('outbox.syncIntervalMs'), 'LAMBKIN_SYNC_INTERVAL_MS')
})

test('every key set by its variable reaches the loaded config', async (ctx) => {
  for (const key of schemaKeys()) {
    const { raw, want } = sample(ctx, key, fieldAt(key) as Field)
    const name = envNameOf(key)
    const cfg = await load(`${name}=${raw}`, { env: { ...companions(ctx, key), [name]: raw }, cwd: ctx.dir })
    if (key === 'broker.usersFile') assert.equal(cfg.broker.users.map((u) => u.username), ['sensor'], name)
    assert.equal(get(cfg, key), want, name)
  }
})

test('every key set by its flag reaches the loaded config, and a flag beats the variable', async (ctx) => {
  for (const key of schemaKeys()) {
    const { raw, want } = sample(ctx, key, fieldAt(key) as Field)
    const name = flagNameOf(key)
    const env = companions(ctx, key)
    const field = fieldAt(key) as Field
    // A different, valid value in the variable: the flag must win over it.
    if (field.kind === 'int') env[envNameOf(key)] = String(field.min)
    const cfg = await load(`--${name} ${raw}`, { flags: { [name]: raw }, env, cwd: ctx.dir })
    assert.equal(get(cfg, key), want, `--${name}`)
  }
})

test('a bare boolean flag means true', async (ctx) => {
  const cfg = await loadDeviceConfig({ flags: { 'broker-allow-anonymous': true, 'cloud-upload-logs': true }, env: {}, cwd: ctx.dir })
  assert.is(cfg.broker.allowAnonymous, true)
  assert.is(cfg.cloud.uploadLogs, true)
})

test('a LAN broker by variables alone, as the image runs it: host, port and users file', async (ctx) => {
  const cfg = await loadDeviceConfig({ env: { LAMBKIN_ID: 'gh-01', LAMBKIN_BROKER_PORT: '1883', LAMBKIN_BROKER_HOST: '0.0.0.0', LAMBKIN_BROKER_USERS_FILE: ctx.users }, cwd: ctx.dir })
  assert.is(cfg.brokerHost, '0.0.0.0')
  assert.is(cfg.brokerPort, 1883)
  assert.equal(cfg.broker.users.map((u) => u.username), ['sensor'])
  // Without the users file the exposure rule refuses, naming the key.
  const err = await configFailure(loadDeviceConfig({ env: { LAMBKIN_BROKER_PORT: '1883', LAMBKIN_BROKER_HOST: '0.0.0.0' }, cwd: ctx.dir }))
  assert.match(err.message, 'broker.users')
})

test('JSON values from a variable are checked like the file\'s, and bad JSON text names the variable', async (ctx) => {
  const users = JSON.parse(fs.readFileSync(ctx.users, 'utf8')) as unknown[]
  const cfg = await loadDeviceConfig({ env: { LAMBKIN_BROKER_USERS: JSON.stringify(users) }, cwd: ctx.dir })
  assert.equal(cfg.broker.users.map((u) => u.username), ['sensor'])
  const bad = await configFailure(loadDeviceConfig({ env: { LAMBKIN_BROKER_USERS: '[{"username": "a"' }, cwd: ctx.dir }))
  assert.match(bad.message, /config key "broker\.users" must be .*written as JSON text/)
  assert.match(bad.message, 'from environment variable LAMBKIN_BROKER_USERS')
  const wrong = await configFailure(loadDeviceConfig({ flags: { 'cloud-log-exclude': '["Not A Name"]' }, env: {}, cwd: ctx.dir }))
  assert.match(wrong.message, /config key "cloud\.logExclude" must be an array of function names.*from flag --cloud-log-exclude/)
})

test('in a container the host name does not become the id: the id must be given', async (ctx) => {
  assert.is(containerMarker({}, () => false), undefined)
  assert.match(containerMarker({ container: 'podman' }, () => false) ?? '', 'container=podman')
  assert.match(containerMarker({}, (f) => f === '/.dockerenv') ?? '', '/.dockerenv')
  const err = await configFailure(loadDeviceConfig({ env: {}, cwd: ctx.dir, hostname: '3f2a9c1d7e6b', idRequired: '/.dockerenv exists' }))
  assert.match(err.message, /config key "id" is not set.*\/\.dockerenv exists.*LAMBKIN_ID/)
  const cfg = await loadDeviceConfig({ env: { LAMBKIN_ID: 'gh-01' }, cwd: ctx.dir, hostname: '3f2a9c1d7e6b', idRequired: '/.dockerenv exists' })
  assert.is(cfg.id, 'gh-01')
})

test.run()
