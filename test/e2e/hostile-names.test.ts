// Names that are also Object.prototype's own (`constructor`, `__proto__`, `toString`,
// `hasOwnProperty`) as a device, group, function, layer, env key and metric name, through a
// real `lambkin cloud`, a real `lambkin device` and the operator commands. Every map keyed by
// such a name is a Map or a null-prototype object (docs/cloud.md, "What the cloud refuses, and why").
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import { encodeFrame, upTopic } from '../../src/wire/index.js'
import { cloudKeyFile, deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty']

let w: DeployWorld
let agent: LambkinProcess | undefined

test.before(async () => {
  w = await deployWorld()
})

test.after(async () => {
  await agent?.stop('SIGTERM')
  await w?.cleanup()
})

/** `lambkin <args> --json`, parsed; fails the test on a non-zero exit. */
async function json<T> (args: string[]): Promise<T> {
  const r = await w.lambkin([...args, '--json'])
  assert.is(r.code, 0, `lambkin ${args.join(' ')}: ${r.stderr}${r.stdout}`)
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as T
}

test('a device, group, function and layer named constructor, with env keys named after Object.prototype, run, deploy twice and report metrics', async () => {
  const secret = await w.addDevice('constructor', 'constructor')
  const dir = path.join(w.root, 'board')
  const functionsDir = path.join(dir, 'functions')
  mkdirSync(path.join(functionsDir, 'layers', 'constructor'), { recursive: true })
  writeFileSync(path.join(functionsDir, 'layers', 'constructor', 'index.js'), 'export const tag = "layer"\n')
  mkdirSync(path.join(functionsDir, 'constructor'), { recursive: true })
  const env = Object.fromEntries(NAMES.map((n, i) => [n, `v${i}`]))
  // JSON.stringify writes "__proto__" as an own key, as a user's function.json would.
  writeFileSync(path.join(functionsDir, 'constructor', 'function.json'), JSON.stringify({ name: 'constructor', env, layers: ['constructor'] }))
  writeFileSync(path.join(functionsDir, 'constructor', 'index.js'), 'import { tag } from "constructor"\nexport default (e, ctx) => ({ local: true, tag, env: ctx.env, own: Object.keys(ctx.env).sort() })\n')
  const configFile = path.join(dir, 'device.json')
  writeFileSync(configFile, JSON.stringify({
    id: 'constructor',
    dataDir: path.join(dir, 'data'),
    functionsDir,
    trustedKeys: [w.key.publicFile, cloudKeyFile(w.root)],
    metricsSnapshotMs: 1000,
    invocation: { workers: 1 },
    deploy: { healthWindowMs: 0 },
    cloud: { url: w.brokerUrl, password: secret, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 500 }
  }))
  agent = startLambkin(['device', '--config', configFile])
  await agent.waitFor('stdout', /lambkin device constructor ready/)
  // The first cloud connect sends the status and the report naming the local function.
  await until('the board to be online', async () => (await w.api<{ state: string }>('GET', '/v1/devices/constructor')).body.state === 'online')

  const local = await json<{ ok: boolean, result: { local: boolean, tag: string, env: Record<string, string>, own: string[] } }>(['invoke', '--device', 'constructor', 'constructor'])
  assert.is(local.ok, true)
  assert.is(local.result.tag, 'layer')
  assert.equal(local.result.own, [...NAMES].sort())
  // In the sandbox every key is the env's own; on the way back cbor-x renames a "__proto__"
  // map key to "__proto_" (its prototype guard), so the names travel as values too.
  const got = new Map(Object.entries(local.result.env))
  for (const n of ['constructor', 'toString', 'hasOwnProperty']) assert.is(got.get(n), env[n], n)
  assert.is(got.get('__proto_'), Object.getOwnPropertyDescriptor(env, '__proto__')?.value)

  // Deployed over the local one, twice: the second deployment must apply too.
  for (const v of [1, 2]) {
    const fn = w.fn('constructor', `export default () => ({ v: ${v} })`)
    const r = await w.lambkin(['deploy', fn, '--to', 'group:constructor', '--timeout', '30'])
    assert.is(r.code, 0, `deploy v${v}: ${r.stderr}`)
    const ran = await json<{ ok: boolean, result: { v: number } }>(['invoke', '--device', 'constructor', 'constructor'])
    assert.equal(ran.result, { v })
  }

  await until('a metric snapshot naming constructor', async () => {
    const m = await w.api<{ functions: Record<string, { invocations: number }> }>('GET', '/v1/devices/constructor/metrics')
    return m.status === 200 && (new Map(Object.entries(m.body.functions)).get('constructor')?.invocations ?? 0) >= 3
  })
  const metrics = await w.lambkin(['metrics', 'constructor'])
  assert.is(metrics.code, 0, metrics.stderr)
  assert.match(metrics.stdout, /^constructor\s+\d+/m)
  const status = await w.lambkin(['status'])
  assert.is(status.code, 0, status.stderr)
  assert.ok(agent.child.exitCode === null, `the agent exited: ${agent.stderr()}`)
})

test('a metric snapshot naming functions and error codes after Object.prototype is summed, and `metrics` answers', async () => {
  const secret = await w.addDevice('metric-names')
  const c = await mqtt.connectAsync(w.brokerUrl, { clientId: 'metric-names', username: 'metric-names', password: secret, reconnectPeriod: 0 })
  try {
    const figures = {
      invocations: 2,
      errors: Object.fromEntries(NAMES.map((n) => [n, 1])),
      throttles: 0,
      timeouts: 0,
      coldStarts: 1,
      gbSeconds: 0.5,
      durationSeconds: { count: 2, sum: 0.01, max: 0.006, counts: [2, 0] }
    }
    const snapshot = { kind: 'delta', bucketsSeconds: [0.01], functions: Object.fromEntries(NAMES.map((n) => [n, figures])) }
    const records = [1, 2].map((seq) => ({ seq, kind: 'metric', time: Date.now(), data: snapshot }))
    await c.publishAsync(upTopic('metric-names', 'batch'), encodeFrame({ records }), { qos: 1 })
    await until('the batch to be stored', async () => (await w.api<{ highWater: number }>('GET', '/v1/devices/metric-names')).body.highWater === 2)
    const m = await w.api<{ functions: Record<string, { invocations: number, errors: Record<string, number> }> }>('GET', '/v1/devices/metric-names/metrics')
    assert.is(m.status, 200, JSON.stringify(m.body))
    // cbor-x renames a "__proto__" map key to "__proto_" as it decodes (its prototype guard).
    const names = Object.keys(m.body.functions).sort()
    assert.equal(names, ['__proto_', 'constructor', 'hasOwnProperty', 'toString'])
    for (const n of names) {
      assert.is(m.body.functions[n].invocations, 4, n)
      assert.equal(Object.keys(m.body.functions[n].errors).sort(), ['__proto_', 'constructor', 'hasOwnProperty', 'toString'])
      assert.is(new Map(Object.entries(m.body.functions[n].errors)).get('constructor'), 2)
    }
    const one = await w.api<{ functions: Record<string, unknown> }>('GET', '/v1/devices/metric-names/metrics?fn=constructor')
    assert.is(one.status, 200)
    assert.equal(Object.keys(one.body.functions), ['constructor'])
    const cli = await w.lambkin(['metrics', 'metric-names'])
    assert.is(cli.code, 0, cli.stderr)
    assert.match(cli.stdout, /^toString\s+4/m)
  } finally {
    await c.endAsync(true)
  }
})

test('the names Object.prototype holds that break the id rule are refused with a code as device, group and function names, never answered from a prototype', async () => {
  for (const n of ['__proto__', 'toString', 'hasOwnProperty']) {
    const add = await w.api<{ error: { code: string } }>('POST', '/v1/devices', { id: n })
    assert.is(add.status, 400, n)
    assert.is(add.body.error.code, 'LAMBKIN_REQUEST_INVALID')
    const group = await w.api<{ error: { code: string } }>('POST', '/v1/devices', { id: 'ok-name', group: n })
    assert.is(group.body.error.code, 'LAMBKIN_REQUEST_INVALID', n)
    for (const route of [`/v1/devices/${n}`, `/v1/devices/${n}/records`, `/v1/devices/${n}/metrics`, `/v1/devices/${n}/series`, `/v1/devices/${n}/deployments`]) {
      const r = await w.api<{ error: { code: string } }>('GET', route)
      assert.is(r.status, 404, route)
      assert.is(r.body.error.code, 'LAMBKIN_DEVICE_NOT_FOUND', route)
    }
    const targets = await w.api<{ error: { code: string } }>('GET', `/v1/targets/group:${n}`)
    assert.is(targets.body.error.code, 'LAMBKIN_REQUEST_INVALID', n)
    const dir = w.fn('named', 'export default () => 1', { name: n })
    const local = await w.lambkin(['invoke', dir])
    assert.is(local.code, 1, n)
    assert.match(local.stderr, /^LAMBKIN_MANIFEST_INVALID: function\.json "name" must match/)
  }
  const fn = await w.api<{ error: { code: string } }>('POST', '/v1/devices/constructor/invoke', { fn: 'toString', event: {} })
  assert.is(fn.status, 400)
  assert.is(fn.body.error.code, 'LAMBKIN_REQUEST_INVALID')
})

test.run()
