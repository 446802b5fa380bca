// Loading the agent's configuration from real files, env maps and parseArgs-style flags:
// precedence, relative paths, and errors that name the key and where the value came from.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DEVICE_DEFAULTS, loadDeviceConfig } from '../../../device/config/index.js'
import type { LoadDeviceConfigOptions } from '../../../device/config/index.js'
import { configFailure } from '../../helpers/config.js'

interface Ctx { dir: string, cwd: string }
const test = suite<Ctx>('device config', {} as Ctx)

test.before.each((ctx) => {
  ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
  ctx.cwd = path.join(ctx.dir, 'work')
  fs.mkdirSync(ctx.cwd)
})
test.after.each((ctx) => { fs.rmSync(ctx.dir, { recursive: true, force: true }) })

function writeJson (file: string, value: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value))
  return file
}

/** Loads with an empty env and an x64 arch unless given, so the machine's own LAMBKIN_* and ARM profile never leak in. */
const load = async (ctx: Ctx, opts: LoadDeviceConfigOptions = {}): ReturnType<typeof loadDeviceConfig> =>
  await loadDeviceConfig({ env: {}, cwd: ctx.cwd, hostname: 'pi-test', arch: 'x64', ...opts })

test('with nothing given, every key has its safe default and paths resolve against the cwd', async (ctx) => {
  const cfg = await load(ctx, { hostname: 'Green House_7.local' })
  assert.is(cfg.id, 'green-house_7')
  assert.is(cfg.dataDir, path.join(ctx.cwd, '.lambkin', 'data'))
  assert.is(cfg.functionsDir, path.join(ctx.cwd, 'functions'))
  assert.is(cfg.layersDir, undefined)
  assert.equal(cfg.mqtt, { rejectUnauthorized: true, keepaliveSec: 30, reconnectMs: 1000, protocolVersion: 5, maxPacketBytes: 1_048_576, clientId: 'lambkin-green-house_7' })
  assert.is(cfg.brokerPort, undefined)
  assert.is(cfg.metricsPort, undefined)
  assert.is(cfg.metricsHost, '127.0.0.1')
  assert.equal(cfg.outbox, { quotaBytes: 64 * 1024 * 1024, syncIntervalMs: 200, ttlMs: {}, writeBufferKiB: 4096 })
  assert.equal(cfg.invocation, { maxConcurrent: 256, queueDepth: 1000, workers: 2, drainTimeoutMs: 10_000, maxHops: 16 })
  assert.equal(cfg.caps, { memoryKiB: 262_144, timeoutMs: 900_000, instructions: 1e12, concurrency: 64, stackKiB: 512 })
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.outbox.ttlMs), 'the loaded config cannot be changed by accident')
  assert.ok(Object.isFrozen(DEVICE_DEFAULTS) && Object.isFrozen(DEVICE_DEFAULTS.caps))
})

test('precedence: defaults < config file < LAMBKIN_* env < flags', async (ctx) => {
  const file = writeJson(path.join(ctx.dir, 'device.json'), {
    id: 'from-file',
    metricsPort: 9100,
    outbox: { syncIntervalMs: 500, quotaBytes: 8 * 1024 * 1024 },
    invocation: { workers: 4 },
    mqtt: { url: 'mqtt://file-broker:1883', keepaliveSec: 60 }
  })
  const cfg = await load(ctx, {
    file,
    env: { LAMBKIN_ID: 'from-env', LAMBKIN_SYNC_INTERVAL_MS: '300', LAMBKIN_MQTT_URL: 'mqtts://env-broker:8883', HOME: '/root' },
    flags: { id: 'from-flag', 'metrics-port': '9200' }
  })
  assert.is(cfg.id, 'from-flag')
  assert.is(cfg.mqtt.clientId, 'lambkin-from-flag', 'the client id follows the final device id')
  assert.is(cfg.metricsPort, 9200)
  assert.is(cfg.outbox.syncIntervalMs, 300)
  assert.is(cfg.outbox.quotaBytes, 8 * 1024 * 1024)
  assert.is(cfg.invocation.workers, 4)
  assert.is(cfg.invocation.queueDepth, 1000, 'keys a file leaves out keep their defaults')
  assert.is(cfg.mqtt.url, 'mqtts://env-broker:8883')
  assert.is(cfg.mqtt.keepaliveSec, 60)
})

