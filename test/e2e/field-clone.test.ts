// A board whose SD card was cloned to a second board: same id, secret and data folder (its
// outbox stream included), both running against a real `lambkin cloud` (in-process agents,
// real aedes, LevelDB, QuickJS). docs/durability.md, "Two boards cloned from one image": the
// cloud keeps the first records it received under each number, shows the device as
// `conflict`, and the fix is to give the clone its own id, after which its records upload
// under the new id. Nothing either board made may be lost or counted under the other's id.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Agent } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'
import { AGENT_CONFIG, cloudKeyFile, deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'

let w: DeployWorld
const running = new Set<Agent>()

test.before(async () => {
  w = await deployWorld()
})

test.after(async () => {
  for (const a of running) await a.close().catch(() => {})
  await w?.cleanup()
})

interface Rec { seq: number, stream?: string, kind: string, data: { result?: { board?: string, n?: number } } }

/** A board `name` running as device `id` on `dataDir`: a `tick` every second returning { board, n }. */
async function board (name: string, id: string, secret: string, dataDir: string): Promise<{ agent: Agent, made: () => number, close: () => Promise<void> }> {
  const dir = path.join(w.root, 'boards', name)
  const fn = path.join(dir, 'functions', 'tick')
  mkdirSync(fn, { recursive: true })
  writeFileSync(path.join(fn, 'function.json'), JSON.stringify({ name: 'tick', triggers: [{ schedule: '* * * * * *' }] }))
  writeFileSync(path.join(fn, 'index.js'), `export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { board: '${name}', n: ctx.state.n } }`)
  const file = path.join(dir, `device-${id}.json`)
  writeFileSync(file, JSON.stringify({
    ...AGENT_CONFIG,
    id,
    dataDir,
    functionsDir: path.join(dir, 'functions'),
    trustedKeys: [w.key.publicFile, cloudKeyFile(w.root)],
    cloud: { url: w.brokerUrl, password: secret, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 500 }
  }))
  const agent = await Agent.create(await loadDeviceConfig({ file, env: {} }))
  running.add(agent)
  let made = 0
  agent.on('invocation', (r: { fn: string, ok: boolean }) => { if (r.fn === 'tick' && r.ok) made++ })
  return { agent, made: () => made, close: async () => { running.delete(agent); await agent.close() } }
}

const results = async (id: string): Promise<Rec[]> =>
  (await w.api<{ records: Rec[] }>('GET', `/v1/devices/${id}/records?after=0&limit=10000`)).body.records.filter((r) => r.kind === 'result')
const boards = (rs: Rec[]): string[] => [...new Set(rs.map((r) => r.data.result?.board as string))].sort()

test('a cloned card: both boards run as one id, the cloud shows the conflict, the clone gets its own id and then everything it made arrives under it, once', async () => {
  const secret = await w.addDevice('twin')
  const dataA = path.join(w.root, 'data-a')
  const first = await board('a', 'twin', secret, dataA)
  await until('five results of the original board', async () => (await results('twin')).length >= 5, 30_000)
  await first.close()
  // The card is cloned while the board is off: same stream, same acked seq, same state.
  const dataB = path.join(w.root, 'data-b')
  cpSync(dataA, dataB, { recursive: true })
  const a = await board('a', 'twin', secret, dataA)
  const b = await board('b', 'twin', secret, dataB)
  await until('the cloud to show the conflict', async () => (await w.api<{ state: string }>('GET', '/v1/devices/twin')).body.state === 'conflict', 60_000)
  // The operator's fix (docs/durability.md): the clone gets its own id and a new config.
  await b.close()
  const madeByB = b.made()
  assert.ok(madeByB > 0, 'the clone ran')
  const secretB = await w.addDevice('twin-b')
  const b2 = await board('b', 'twin-b', secretB, dataB)
  const clear = await w.lambkin(['devices', 'clear-conflict', 'twin'])
  assert.is(clear.code, 0, clear.stderr)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  await a.close()
  await b2.close()
  const total = madeByB + b2.made()
  // Where both boards made a number, the cloud kept whichever came first: some of the clone's
  // first results may be under the original id. Across both ids each is there exactly once.
  const ofB = async (): Promise<number[]> => [...await results('twin'), ...await results('twin-b')]
    .filter((r) => r.data.result?.board === 'b').map((r) => r.data.result?.n as number)
  await until(`all ${total} results of the clone in the cloud`, async () => (await ofB()).length >= total, 60_000)
  const ns = await ofB()
  assert.is(new Set(ns).size, ns.length, 'each of the clone\'s results once')
  assert.is(ns.length, total, 'every result the clone made, none lost')
  assert.equal(boards(await results('twin-b')), ['b'], 'only the clone\'s results under its new id')
  const seqs = (await results('twin')).map((r) => `${r.stream ?? ''}:${r.seq}`)
  assert.is(new Set(seqs).size, seqs.length, 'no (stream, seq) twice under the original id')
  const status = await w.api<{ state: string }>('GET', '/v1/devices/twin-b')
  assert.is.not(status.body.state, 'conflict')
})

test.run()
