// A board's wall clock stepped back by hours while it runs (NTP correcting a clock that ran
// ahead, an operator's `date -s`), as docs/durability.md "A clock step" has it: nothing of the
// cloud link may wait for the wall clock to come back. The agent runs in this process on the
// fake clock (test/helpers/fake-clock.ts), driven at about real pace so the real `lambkin cloud`
// measures its silence on its own clock; triggers arrive on its embedded broker.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import { Agent } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import type { CloudLink } from '../../device/sync/cloud-link.js'

const HOURS_BACK = 3 * 3_600_000

let w: DeployWorld
const agents: Agent[] = []
const clients: mqtt.MqttClient[] = []

test.before(async () => {
  w = await deployWorld()
})

test.after(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {})
  for (const a of agents) await a.close().catch(() => {})
  await w?.cleanup()
})

interface Rec { seq: number, kind: string, data: { result?: { id: number } } }

/** An agent `id` on the fake clock with an `echo` function on `in/#`, its cloud config merged. */
interface Board { agent: Agent, clock: FakeClock, drive: (ms: number) => Promise<void>, send: (n: number) => Promise<void>, results: () => Promise<number[]> }

async function board (id: string, cloud: Record<string, unknown>): Promise<Board> {
  const secret = await w.addDevice(id)
  const a = w.agent(id, secret, { brokerPort: 0, cloud: { heartbeatMs: 1000, ...cloud } })
  const fn = path.join(path.dirname(a.dataDir), 'functions', 'echo')
  mkdirSync(fn, { recursive: true })
  writeFileSync(path.join(fn, 'function.json'), JSON.stringify({ name: 'echo', triggers: [{ mqtt: 'in/#', qos: 1 }] }))
  writeFileSync(path.join(fn, 'index.js'), 'export default (e) => ({ id: e.payload.id })')
  const clock = new FakeClock(Date.now())
  const agent = await Agent.create(await loadDeviceConfig({ file: a.configFile, env: {} }), { clock })
  agents.push(agent)
  /** Moves the fake clock `ms` forward at about real pace, 100 ms a step. */
  const drive = async (ms: number): Promise<void> => {
    for (let left = ms; left > 0; left -= 100) {
      await clock.advance(100)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const pub = await mqtt.connectAsync(agent.brokerUrl as string, { clientId: `${id}-pub` })
  clients.push(pub)
  let next = 0
  const send = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await pub.publishAsync(`in/${id}`, JSON.stringify({ id: next++ }), { qos: 1 })
  }
  const results = async (): Promise<number[]> => (await w.api<{ records: Rec[] }>('GET', `/v1/devices/${id}/records?after=0&limit=10000`)).body.records
    .filter((r) => r.kind === 'result').map((r) => r.data.result?.id as number)
  return { agent, clock, drive, send, results }
}

const state = async (id: string): Promise<string> => (await w.api<{ state: string }>('GET', `/v1/devices/${id}`)).body.state

test('a clock stepped back 3 hours while uploads are acknowledged keeps the heartbeats going: the board stays online', async () => {
  // Longer than the 1 s by which acks bring a heartbeat forward, so they do.
  const b = await board('step-beat', { heartbeatMs: 2000 })
  await until('online', async () => { await b.drive(100); return await state('step-beat') === 'online' })
  await b.send(3)
  await until('the first results uploaded', async () => { await b.drive(100); return (await b.results()).length === 3 })
  await b.drive(2000)
  b.clock.jumpTo(b.clock.now() - HOURS_BACK)
  // Results acknowledged after the step bring the next heartbeat forward [W3].
  await b.send(3)
  await until('the results after the step uploaded', async () => { await b.drive(100); return (await b.results()).length === 6 })
  // Six heartbeat intervals with nothing to upload: the cloud shows stale after three missed.
  const seen: string[] = []
  for (let i = 0; i < 12; i++) { await b.drive(1000); seen.push(await state('step-beat')) }
  assert.equal(seen.filter((s) => s !== 'online'), [], `states after the step: ${seen.join(' ')}`)
})

test('a clock stepped back 3 hours under an upload bandwidth limit does not hold the uploads for 3 hours', async () => {
  const b = await board('step-rate', { uploadBytesPerSec: 4096 })
  await until('online', async () => { await b.drive(100); return await state('step-rate') === 'online' })
  await b.send(3)
  await until('the first results uploaded', async () => { await b.drive(100); return (await b.results()).length === 3 })
  b.clock.jumpTo(b.clock.now() - HOURS_BACK)
  await b.send(3)
  // 20 (fake and real) seconds: more than enough for three small records at 4 KiB/s.
  for (let i = 0; i < 200 && (await b.results()).length < 6; i++) await b.drive(100)
  assert.equal((await b.results()).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5])
})

test('a clock stepped back 3 hours during a long connection: the cloud restarting is not counted as another board taking the session over', async () => {
  const b = await board('step-takeover', {})
  await until('online', async () => { await b.drive(100); return await state('step-takeover') === 'online' })
  // Longer than the 30 s under which a connection the cloud closes counts as taken over.
  await b.clock.advance(40_000)
  b.clock.jumpTo(b.clock.now() - HOURS_BACK)
  const link = b.agent.cloudLink as CloudLink
  const connects = link.counters.connects
  await w.stopCloud('SIGTERM')
  await w.startCloud()
  await until('the board back on the restarted cloud', async () => { await b.drive(100); return link.counters.connects > connects && link.state === 'online' }, 60_000)
  assert.is(link.counters.takeovers, 0, 'a cloud restart after a 40 s connection is no takeover')
})

// The board measured a remote invoke's durationMs on the wall clock: stepped back during an
// invoke that times out, the answer carried a negative durationMs, which the cloud refuses as
// a malformed invoke-result [W8], so the operator got the cloud's own timeout, later, instead
// of the board's LAMBKIN_INVOKE_TIMEOUT answer. It is now measured on the monotonic clock.
test('a clock stepped back 3 hours during a remote invoke that times out: the board\'s timeout answer reaches the operator', async () => {
  const secret = await w.addDevice('step-invoke')
  const a = w.agent('step-invoke', secret, { cloud: { heartbeatMs: 1000 } })
  const fn = path.join(path.dirname(a.dataDir), 'functions', 'slow')
  mkdirSync(fn, { recursive: true })
  writeFileSync(path.join(fn, 'function.json'), JSON.stringify({ name: 'slow', limits: { timeoutMs: 30_000, instructions: 1e12 } }))
  writeFileSync(path.join(fn, 'index.js'), 'export default () => { const end = Date.now() + 5000; while (Date.now() < end) {} return 1 }')
  const clock = new FakeClock(Date.now())
  const agent = await Agent.create(await loadDeviceConfig({ file: a.configFile, env: {} }), { clock })
  agents.push(agent)
  await until('online', async () => { await clock.advance(100); await new Promise((resolve) => setTimeout(resolve, 50)); return await state('step-invoke') === 'online' })
  const answer = w.api<{ ok?: boolean, error?: { code: string, message: string } }>('POST', '/v1/devices/step-invoke/invoke', { fn: 'slow', event: {}, timeoutMs: 1000 })
  await new Promise((resolve) => setTimeout(resolve, 500))
  clock.jumpTo(clock.now() - HOURS_BACK)
  await clock.advance(1500)
  const r = await answer
  assert.is(r.body.error?.code, 'LAMBKIN_INVOKE_TIMEOUT', JSON.stringify(r.body))
  assert.match(r.body.error?.message ?? '', /slow did not finish within 1000 ms/, 'the board\'s answer, not the cloud\'s own timeout')
})

test.run()