test('the config file comes from --config, else LAMBKIN_CONFIG, else the file option', async (ctx) => {
  const a = writeJson(path.join(ctx.dir, 'a.json'), { id: 'a' })
  const b = writeJson(path.join(ctx.dir, 'b.json'), { id: 'b' })
  writeJson(path.join(ctx.cwd, 'c.json'), { id: 'c' })
  assert.is((await load(ctx, { file: a })).id, 'a')
  assert.is((await load(ctx, { file: a, env: { LAMBKIN_CONFIG: b } })).id, 'b')
  assert.is((await load(ctx, { file: a, env: { LAMBKIN_CONFIG: b }, flags: { config: 'c.json' } })).id, 'c', '--config is relative to the cwd')
})

test('relative paths in a file resolve against its folder; from env and flags against the cwd', async (ctx) => {
  const etc = path.join(ctx.dir, 'etc', 'lambkin')
  fs.writeFileSync(path.join(ctx.dir, 'ca.pem'), 'not checked for content')
  const file = writeJson(path.join(etc, 'device.json'), {
    dataDir: '../../var/data',
    functionsDir: 'fns',
    layersDir: '/opt/layers',
    mqtt: { url: 'mqtts://broker:8883', caFile: '../../ca.pem' }
  })
  const fromFile = await load(ctx, { file })
  assert.is(fromFile.dataDir, path.join(ctx.dir, 'var', 'data'))
  assert.is(fromFile.functionsDir, path.join(etc, 'fns'))
  assert.is(fromFile.layersDir, '/opt/layers')
  assert.is(fromFile.mqtt.caFile, path.join(ctx.dir, 'ca.pem'))
  const overridden = await load(ctx, { file, env: { LAMBKIN_FUNCTIONS: 'my-fns' }, flags: { data: './d' } })
  assert.is(overridden.functionsDir, path.join(ctx.cwd, 'my-fns'))
  assert.is(overridden.dataDir, path.join(ctx.cwd, 'd'))
})

test('a bad env value names the key, the rule, the value and the variable', async (ctx) => {
  const err = await configFailure(load(ctx, { env: { LAMBKIN_SYNC_INTERVAL_MS: 'abc' } }))
  assert.match(err.message, 'config key "outbox.syncIntervalMs" must be an integer between 10 and 60000 in plain decimal digits, got "abc"')
  assert.match(err.message, 'environment variable LAMBKIN_SYNC_INTERVAL_MS')
  assert.is(err.details.key, 'outbox.syncIntervalMs')
  assert.is(err.details.source, 'LAMBKIN_SYNC_INTERVAL_MS')
  for (const [name, value, key] of [
    ['LAMBKIN_SYNC_INTERVAL_MS', '5', 'outbox.syncIntervalMs'],
    ['LAMBKIN_SYNC_INTERVAL_MS', '20.5', 'outbox.syncIntervalMs'],
    ['LAMBKIN_OUTBOX_QUOTA_BYTES', '1000', 'outbox.quotaBytes'],
    ['LAMBKIN_BROKER_PORT', '-1', 'brokerPort'],
    ['LAMBKIN_ID', 'Has Spaces', 'id'],
    ['LAMBKIN_ID', '-leading-dash', 'id'],
    ['LAMBKIN_ID', 'x'.repeat(64), 'id'],
    ['LAMBKIN_MQTT_URL', 'http://broker', 'mqtt.url'],
    ['LAMBKIN_MQTT_URL', 'not a url', 'mqtt.url']
  ] as const) {
    const e = await configFailure(load(ctx, { env: { [name]: value } }))
    assert.is(e.details.key, key, `${name}=${value}`)
    assert.match(e.message, name)
  }
})

