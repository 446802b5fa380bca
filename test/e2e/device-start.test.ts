// `lambkin device` start and stop as a process (docs/device.md: a fatal
// start-up error, and an agent with no MQTT trigger keeps running): a fatal start-up error exits 1
// after undoing what started; an agent with only schedules and sensors runs until SIGTERM.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runLambkin, startBroker, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

function tempRoot (): string {
  return mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-start-'))
}

/** Kills a start that never ends, so a hanging process fails the test instead of stalling it. */
const START_TIMEOUT_MS = 20_000

test('brokerPort already in use: LAMBKIN_CONFIG_INVALID and exit 1, not a process that stays up', async () => {
  const root = tempRoot()
  const taken = net.createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()))
  const port = (taken.address() as net.AddressInfo).port
  try {
    mkdirSync(path.join(root, 'functions'))
    const r = await runLambkin(['device', '--id', 'e2e-busy', '--data', path.join(root, 'data'), '--functions', path.join(root, 'functions'), '--broker-port', String(port)], { timeoutMs: START_TIMEOUT_MS })
    assert.match(r.stderr, /^LAMBKIN_CONFIG_INVALID: the embedded broker cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/m)
    assert.is(r.code, 1, r.stderr)
    assert.not.match(r.stdout, 'ready')
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()))
    rmSync(root, { recursive: true, force: true })
  }
})

test('brokerHost that is no address: LAMBKIN_CONFIG_INVALID and exit 1', async () => {
  const root = tempRoot()
  try {
    mkdirSync(path.join(root, 'functions'))
    const config = path.join(root, 'device.json')
    writeFileSync(config, JSON.stringify({ id: 'e2e-host', dataDir: 'data', functionsDir: 'functions', brokerPort: 0, brokerHost: '999.1.1.1' }))
    const r = await runLambkin(['device', '--config', config], { timeoutMs: START_TIMEOUT_MS })
    assert.match(r.stderr, /^LAMBKIN_CONFIG_INVALID: .*999\.1\.1\.1/m)
    assert.is(r.code, 1, r.stderr)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('a misspelled LAMBKIN_* variable is refused with "did you mean"; LAMBKIN_BROKER_PORT=1e3 is refused', async () => {
  const root = tempRoot()
  try {
    mkdirSync(path.join(root, 'functions'))
    const args = ['device', '--id', 'e2e-env', '--data', path.join(root, 'data'), '--functions', path.join(root, 'functions')]
    const typo = await runLambkin(args, { env: { LAMBKIN_BROKER_PROT: '1883' }, timeoutMs: START_TIMEOUT_MS })
    assert.match(typo.stderr, /^LAMBKIN_CONFIG_INVALID: environment variable LAMBKIN_BROKER_PROT is not a known variable; did you mean "LAMBKIN_BROKER_PORT"\?/m)
    assert.is(typo.code, 1)
    const exp = await runLambkin(args, { env: { LAMBKIN_BROKER_PORT: '1e3' }, timeoutMs: START_TIMEOUT_MS })
    assert.match(exp.stderr, /^LAMBKIN_CONFIG_INVALID: config key "brokerPort" must be an integer .*plain decimal digits, got "1e3" \(from environment variable LAMBKIN_BROKER_PORT\)/m)
    assert.is(exp.code, 1)
    const flag = await runLambkin([...args, '--metrics-port', '0x50'], { timeoutMs: START_TIMEOUT_MS })
    assert.match(flag.stderr, /^LAMBKIN_CONFIG_INVALID: config key "metricsPort" .*"0x50"/m)
    assert.is(flag.code, 1)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('credentials inside a broker URL reach neither the ready line nor an error', async () => {
  const root = tempRoot()
  const broker = await startBroker()
  let agent: LambkinProcess | undefined
  try {
    mkdirSync(path.join(root, 'functions'))
    const args = ['device', '--id', 'e2e-url', '--data', path.join(root, 'data'), '--functions', path.join(root, 'functions')]
    agent = startLambkin([...args, '--mqtt', `mqtt://reader:s3cr%40t@127.0.0.1:${broker.port}`])
    const ready = await agent.waitFor('stdout', /ready: .*$/m)
    assert.match(ready[0], `triggers mqtt://***@127.0.0.1:${broker.port}`)
    assert.is(await agent.stop('SIGTERM').then((e) => e.code), 0)
    assert.not.match(agent.stdout() + agent.stderr(), 's3cr')
    assert.not.match(agent.stdout() + agent.stderr(), 'reader')
    // A password holding "@" (as typed, not percent-encoded) in a refused URL.
    const bad = await runLambkin([...args, '--mqtt', 'ftp://reader:p@ss@example.com'], { timeoutMs: START_TIMEOUT_MS })
    assert.is(bad.code, 1)
    assert.match(bad.stderr, 'a URL with credentials (not shown)')
    assert.not.match(bad.stderr, 'ss@')
  } finally {
    await agent?.stop('SIGKILL')
    await broker.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test('with only schedule and sensor triggers (no broker, no metrics) the agent runs until SIGTERM, then exits 0', async () => {
  const root = tempRoot()
  const functions = writeFunctions(path.join(root, 'functions'), {
    tick: { manifest: { triggers: [{ schedule: '* * * * * *' }] }, code: 'export default (e) => e.source' },
    probe: { manifest: { triggers: [{ sensor: 'probe', path: 'sim:sine', everyMs: 200 }] }, code: 'export default (e) => e.value' }
  })
  let agent: LambkinProcess | undefined
  try {
    agent = startLambkin(['device', '--id', 'e2e-alone', '--data', path.join(root, 'data'), '--functions', functions])
    await agent.waitFor('stdout', /lambkin device e2e-alone ready: functions probe,tick$/m)
    // Before the fix the process ended right after "ready" (exit 0), so no invocation ran.
    await agent.waitFor('stderr', /\[tick\] ok/)
    await agent.waitFor('stderr', /\[probe\] ok/)
    assert.is(agent.child.exitCode, null, 'still running after the first schedule and sensor events')
    // Still alive for the next scheduled run.
    const runs = (agent.stderr().match(/\[tick\] ok/g) ?? []).length
    await agent.waitFor('stderr', new RegExp(`(?:\\[tick\\] ok[^]*){${runs + 1}}`))
    const exit = await agent.stop('SIGTERM')
    assert.equal(exit, { code: 0, signal: null }, agent.stderr())
    assert.match(agent.stderr(), 'lambkin device e2e-alone stopped')
  } finally {
    await agent?.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test('with no functions at all the agent still waits for SIGTERM', async () => {
  const root = tempRoot()
  let agent: LambkinProcess | undefined
  try {
    mkdirSync(path.join(root, 'functions'))
    agent = startLambkin(['device', '--id', 'e2e-idle', '--data', path.join(root, 'data'), '--functions', path.join(root, 'functions')])
    await agent.waitFor('stdout', /ready: functions \(none\)/)
    const exit = await agent.stop('SIGTERM')
    assert.equal(exit, { code: 0, signal: null }, agent.stderr())
    assert.match(agent.stderr(), /SIGTERM: stopping[^]*lambkin device e2e-idle stopped/)
  } finally {
    await agent?.stop('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
