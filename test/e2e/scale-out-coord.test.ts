// No instance is special (docs/scale-out.md, "Several instances"): two `lambkin cloud --broker
// --db` instances on one Mosquitto and one PostgreSQL with real agents. A deploy started through
// one is followed through the other; the instance driving it is SIGKILLed mid-rollout and the
// other finishes it, never faster than its rate; records ingested by either are followed through
// the other; a device going stale and then offline is shown the same by both.
import { pgSuite } from '../helpers/pg-suite.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import * as assert from 'uvu/assert'
import { Agent } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'
import { LevelOutboxStore } from '../../device/store/index.js'
import { generateKeys } from '../../src/bundle/index.js'
import { allowedBy, released } from '../../cloud-sync/rollouts/pace.js'
import type { RolloutView } from '../../cli/rollout-view.js'
import { freezeRelay } from '../helpers/freeze-relay.js'
import { AGENT_CONFIG, until } from './fixtures/deploy-world.js'
import { runLambkin, startLambkin } from './fixtures/lambkin-process.js'
import { scaleOutWorld } from './fixtures/scale-out-world.js'
import type { CloudInstance, ScaleOutWorld } from './fixtures/scale-out-world.js'

const pg = pgSuite('cloud instances side by side: no instance is special', { mosquitto: true })
const { test, realTest } = pg

interface Fleet {
  w: ScaleOutWorld
  a: CloudInstance
  b: CloudInstance
  /** LAMBKIN_API (the instance given), LAMBKIN_TOKEN, LAMBKIN_KEY for the CLI. */
  env: (api: string) => Record<string, string>
  agents: Agent[]
  root: string
  /** The deploy key's public file both instances trust. */
  trust: string
  startAgents: () => Promise<void>
}

interface FleetOptions {
  /** The URL agents connect to, given the broker's port (default: the broker). */
  agentUrl?: (port: number) => Promise<string>
  cloud?: Record<string, unknown>
  /** Runs on each device's data folder before its agent starts. */
  before?: (dataDir: string) => Promise<void>
}

/** Two instances trusting one deploy key and signing with one key; `ids` in group fleet with agents ready to start. */
async function fleet (ids: string[], o: FleetOptions = {}): Promise<Fleet> {
  const w = await scaleOutWorld(pg.server)
  const keys = generateKeys(path.join(w.root, 'keys'))
  const a = await w.startCloud('a', ['--trust', keys.publicFile])
  const b = await w.startCloud('b', ['--trust', keys.publicFile, '--signing-key', path.join(a.dataDir, 'cloud-signing.key')])
  const env = (api: string): Record<string, string> => ({ LAMBKIN_API: api, LAMBKIN_TOKEN: w.token(), LAMBKIN_KEY: keys.privateFile })
  const secrets: Record<string, string> = {}
  for (const id of ids) {
    const res = await fetch(`${a.api}/v1/devices`, { method: 'POST', headers: { authorization: `Bearer ${w.token()}`, 'content-type': 'application/json' }, body: JSON.stringify({ id, group: 'fleet' }) })
    const body = await res.json() as { secret: string }
    assert.is(res.status, 201, JSON.stringify(body))
    secrets[id] = body.secret
  }
  await w.mosquitto.addUsers(secrets)
  const port = Number(new URL(w.brokerUrl).port)
  const agents: Agent[] = []
  const startAgents = async (): Promise<void> => {
    for (const id of ids) {
      const dir = path.join(w.root, 'devices', id)
      mkdirSync(path.join(dir, 'functions'), { recursive: true })
      const file = path.join(dir, 'device.json')
      const cloud = { url: await o.agentUrl?.(port) ?? `mqtt://127.0.0.1:${port}`, password: secrets[id], heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 500, ...o.cloud }
      const trustedKeys = [keys.publicFile, path.join(a.dataDir, 'cloud-signing.pub')]
      writeFileSync(file, JSON.stringify({ id, dataDir: path.join(dir, 'data'), functionsDir: path.join(dir, 'functions'), trustedKeys, ...AGENT_CONFIG, cloud }))
      await o.before?.(path.join(dir, 'data'))
      agents.push(await Agent.create(await loadDeviceConfig({ file, env: {} })))
    }
  }
  return { w, a, b, env, agents, root: w.root, trust: keys.publicFile, startAgents }
}