test('a bad file value names the file; files must use the JSON type itself', async (ctx) => {
  const file = writeJson(path.join(ctx.dir, 'device.json'), { outbox: { syncIntervalMs: '200' } })
  const err = await configFailure(load(ctx, { file }))
  assert.match(err.message, 'config key "outbox.syncIntervalMs" must be an integer between 10 and 60000, got "200"')
  assert.match(err.message, `config file ${file}`)
  assert.is(err.details.source, file)
  const cases: Array<[unknown, string]> = [
    [{ mqtt: { rejectUnauthorized: 'false' } }, 'mqtt.rejectUnauthorized'],
    [{ caps: { memoryKiB: 1024 } }, 'caps.memoryKiB'],
    [{ caps: { stackKiB: 4096 } }, 'caps.stackKiB'],
    [{ invocation: { workers: 0 } }, 'invocation.workers'],
    [{ outbox: { ttlMs: { log: -1 } } }, 'outbox.ttlMs.log'],
    [{ outbox: { ttlMs: { 'dead-letter': 1.5 } } }, 'outbox.ttlMs.dead-letter'],
    [{ metricsHost: 'has space' }, 'metricsHost'],
    [{ dataDir: '' }, 'dataDir'],
    [{ brokerPort: null }, 'brokerPort'],
    [{ outbox: 5 }, 'outbox']
  ]
  for (const [body, key] of cases) {
    writeJson(file, body)
    const e = await configFailure(load(ctx, { file }))
    assert.is(e.details.key, key, JSON.stringify(body))
  }
})

test('a bad flag names the flag; a bare flag without a value is refused', async (ctx) => {
  const err = await configFailure(load(ctx, { flags: { 'metrics-port': '70000' } }))
  assert.match(err.message, 'config key "metricsPort" must be an integer between 0 and 65535, got "70000" (from flag --metrics-port)')
  const bare = await configFailure(load(ctx, { flags: { id: true } }))
  assert.match(bare.message, '--id')
  assert.is(bare.details.key, 'id')
})

test('secrets are not echoed: a bad password is hidden, URL credentials are masked', async (ctx) => {
  const e1 = await configFailure(load(ctx, { env: { LAMBKIN_MQTT_URL: 'http://user:hunter2@broker' } }))
  assert.not.match(e1.message, 'hunter2')
  assert.not.match(e1.message, 'user')
  assert.match(e1.message, 'a URL with credentials (not shown)')
  // A password holding "@" or ":" as typed: everything up to the last "@" goes.
  const e3 = await configFailure(load(ctx, { env: { LAMBKIN_MQTT_URL: 'http://user:p@ss:w@broker/x' } }))
  assert.not.match(e3.message, 'p@ss')
  assert.match(e3.message, 'a URL with credentials (not shown)')
  const file = writeJson(path.join(ctx.dir, 'device.json'), { cloud: { password: 'p'.repeat(2000) } })
  const e2 = await configFailure(load(ctx, { file }))
  assert.is(e2.details.key, 'cloud.password')
  assert.not.match(e2.message, 'ppp')
})

test('env and flag strings are parsed: integers, booleans, ports', async (ctx) => {
  const file = writeJson(path.join(ctx.dir, 'device.json'), { mqtt: { rejectUnauthorized: false } })
  const cfg = await load(ctx, {
    file,
    env: { LAMBKIN_BROKER_PORT: ' 0 ', LAMBKIN_OUTBOX_QUOTA_BYTES: '1000000000', LAMBKIN_MQTT_USERNAME: 'dev', LAMBKIN_MQTT_PASSWORD: 's3cret' }
  })
  assert.is(cfg.brokerPort, 0)
  assert.is(cfg.outbox.quotaBytes, 1e9)
  assert.is(cfg.mqtt.rejectUnauthorized, false)
  assert.is(cfg.mqtt.username, 'dev')
  assert.is(cfg.mqtt.password, 's3cret')
})

