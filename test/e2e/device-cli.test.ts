// `lambkin device` as a user runs it: a child process on its own embedded broker, real MQTT
// clients, SIGTERM to stop, and `lambkin outbox` to see what it kept; plus start-up errors.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

function tempRoot (): string {
  return mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-device-'))
}

test('a QoS 1 message on the embedded broker runs the function; after SIGTERM the outbox holds its result', async () => {
  const root = tempRoot()
  const data = path.join(root, 'data')
  const functions = writeFunctions(path.join(root, 'functions'), {
    double: {
      manifest: { triggers: [{ mqtt: 'numbers/+', qos: 1 }] },
      code: 'export default (e) => ({ room: e.topic.split("/")[1], doubled: e.payload.n * 2 })'
    }
  })
  let agent: LambkinProcess | undefined
  let client: mqtt.MqttClient | undefined
  try {
    agent = startLambkin(['device', '--id', 'e2e-one', '--data', data, '--functions', functions, '--broker-port', '0', '--metrics-port', '0'])
    const ready = await agent.waitFor('stdout', /lambkin device e2e-one ready: functions double; broker mqtt:\/\/127\.0\.0\.1:(\d+); metrics (http:\/\/\S+\/metrics)/)
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ready[1]}`, { reconnectPeriod: 0 })
    await client.publishAsync('numbers/kitchen', JSON.stringify({ n: 21 }), { qos: 1 })
    await agent.waitFor('stderr', /\[double\] ok \d/)

    const metrics = await (await fetch(ready[2] as string)).text()
    assert.match(metrics, /lambkin_invocations_total\{[^}]*function="double"[^}]*\} 1\b/)

    await client.endAsync()
    client = undefined
    const exit = await agent.stop('SIGTERM')
    assert.equal(exit, { code: 0, signal: null }, agent.stderr())
    assert.match(agent.stderr(), 'lambkin device e2e-one stopped')

    const { records } = await readOutbox(data)
    const results = records.filter((r) => r.kind === 'result' && r.fn === 'double')
    assert.is(results.length, 1)
    assert.equal(results[0].data.result, { room: 'kitchen', doubled: 42 })
    assert.is(results[0].data.source, 'mqtt')
  } finally {
    await client?.endAsync(true)
    await agent?.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test('a failing invocation prints CODE: message on stderr and keeps running', async () => {
  const root = tempRoot()
  const functions = writeFunctions(path.join(root, 'functions'), {
    picky: {
      manifest: { triggers: [{ mqtt: 'picky', qos: 1 }] },
      code: 'export default (e) => { if (e.payload !== "ok") throw new Error("wants ok, got " + e.payload); return 1 }'
    }
  })
  let agent: LambkinProcess | undefined
  let client: mqtt.MqttClient | undefined
  try {
    agent = startLambkin(['device', '--id', 'e2e-two', '--data', path.join(root, 'data'), '--functions', functions, '--broker-port', '0'])
    const ready = await agent.waitFor('stdout', /broker mqtt:\/\/127\.0\.0\.1:(\d+)/)
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ready[1]}`, { reconnectPeriod: 0 })
    await client.publishAsync('picky', 'nope', { qos: 1 })
    await agent.waitFor('stderr', /\[picky\] LAMBKIN_FUNCTION_ERROR: .*wants ok, got nope/)
    await client.publishAsync('picky', 'ok', { qos: 1 })
    await agent.waitFor('stderr', /\[picky\] ok /)
    assert.equal(await agent.stop('SIGINT'), { code: 0, signal: null })
  } finally {
    await client?.endAsync(true)
    await agent?.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test('a bad key in the config file stops start-up: exit 1 with LAMBKIN_CONFIG_INVALID naming it', async () => {
  const root = tempRoot()
  try {
    const file = path.join(root, 'device.json')
    writeFileSync(file, JSON.stringify({ id: 'e2e-three', dataDir: './data', outbox: { syncIntervalMS: 100 } }))
    const r = await runLambkin(['device', '--config', file])
    assert.is(r.code, 1, r.stderr)
    assert.match(r.stderr, /^LAMBKIN_CONFIG_INVALID: .*"outbox\.syncIntervalMS"/m)
    assert.not.match(r.stdout, 'ready')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('a config file\'s quoted number and a non-array broker.users are refused once, saying what is wrong', async () => {
  const root = tempRoot()
  try {
    const file = path.join(root, 'device.json')
    writeFileSync(file, JSON.stringify({ id: 'e2e-four', dataDir: './data', outbox: { writeBufferKiB: '1024' } }))
    const quoted = await runLambkin(['device', '--config', file])
    assert.is(quoted.code, 1, quoted.stderr)
    assert.match(quoted.stderr, /^LAMBKIN_CONFIG_INVALID: config key "outbox\.writeBufferKiB" must be an integer between 64 and 65536, got "1024" \(a JSON string: write it without quotes\)/m)
    writeFileSync(file, JSON.stringify({ id: 'e2e-four', dataDir: './data', broker: { users: { admin: {} } } }))
    const users = await runLambkin(['device', '--config', file])
    assert.is(users.code, 1, users.stderr)
    assert.match(users.stderr, /^LAMBKIN_CONFIG_INVALID: config key "broker\.users" must be an array of \{ username, passwordHash, publish, subscribe, retain \} \(in config file /m)
    assert.not.match(users.stderr, 'retain }: must be')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('lambkin cloud\'s variables in the same shell (LAMBKIN_DB_URL, LAMBKIN_BROKER_URL, ...) are not refused as typos', async () => {
  const root = tempRoot()
  let agent: LambkinProcess | undefined
  try {
    const env = { LAMBKIN_DB_URL: 'postgres://lambkin@127.0.0.1:5432/lambkin', LAMBKIN_RETENTION_DAYS: '7', LAMBKIN_BROKER_URL: 'mqtt://127.0.0.1:1883', LAMBKIN_BROKER_ADMIN: 'mqtt://127.0.0.1:1883', LAMBKIN_SIGNING_KEY: './cloud-signing.key' }
    mkdirSync(path.join(root, 'functions'))
    agent = startLambkin(['device', '--id', 'e2e-five', '--data', path.join(root, 'data'), '--functions', path.join(root, 'functions'), '--broker-port', '0'], { env })
    await agent.waitFor('stdout', /lambkin device e2e-five ready/)
    assert.equal(await agent.stop('SIGINT'), { code: 0, signal: null })
  } finally {
    await agent?.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test('a bad flag value is LAMBKIN_CONFIG_INVALID naming the key and the flag', async () => {
  const r = await runLambkin(['device', '--broker-port', 'lots'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /^LAMBKIN_CONFIG_INVALID: .*"brokerPort".*--broker-port/m)
})

test('bad usage exits 2 with the usage, flags and environment variables', async () => {
  const r = await runLambkin(['device', '--brokerport', '1883'])
  assert.is(r.code, 2)
  assert.match(r.stderr, /^LAMBKIN_USAGE: unknown option '--brokerport'/m)
  assert.match(r.stderr, 'usage: lambkin device')
  assert.match(r.stderr, 'LAMBKIN_MQTT_URL')
  const help = await runLambkin(['device', '--help'])
  assert.is(help.code, 0)
  assert.match(help.stdout, '--broker-port <n>')
})

test.run()
