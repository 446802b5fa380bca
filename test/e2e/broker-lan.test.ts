// The embedded broker opened to a LAN as a user sets it up: `lambkin broker-passwd` makes a user
// entry, `lambkin device` on 0.0.0.0 refuses to start without users, and with them lets only
// that user in, within its grants. Child processes, real MQTT clients.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { runLambkin, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli/bin.js')

function setup (): { root: string, functions: string, config: (c: Record<string, unknown>) => string } {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-lan-'))
  const functions = writeFunctions(path.join(root, 'functions'), {
    double: { manifest: { triggers: [{ mqtt: '#', qos: 1 }] }, code: 'export default (e) => e.topic' }
  })
  const config = (c: Record<string, unknown>): string => {
    const file = path.join(root, 'device.json')
    writeFileSync(file, JSON.stringify({ id: 'lan', dataDir: path.join(root, 'data'), functionsDir: functions, brokerPort: 0, brokerHost: '0.0.0.0', ...c }))
    return file
  }
  return { root, functions, config }
}

test('on 0.0.0.0 without broker.users, `lambkin device` exits 1 with LAMBKIN_CONFIG_INVALID naming broker.users', async () => {
  const s = setup()
  try {
    const r = await runLambkin(['device', '--config', s.config({})])
    assert.is(r.code, 1, r.stderr)
    assert.match(r.stderr, /LAMBKIN_CONFIG_INVALID: config key "broker.users" is empty but brokerHost is 0\.0\.0\.0/)
    assert.not.match(r.stdout, 'ready')
  } finally {
    rmSync(s.root, { recursive: true, force: true })
  }
})

test('with allowAnonymous: true on 0.0.0.0 the agent starts and says loudly that the broker is open', async () => {
  const s = setup()
  let agent: LambkinProcess | undefined
  try {
    agent = startLambkin(['device', '--config', s.config({ broker: { allowAnonymous: true } })])
    await agent.waitFor('stdout', /ready/)
    assert.match(agent.stderr(), /WARNING: the embedded broker on 0\.0\.0\.0:\d+ is OPEN/)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null })
  } finally {
    await agent?.stop('SIGKILL')
    rmSync(s.root, { recursive: true, force: true })
  }
})

test('a user made by `lambkin broker-passwd` connects and triggers within its grant; a wrong password and a publish outside it do not', async () => {
  const s = setup()
  let agent: LambkinProcess | undefined
  try {
    const entry = JSON.parse(execFileSync(process.execPath, [BIN, 'broker-passwd', 'sensor-1', '--publish', 'numbers/+'], { input: 'correct horse\n', encoding: 'utf8' })) as Record<string, unknown>
    assert.equal(Object.keys(entry), ['username', 'passwordHash', 'publish', 'subscribe', 'retain'])
    assert.not.match(JSON.stringify(entry), 'correct horse')
    agent = startLambkin(['device', '--config', s.config({ broker: { users: [entry] }, metricsPort: 0 })])
    const ready = await agent.waitFor('stdout', /broker mqtt:\/\/0\.0\.0\.0:(\d+); metrics (http:\/\/\S+\/metrics)/)
    const url = `mqtt://127.0.0.1:${ready[1]}`
    const wrong = await mqtt.connectAsync(url, { reconnectPeriod: 0, username: 'sensor-1', password: 'wrong' }).then(() => 'connected', (err: { code?: number }) => err.code)
    assert.is(wrong, 4)
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, username: 'sensor-1', password: 'correct horse' })
    await c.publishAsync('numbers/kitchen', '21', { qos: 1 })
    await agent.waitFor('stderr', /\[double\] ok/)
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    c.publish('alarms/fire', 'fake', { qos: 1 })
    await closed
    c.end(true)
    const metrics = await (await fetch(ready[2] as string)).text()
    assert.match(metrics, /lambkin_broker_refused_total\{reason="bad_credentials"\} 1\b/)
    assert.match(metrics, /lambkin_broker_refused_total\{reason="publish_denied"\} 1\b/)
    assert.match(metrics, /lambkin_invocations_total\{[^}]*function="double"[^}]*\} 1\b/)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null })
    assert.equal(agent.stderr().match(/\[double\] ok/g)?.length, 1, 'only the granted publish ran the function')
  } finally {
    await agent?.stop('SIGKILL')
    rmSync(s.root, { recursive: true, force: true })
  }
})

test.run()