test('empty variables and non-config flags are ignored; LAMBKIN_WASM_TRAP_HANDLER is known', async (ctx) => {
  const cfg = await load(ctx, {
    env: { LAMBKIN_ID: '', LAMBKIN_METRICS_PORT: '', LAMBKIN_NOT_A_THING: '', LAMBKIN_WASM_TRAP_HANDLER: 'on', PATH: '/bin' },
    flags: { json: true, verbose: 'yes', id: undefined, brokerPort: '1884' }
  })
  assert.is(cfg.id, 'pi-test')
  assert.is(cfg.metricsPort, undefined)
  assert.is(cfg.brokerPort, 1884, 'the camelCase spelling of a flag works too')
})

test('the small-RAM profile (LAMBKIN_MEMORY=small, the default on ARM) defaults to one sandbox thread; the config file still decides', async (ctx) => {
  assert.is((await load(ctx, { arch: 'x64' })).invocation.workers, DEVICE_DEFAULTS.invocation.workers)
  assert.is((await load(ctx, { arch: 'arm64' })).invocation.workers, 1)
  assert.is((await load(ctx, { arch: 'arm64', env: { LAMBKIN_MEMORY: 'node' } })).invocation.workers, DEVICE_DEFAULTS.invocation.workers)
  assert.is((await load(ctx, { arch: 'x64', env: { LAMBKIN_MEMORY: 'small' } })).invocation.workers, 1)
  const file = writeJson(path.join(ctx.dir, 'device.json'), { invocation: { workers: 3 } })
  const cfg = await load(ctx, { env: { LAMBKIN_MEMORY: 'small' }, flags: { config: file } })
  assert.is(cfg.invocation.workers, 3)
  assert.is(cfg.invocation.maxConcurrent, DEVICE_DEFAULTS.invocation.maxConcurrent)
})

test('the small-RAM profile takes 64 client publishes at once on the embedded broker instead of 256; the config file still decides', async (ctx) => {
  assert.is((await load(ctx, { arch: 'x64' })).broker.maxTaken, 256)
  assert.is((await load(ctx, { arch: 'arm64' })).broker.maxTaken, 64)
  assert.is((await load(ctx, { arch: 'arm', env: { LAMBKIN_MEMORY: 'node' } })).broker.maxTaken, 256)
  const file = writeJson(path.join(ctx.dir, 'device.json'), { broker: { maxTaken: 500 } })
  const cfg = await load(ctx, { env: { LAMBKIN_MEMORY: 'small' }, flags: { config: file } })
  assert.is(cfg.broker.maxTaken, 500)
  assert.is(cfg.broker.maxConnections, DEVICE_DEFAULTS.broker.maxConnections, 'the profile leaves the other broker keys alone')
  const zero = await configFailure(load(ctx, { env: { LAMBKIN_BROKER_MAX_TAKEN: '0' } }))
  assert.match(zero.message, 'broker.maxTaken')
})

test('the small-RAM profile gives LevelDB a 1 MiB write buffer instead of 4; the config file and the variable still decide', async (ctx) => {
  assert.is((await load(ctx, { arch: 'x64' })).outbox.writeBufferKiB, 4096)
  assert.is((await load(ctx, { arch: 'arm64' })).outbox.writeBufferKiB, 1024)
  assert.is((await load(ctx, { arch: 'arm', env: { LAMBKIN_MEMORY: 'node' } })).outbox.writeBufferKiB, 4096)
  const file = writeJson(path.join(ctx.dir, 'device.json'), { outbox: { writeBufferKiB: 2048 } })
  const cfg = await load(ctx, { env: { LAMBKIN_MEMORY: 'small' }, flags: { config: file } })
  assert.is(cfg.outbox.writeBufferKiB, 2048)
  assert.is(cfg.outbox.syncIntervalMs, DEVICE_DEFAULTS.outbox.syncIntervalMs, 'the profile leaves the other outbox keys alone')
  assert.is((await load(ctx, { arch: 'arm64', env: { LAMBKIN_OUTBOX_WRITE_BUFFER_KIB: '8192' } })).outbox.writeBufferKiB, 8192)
  const tiny = await configFailure(load(ctx, { env: { LAMBKIN_OUTBOX_WRITE_BUFFER_KIB: '32' } }))
  assert.match(tiny.message, 'outbox.writeBufferKiB')
})