async function api<T> (f: Fleet, base: string, route: string): Promise<T> {
  const res = await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${f.w.token()}` } })
  const body = await res.json() as T
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(body)}`)
  return body
}

async function close (f: Fleet): Promise<void> {
  for (const ag of f.agents) await ag.close().catch(() => {})
  await f.w.cleanup()
}

function fnDir (f: Fleet, v: number): string {
  const dir = path.join(f.root, 'fns', `meter-v${v}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'function.json'), JSON.stringify({ name: 'meter' }))
  writeFileSync(path.join(dir, 'index.js'), `export default () => ({ v: ${v} })`)
  return dir
}

realTest('a deploy started through A is followed through B; A, driving it, is SIGKILLed mid-rollout and B finishes it, never faster than its rate', async () => {
  const ids = ['co-1', 'co-2', 'co-3', 'co-4']
  const f = await fleet(ids)
  try {
    await f.startAgents()
    // A started first, so A holds the rollouts' lock.
    await f.a.proc.waitFor('stderr', /now drives the rollouts/, 10_000)
    await until('every device online on both', async () => {
      for (const base of [f.a.api, f.b.api]) {
        const list = await api<{ devices: Array<{ state: string }> }>(f, base, '/v1/devices')
        if (list.devices.filter((d) => d.state === 'online').length < ids.length) return false
      }
      return true
    }, 30_000)
    const deploy = startLambkin(['deploy', fnDir(f, 1), '--to', 'group:fleet', '--rate', '20', '--json'], { env: f.env(f.a.api) })
    const [, id] = await deploy.waitFor('stdout', /"event":"rollout".*?"rollout":"([^"]+)"/, 60_000)
    // Followed through B with the long-poll the CLI uses.
    let view = await api<RolloutView>(f, f.b.api, `/v1/rollouts/${id}`)
    let killed = false
    const seen: number[] = []
    while (view.state === 'running' || view.devices.some((d) => d.state === 'sent')) {
      view = await api<RolloutView>(f, f.b.api, `/v1/rollouts/${id}?since=${view.revision}&wait=20000`)
      const n = released(view as never)
      seen.push(n)
      // The rate holds across the handover: never more devices released than it allows by now.
      assert.ok(n <= allowedBy({ ratePerMin: 20, createdAt: view.createdAt, devices: view.devices as never }, Date.now()), `released ${n} of ${ids.length} by ${Date.now() - view.createdAt} ms at 20/min`)
      if (!killed && n >= 2) {
        killed = true
        await f.a.proc.stop('SIGKILL')
        // B takes the lock once A's session is gone. Then A comes back as a plain instance: the
        // broker kept A's share of the uploads in its persistent session (docs/scale-out.md).
        await f.b.proc.waitFor('stderr', /now drives the rollouts/, 20_000)
        await f.w.startCloud('a', ['--trust', f.trust])
      }
    }
    assert.ok(killed, `A was killed mid-rollout (released counts seen: ${seen.join(',')})`)
    assert.not.match(f.w.instances.get('a')?.proc.stderr() ?? '', /now drives the rollouts/, 'A, back, does not drive: B holds the lock')
    assert.is(view.state, 'done', JSON.stringify(view))
    assert.equal(view.devices.map((d) => d.state), ids.map(() => 'applied'), JSON.stringify(view.devices))
    // B shows the same through its list, and the CLI through B reads it.
    const cli = await runLambkin(['rollouts'], { env: f.env(f.b.api), timeoutMs: 30_000 })
    assert.ok(cli.stdout.includes(id), cli.stdout + cli.stderr)
    await deploy.stop('SIGKILL').catch(() => {})
    // Remote invoke through each instance: the answer reaches whichever instance the broker
    // gives it to, and the bus brings it to the one holding the request.
    const back = f.w.instances.get('a') as CloudInstance
    for (let i = 0; i < 8; i++) {
      const base = i % 2 === 0 ? f.b.api : back.api
      const res = await fetch(`${base}/v1/devices/${ids[i % ids.length]}/invoke`, { method: 'POST', headers: { authorization: `Bearer ${f.w.token()}`, 'content-type': 'application/json' }, body: JSON.stringify({ fn: 'meter', event: {}, timeoutMs: 5000 }) })
      const body = await res.json() as { ok?: boolean, result?: unknown }
      assert.is(res.status, 200, JSON.stringify(body))
      assert.equal(body.result, { v: 1 }, JSON.stringify(body))
    }
    // A, back, does not drive: a deploy through it is stored and adopted by B, and a cancel
    // through it is carried out by B.
    const slow = startLambkin(['deploy', fnDir(f, 2), '--to', 'group:fleet', '--rate', '1', '--json'], { env: f.env(back.api) })
    const [, id2] = await slow.waitFor('stdout', /"event":"rollout".*?"rollout":"([^"]+)"/, 60_000)
    await until('B sends the first device', async () => released(await api<RolloutView>(f, back.api, `/v1/rollouts/${id2}`) as never) === 1, 30_000)
    const res = await fetch(`${back.api}/v1/rollouts/${id2}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${f.w.token()}` } })
    const cancelled = await res.json() as RolloutView
    assert.is(res.status, 200, JSON.stringify(cancelled))
    assert.is(cancelled.state, 'cancelled', JSON.stringify(cancelled))
    assert.is((await api<RolloutView>(f, f.b.api, `/v1/rollouts/${id2}`)).state, 'cancelled')
    await slow.stop('SIGKILL').catch(() => {})
  } finally {
    await close(f)
  }
})

realTest('records ingested by either instance are followed (after + wait, as logs -f does) through the other', async () => {
  const n = 40
  const f = await fleet(['lg-1'], {
    cloud: { batchRecords: 5, uploadLogs: false },
    before: async (dir) => {
      const store = await LevelOutboxStore.open({ dir })
      await store.commit({ records: Array.from({ length: n }, (_, k) => ({ kind: 'result' as const, fn: 'load', time: 1_700_000_000_000 + k, data: { n: k + 1 } })) })
      await store.close()
    }
  })
  try {
    // Followed through B from before the device connects; the records come in while it waits.
    const got: number[] = []
    const follow = (async () => {
      let after = 0
      const deadline = Date.now() + 120_000
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`followed ${got.length} of ${n} records through B in 120 s: ${got.join(',')}`)
        const r = await api<{ records: Array<{ seq: number }> }>(f, f.b.api, `/v1/devices/lg-1/records?fn=load&after=${after}&wait=20000&limit=100`)
        for (const rec of r.records) { got.push(rec.seq); after = Math.max(after, rec.seq) }
      }
    })()
    await f.startAgents()
    await follow
    assert.equal(got, Array.from({ length: n }, (_, k) => k + 1), 'each record once, in order, through B')
    // Both instances took uploads from the shared subscription, so B showed records A stored.
    const uploads = async (base: string): Promise<number> => (await api<{ cloud: { broker: { uploads: number } } }>(f, base, '/v1/status')).cloud.broker.uploads
    assert.ok(await uploads(f.a.api) > 0, 'A ingested some of the batches')
  } finally {
    await close(f)
  }
})

realTest('a device frozen mid-link goes stale and then offline, the same on both instances (ages from the database clock)', async () => {
  const relays: Array<Awaited<ReturnType<typeof freezeRelay>>> = []
  const f = await fleet(['st-1'], {
    cloud: { keepaliveSec: 5 },
    agentUrl: async (port) => { const r = await freezeRelay({ port }); relays.push(r); return r.url }
  })
  try {
    await f.startAgents()
    const states = async (): Promise<string[]> => await Promise.all([f.a.api, f.b.api].map(async (base) => (await api<{ state: string }>(f, base, '/v1/devices/st-1')).state))
    await until('online on both', async () => (await states()).every((s) => s === 'online'), 30_000)
    relays[0].freeze()
    // Three heartbeats missed: stale on both; then Mosquitto closes the half-open link and sends the will: offline on both.
    // Each instance must show stale before offline; not necessarily at the same poll, since the
    // will may reach the database between two polls on a loaded machine.
    const sawStale = [false, false]
    await until('stale on both', async () => {
      const now = await states()
      now.forEach((s, i) => { if (s === 'stale') sawStale[i] = true })
      assert.ok(now.every((s, i) => s !== 'offline' || sawStale[i]), `offline before stale: ${now.join(', ')}`)
      return sawStale.every(Boolean)
    }, 30_000)
    await until('offline on both', async () => (await states()).every((s) => s === 'offline'), 30_000)
  } finally {
    await close(f)
    for (const r of relays) await r.close()
  }
})

test.run()
