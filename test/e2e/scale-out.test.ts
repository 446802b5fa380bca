// `lambkin cloud --broker --db` end to end (docs/scale-out.md): real Mosquitto with a password
// file and ACL, real PostgreSQL, cloud instances as child processes, real agents. One instance
// started before its broker is up (it waits and says so), then agents upload: every record
// stored once and acknowledged. The refusals: --broker without --db, bad broker credentials.
import { pgSuite } from '../helpers/pg-suite.js'
import * as assert from 'uvu/assert'
import { freePort } from '../helpers/brokers.js'
import { until } from './fixtures/deploy-world.js'
import { runLambkin } from './fixtures/lambkin-process.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Agent } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'
import { generateKeys } from '../../src/bundle/index.js'
import { AGENT_CONFIG, jsonLines } from './fixtures/deploy-world.js'
import { CLOUD_USER, scaleOutWorld, storedPerDevice } from './fixtures/scale-out-world.js'

const pg = pgSuite('cloud on an external broker', { mosquitto: true })
const { test, realTest } = pg

realTest('--broker without --db postgres:// is refused with LAMBKIN_USAGE; credentials the broker refuses stop the start with LAMBKIN_CONFIG_INVALID', async () => {
  const noDb = await runLambkin(['cloud', '--data', '/tmp/lambkin-never-made', '--broker', 'mqtt://u:p@127.0.0.1:1'], { env: { LAMBKIN_DB_URL: '' } })
  assert.is.not(noDb.code, 0)
  assert.match(noDb.stderr, /LAMBKIN_USAGE.*--broker \(LAMBKIN_BROKER_URL\) needs --db postgres:\/\//)
  const env = await runLambkin(['cloud', '--data', '/tmp/lambkin-never-made'], { env: { LAMBKIN_BROKER_URL: 'mqtt://u:p@127.0.0.1:1', LAMBKIN_DB_URL: '' } })
  assert.match(env.stderr, /LAMBKIN_USAGE/)
  const w = await scaleOutWorld(pg.server)
  try {
    const bad = await runLambkin(['cloud', '--data', `${w.root}/bad`, '--api-port', '0', '--broker', `mqtt://${CLOUD_USER}:wrong@127.0.0.1:${w.mosquitto.port}`, '--db', w.dbUrl])
    assert.is.not(bad.code, 0)
    assert.match(bad.stderr, /LAMBKIN_CONFIG_INVALID.*refused the cloud's credentials/)
    assert.not.match(bad.stderr, /wrong/, 'the password is never printed')
  } finally {
    await w.cleanup()
  }
})

realTest('one instance on Mosquitto and PostgreSQL: started before the broker, it waits; agents upload and every record is stored once and acknowledged', async () => {
  const port = await freePort()
  const w = await scaleOutWorld(pg.server, { mosquittoPort: port, startMosquitto: false })
  try {
    const a = await w.startCloud('a')
    await a.proc.waitFor('stderr', /LAMBKIN_BROKER_UNAVAILABLE: the broker mqtt:\/\/lambkin-cloud@127\.0\.0\.1:\d+.*trying again every 1 s/)
    assert.not.match(a.proc.stderr(), /cloud-secret-for-tests/, 'the password is never logged')
    const health = await fetch(`${a.api}/v1/health`)
    assert.is(health.status, 200, 'the API answers while the broker is away')
    await (w as unknown as { startMosquitto: () => Promise<void> }).startMosquitto()
    await a.proc.waitFor('stderr', /connected to the broker .* as lambkin-cloud-[0-9a-f]{12}; taking device uploads from \$share\/lambkin-cloud\/lambkin\/v1\/\+\/up\/\+/, 30_000)
    const ids = ['ext-1', 'ext-2', 'ext-3']
    const N = 400
    await w.startAgents(await w.addDevices(ids), N)
    await until('every record stored', async () => {
      const s = await storedPerDevice(w)
      return ids.every((id) => s.get(id)?.distinct === N)
    }, 60_000)
    const s = await storedPerDevice(w)
    for (const id of ids) assert.equal(s.get(id), { rows: N, distinct: N, min: 1, max: N }, id)
    await until('the agents to hear their acks', async () => {
      const hw = await w.sql<{ hw: string }>('SELECT min(high_water) AS hw FROM lambkin.streams')
      return Number(hw[0].hw) >= N
    })
    const status = await (await fetch(`${a.api}/v1/status`, { headers: { authorization: `Bearer ${w.token()}` } })).json() as { cloud: { broker: { mode: string, up: boolean, uploads: number } } }
    assert.equal([status.cloud.broker.mode, status.cloud.broker.up], ['external', true])
    assert.ok(status.cloud.broker.uploads > 0)
    const devices = await (await fetch(`${a.api}/v1/devices`, { headers: { authorization: `Bearer ${w.token()}` } })).json() as { devices: Array<{ id: string, state: string }> }
    assert.equal(devices.devices.map((d) => d.state), ['online', 'online', 'online'], 'presence from status and heartbeats')
    assert.is(await w.leftInOutboxes(), 0, 'every record acknowledged: none left on the devices')
  } finally {
    await w.cleanup()
  }
})

realTest('through the external broker: a deploy is applied (signed desired state, bundle fetched) and a remote invoke answers, on the same code paths as the embedded broker', async () => {
  const w = await scaleOutWorld(pg.server)
  let agent: Agent | undefined
  try {
    const key = generateKeys(path.join(w.root, 'keys'))
    const a = await w.startCloud('a', ['--trust', key.publicFile])
    const secrets = await w.addDevices(['dep-1'])
    const dir = path.join(w.root, 'dev')
    mkdirSync(path.join(dir, 'functions'), { recursive: true })
    const file = path.join(dir, 'device.json')
    writeFileSync(file, JSON.stringify({ id: 'dep-1', dataDir: path.join(dir, 'data'), functionsDir: path.join(dir, 'functions'), trustedKeys: [key.publicFile, path.join(a.dataDir, 'cloud-signing.pub')], ...AGENT_CONFIG, cloud: { url: `mqtt://127.0.0.1:${w.mosquitto.port}`, password: secrets.get('dep-1'), heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 500 } }))
    agent = await Agent.create(await loadDeviceConfig({ file, env: {} }))
    const fn = path.join(w.root, 'fns', 'double')
    mkdirSync(fn, { recursive: true })
    writeFileSync(path.join(fn, 'function.json'), JSON.stringify({ name: 'double' }))
    writeFileSync(path.join(fn, 'index.js'), 'export default (e) => ({ twice: (e.n ?? 0) * 2 })')
    const env = { LAMBKIN_API: a.api, LAMBKIN_TOKEN: w.token(), LAMBKIN_KEY: key.privateFile }
    await until('the device online', async () => /dep-1\s+online/.test((await runLambkin(['status'], { env })).stdout), 30_000)
    const r = await runLambkin(['deploy', fn, '--to', 'dep-1', '--json'], { env, timeoutMs: 120_000 })
    assert.is(r.code, 0, r.stderr + r.stdout)
    const end = jsonLines(r.stdout).pop()
    assert.equal([end?.event, end?.ok, end?.state], ['end', true, 'done'])
    assert.ok(agent.functionNames.includes('double'), 'the agent runs the deployed function')
    const inv = await runLambkin(['invoke', '--device', 'dep-1', 'double', '--event', '{"n":21}', '--json'], { env })
    assert.is(inv.code, 0, inv.stderr + inv.stdout)
    assert.match(inv.stdout, /"twice":\s*42/)
  } finally {
    await agent?.close()
    await w.cleanup()
  }
})

test.run()
