// A board whose cloud password is wrong (a typo in LAMBKIN_CLOUD_PASSWORD, the secret rotated
// since) or whose id was revoked: the cloud's broker refuses its CONNECT, and the agent's line
// says so with a stable code and what to check, instead of MQTT.js's bare "Connection refused:
// Not authorized". Real `lambkin cloud` and `lambkin device` child processes.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

let w: DeployWorld
const procs: LambkinProcess[] = []

test.before(async () => { w = await deployWorld() })
test.after(async () => {
  for (const p of procs) await p.stop('SIGKILL').catch(() => {})
  await w?.cleanup()
})

const output = (p: LambkinProcess): string => p.stdout() + p.stderr()

/** The first line of the agent's output (either stream) matching `re`, waiting for it. */
async function line (p: LambkinProcess, re: RegExp): Promise<string> {
  const find = (): string | undefined => output(p).split('\n').find((l) => re.test(l))
  await until(`a line matching ${String(re)}`, () => find() !== undefined || p.child.exitCode !== null)
  return find() ?? `(exited ${String(p.child.exitCode)}): ${output(p)}`
}

test('a wrong cloud password: the agent says LAMBKIN_UNAUTHORIZED, naming the password and the device, and keeps running', async () => {
  await w.addDevice('typo-1')
  const a = w.agent('typo-1', 'not-the-secret')
  const p = startLambkin(['device', '--config', a.configFile])
  procs.push(p)
  const l = await line(p, /Not authorized|Bad user|LAMBKIN_UNAUTHORIZED/)
  assert.match(l, /^cloud: LAMBKIN_UNAUTHORIZED: /)
  assert.match(l, /typo-1/)
  assert.match(l, /LAMBKIN_CLOUD_PASSWORD/)
  assert.is(p.child.exitCode, null, 'the agent runs on, its records waiting in the outbox')
})

test('a revoked device: the same code, and the line names revoke as a cause', async () => {
  const secret = await w.addDevice('gone-1')
  const a = w.agent('gone-1', secret)
  const p = startLambkin(['device', '--config', a.configFile])
  procs.push(p)
  await line(p, /connected to .* as gone-1/)
  const r = await w.lambkin(['devices', 'revoke', 'gone-1'])
  assert.is(r.code, 0, r.stderr)
  assert.match(await line(p, /Not authorized|Bad user|LAMBKIN_UNAUTHORIZED/), /^cloud: LAMBKIN_UNAUTHORIZED: .*revoked/)
  assert.is(p.child.exitCode, null)
})

test.run()
