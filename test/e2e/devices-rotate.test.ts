// `lambkin devices rotate <id>`: a leaked secret is replaced while the board is connected. The
// old session is cut at once, the old secret is refused (the board's own reconnects, and any
// other client), the new one works, and the device keeps its id, records, rollout history and
// deployments (the deployed version runs again with no redeploy). Real `lambkin cloud`, a real
// agent, the real CLI.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'

let w: DeployWorld

test.before(async () => { w = await deployWorld() })
test.after(async () => { await w?.cleanup() })

interface View { connected: boolean, rotatedAt: number | null, highWater: number }
const view = async (id: string): Promise<View> => (await w.api<View>('GET', `/v1/devices/${id}`)).body
const refusedSecrets = async (): Promise<number> => (await w.api<{ cloud: { refused: Record<string, number> } }>('GET', '/v1/status')).body.cloud.refused['bad-credentials'] ?? 0

async function runs (id: string): Promise<unknown> {
  const r = await w.lambkin(['invoke', '--device', id, 'greeter', '--json'])
  return (JSON.parse(r.stdout) as { result?: { v?: number } }).result?.v
}

/** Connects a plain MQTT client as the device: resolves 'connected' or the refusal's message. */
async function tryConnect (id: string, secret: string): Promise<string> {
  const c = mqtt.connect(w.brokerUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5000, clean: false })
  try {
    return await new Promise((resolve) => {
      c.once('connect', () => resolve('connected'))
      c.once('error', (err) => resolve(err.message))
    })
  } finally {
    c.end(true)
  }
}

test('rotate while connected: the old session is cut and its secret refused, the new one works; records, rollouts and deployments stay', async () => {
  const oldSecret = await w.addDevice('rot')
  let board = w.agent('rot', oldSecret)
  await board.start()
  const dir = w.fn('greeter', 'export default () => ({ v: 1 })')
  const dep = await w.lambkin(['deploy', dir, '--to', 'rot', '--timeout', '20', '--json'])
  assert.is(dep.code, 0, dep.stderr)
  const rollout = String(jsonLines(dep.stdout).at(-1)?.rollout)
  assert.is(await runs('rot'), 1)
  await until('the invocation\'s records at the cloud', async () => (await view('rot')).highWater > 0)
  const before = await view('rot')
  const refusedBefore = await refusedSecrets()

  const r = await w.lambkin(['devices', 'rotate', 'rot', '--json'])
  assert.is(r.code, 0, r.stderr)
  const rotated = JSON.parse(r.stdout) as { id: string, secret: string, rotatedAt: number }
  assert.is(rotated.id, 'rot')
  assert.ok(rotated.secret.length >= 16 && rotated.secret !== oldSecret)
  // The old session is cut at once, and the board's reconnects with the old secret are refused.
  await until('the old session cut', async () => !(await view('rot')).connected)
  await until('the board\'s old secret refused', async () => await refusedSecrets() > refusedBefore)
  assert.match(await tryConnect('rot', oldSecret), /Bad username or password|Not authorized/i)
  assert.is((await view('rot')).connected, false)

  // The board with its new secret: same id, same data folder.
  await board.stop()
  board = w.agent('rot', rotated.secret)
  await board.start()
  await until('the board back with its new secret', async () => (await view('rot')).connected)
  assert.is(await runs('rot'), 1, 'the deployed version runs with no redeploy')
  const after = await view('rot')
  assert.ok(after.highWater >= before.highWater, 'records kept')
  assert.is(after.rotatedAt, rotated.rotatedAt)
  const records = (await w.api<{ records: Array<{ seq: number }> }>('GET', '/v1/devices/rot/records?limit=10000')).body.records
  assert.ok(records.some((x) => x.seq === 1), 'the first record is still there')
  assert.is((await w.rollout(rollout)).devices[0].state, 'applied', 'the rollout history is kept')
  await board.stop()
})

test('rotate of an unknown or revoked device is LAMBKIN_DEVICE_NOT_FOUND; --help says what it does', async () => {
  let r = await w.lambkin(['devices', 'rotate', 'nobody'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /^LAMBKIN_DEVICE_NOT_FOUND: /)
  await w.addDevice('gone')
  assert.is((await w.lambkin(['devices', 'revoke', 'gone'])).code, 0)
  r = await w.lambkin(['devices', 'rotate', 'gone', '--json'])
  assert.is(r.code, 1)
  assert.match(JSON.parse(r.stdout).error.message, /revoked, and revocation is final/)
  r = await w.lambkin(['devices', 'rotate', '--help'])
  assert.is(r.code, 0)
  assert.match(r.stdout, /cuts the old one off at once/)
})

test.run()