// Trial 3: the deploy walk-through (docs/deploy.md) exports LAMBKIN_KEY (the operator's signing key) in the
// same shell that starts the agent; the agent refused to start, taking it for a typo.
test('the operator commands\' variables (LAMBKIN_API, LAMBKIN_TOKEN, LAMBKIN_KEY) are not refused', async (ctx) => {
  const cfg = await load(ctx, { env: { LAMBKIN_API: 'http://127.0.0.1:8080', LAMBKIN_TOKEN: 't', LAMBKIN_KEY: './keys/lambkin.key' } })
  assert.is(cfg.id, 'pi-test')
})

// docs/device.md, "Every key by flag and variable": a misspelled variable used to be ignored, leaving the default silently in force.
test('an unknown LAMBKIN_* variable is refused like an unknown key, with the nearest name', async (ctx) => {
  const e = await configFailure(load(ctx, { env: { LAMBKIN_BROKER_PROT: '1883' } }))
  assert.match(e.message, 'environment variable LAMBKIN_BROKER_PROT is not a known variable; did you mean "LAMBKIN_BROKER_PORT"? Known variables: LAMBKIN_CONFIG, ')
  assert.is(e.details.key, 'LAMBKIN_BROKER_PROT')
  assert.is(e.details.sourceKind, 'env')
  assert.match((await configFailure(load(ctx, { env: { lambkin_id: 'x', LAMBKIN_Id: 'pi' } }))).message, 'did you mean "LAMBKIN_ID"?')
  const far = await configFailure(load(ctx, { env: { LAMBKIN_NOT_A_THING: 'x' } }))
  assert.not.match(far.message, 'did you mean')
})

// docs/device.md, integers are plain decimal digits: Number() read "1e3" as 1000, "0x50" as 80 and "" as 0.
test('integers from env and flags are plain decimal digits only', async (ctx) => {
  for (const value of ['1e3', '0x50', '8.0', '+5', '1_000', '0b1', '١٢']) {
    const e = await configFailure(load(ctx, { env: { LAMBKIN_BROKER_PORT: value } }))
    assert.is(e.details.key, 'brokerPort', value)
    assert.match(e.message, `must be an integer between 0 and 65535 in plain decimal digits, got "${value}"`)
  }
  await configFailure(load(ctx, { flags: { 'metrics-port': '9e3' } }))
  await configFailure(load(ctx, { env: { LAMBKIN_OUTBOX_QUOTA_BYTES: '1e9' } }))
  assert.is((await load(ctx, { env: { LAMBKIN_BROKER_PORT: '01883' } })).brokerPort, 1883)
})

test('TLS files must exist, and a client certificate needs its key', async (ctx) => {
  const missing = await configFailure(load(ctx, { env: { LAMBKIN_MQTT_URL: 'mqtts://b:8883' }, file: writeJson(path.join(ctx.dir, 'd.json'), { mqtt: { caFile: 'nope.pem' } }) }))
  assert.is(missing.details.key, 'mqtt.caFile')
  assert.match(missing.message, path.join(ctx.dir, 'nope.pem'))
  assert.match(missing.message, 'ENOENT')
  fs.writeFileSync(path.join(ctx.dir, 'cert.pem'), 'x')
  const half = await configFailure(load(ctx, { file: writeJson(path.join(ctx.dir, 'd.json'), { cloud: { certFile: 'cert.pem' } }) }))
  assert.is(half.details.key, 'cloud.certFile')
  assert.match(half.message, '"cloud.keyFile" is not')
})

test('the metrics server and the embedded broker cannot share a port', async (ctx) => {
  const err = await configFailure(load(ctx, { env: { LAMBKIN_BROKER_PORT: '1883' }, flags: { 'metrics-port': '1883' } }))
  assert.is(err.details.key, 'metricsPort')
  assert.match(err.message, '--metrics-port')
  const both0 = await load(ctx, { env: { LAMBKIN_BROKER_PORT: '0', LAMBKIN_METRICS_PORT: '0' } })
  assert.is(both0.metricsPort, 0, 'two ephemeral ports never clash')
})

test.run()
