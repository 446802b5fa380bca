// The cloud's wall clock stepped while a rollout runs (NTP correcting a VM's clock after a
// suspend, an operator's `date -s`): a rollout's per-device timeout and its pacing, and the
// silence after which a half-open device connection is closed, the fleet view's age, and the
// window in which takeovers say two clients share an id, are intervals, so a step must
// neither hold them for hours nor end what began a second ago. Real cloud (aedes, LevelDB, Fastify) in this
// process on the fake clock (test/helpers/fake-clock.ts), simulated devices speaking [W5]-[W6]
// over MQTT.js, as test/cloud-sync/rollouts.test.ts runs them.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, until, untilRollout, upload } from '../helpers/deploy.js'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FleetFeed } from '../../cloud-sync/api/fleet-feed.js'
import { LevelRegistry } from '../../cloud-sync/registry/index.js'
import { encodeFrame, upTopic } from '../../src/wire/index.js'
import { TAKEOVER_WINDOW_MS } from '../../cloud-sync/api/views.js'

const keys = makeKeys()
const HOURS = 3 * 3_600_000

async function silentRollout (f: CloudFixture, body: Record<string, unknown> = {}): Promise<RolloutView> {
  for (const id of ['g-1', 'g-2']) {
    await SimDevice.connect(f, id, await f.addDevice(id, 'g'), (d) => { if (d.id === 'g-2') d.behaviour = () => 'silent' })
  }
  const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
  const r = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: sha, to: 'group:g', timeoutMs: 5000, ...body })
  assert.is(r.status, 201, JSON.stringify(r.body))
  return await untilRollout(f, r.body.id, (x) => x.counts.applied === 1 && x.devices[1].state === 'sent')
}

const view = async (f: CloudFixture, id: string): Promise<RolloutView> => (await f.api<RolloutView>('GET', `/v1/rollouts/${id}`)).body

test('a cloud clock stepped back 3 hours: a silent device still fails with LAMBKIN_DEPLOY_TIMEOUT after timeoutMs, and the rollout ends', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const r = await silentRollout(f)
    clock.jumpTo(clock.now() - HOURS)
    await clock.advance(6000)
    const v = await untilRollout(f, r.id, (x) => x.state === 'done', 5000).catch(async () => await view(f, r.id))
    assert.equal([v.state, v.devices[1].state, v.devices[1].code], ['done', 'failed', 'LAMBKIN_DEPLOY_TIMEOUT'])
  } finally {
    await f.cleanup()
  }
})

test('a cloud clock stepped forward 3 hours: a device sent its deployment a second ago is not failed for a timeout it never had', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const r = await silentRollout(f)
    clock.jumpTo(clock.now() + HOURS)
    await clock.advance(2000)
    assert.is((await view(f, r.id)).devices[1].state, 'sent')
  } finally {
    await f.cleanup()
  }
})

test('a cloud clock stepped back 3 hours under ratePerMin: the next device is still released after its minute share', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    for (const id of ['g-1', 'g-2']) await SimDevice.connect(f, id, await f.addDevice(id, 'g'))
    const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
    const r = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: sha, to: 'group:g', ratePerMin: 2 })
    assert.is(r.status, 201)
    await untilRollout(f, r.body.id, (v) => v.counts.applied === 1)
    clock.jumpTo(clock.now() - HOURS)
    await clock.advance(31_000)
    const v = await untilRollout(f, r.body.id, (x) => x.state === 'done', 5000).catch(async () => await view(f, r.body.id))
    assert.equal([v.state, v.counts.applied], ['done', 2])
  } finally {
    await f.cleanup()
  }
})

const connected = async (f: CloudFixture, id: string): Promise<boolean> => (await f.api<{ connected: boolean }>('GET', `/v1/devices/${id}`)).body.connected

test('[W3] a cloud clock stepped back 3 hours: a half-open device connection is still closed after 1.5x keepaliveMaxSec of silence', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ silenceClock: clock, keepaliveMaxSec: 2 })
  // keepalive 0: no pings, so nothing arrives from it (as from a board whose link died without a FIN).
  const c = await mqtt.connectAsync(f.cloud.broker.url, { clientId: 'quiet', username: 'quiet', password: await f.addDevice('quiet'), keepalive: 0, reconnectPeriod: 0 })
  c.on('error', () => {})
  try {
    assert.ok(await connected(f, 'quiet'))
    // A sweep (every 750 ms) notes its last bytes before the step.
    await clock.advance(800)
    clock.jumpTo(clock.now() - HOURS)
    await clock.advance(4000)
    await until(async () => !(await connected(f, 'quiet')), 3000).catch(() => {})
    assert.is(await connected(f, 'quiet'), false, 'silent for 4 s against a window of 3 s')
  } finally {
    c.end(true)
    await f.cleanup()
  }
})

test('[W3] a cloud clock stepped forward 3 hours does not close a device connection that spoke a second ago', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ silenceClock: clock, keepaliveMaxSec: 2 })
  const c = await mqtt.connectAsync(f.cloud.broker.url, { clientId: 'talker', username: 'talker', password: await f.addDevice('talker'), keepalive: 0, reconnectPeriod: 0 })
  c.on('error', () => {})
  try {
    await c.publishAsync(upTopic('talker', 'heartbeat'), encodeFrame({ time: clock.now(), backlog: { records: 0, bytes: 0 }, uploadedToday: 0, lastSeq: 0 }), { qos: 1 })
    // A sweep (every 750 ms) sees it talk; the next one comes after the step.
    await clock.advance(750)
    clock.jumpTo(clock.now() + HOURS)
    await clock.advance(750)
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.is(await connected(f, 'talker'), true, 'silent for 750 ms against a window of 3 s')
  } finally {
    c.end(true)
    await f.cleanup()
  }
})

test('a cloud clock stepped back 3 hours: the fleet view (dashboard, GET /v1/fleet) is not served from a refresh hours old', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-field-feed-'))
  const registry = await LevelRegistry.open(dir)
  const clock = new FakeClock(Date.now())
  const feed = new FleetFeed({ registry, isConnected: () => true, clock })
  try {
    await registry.addDevice({ id: 'gh-01', secretHash: 'x', createdAt: clock.now() })
    assert.equal((await feed.view()).devices.map((d) => d.id), ['gh-01'])
    clock.jumpTo(clock.now() - HOURS)
    await registry.addDevice({ id: 'gh-02', secretHash: 'x', createdAt: clock.now() })
    await clock.advance(1500)
    // view() answers from a refresh at most 1 s old.
    assert.equal((await feed.view()).devices.map((d) => d.id).sort(), ['gh-01', 'gh-02'])
  } finally {
    feed.close()
    await registry.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

interface TakeoverView { backlogAt: number | null, takeovers: { count: number, recent: number }, problems: string[] }
const SHARED = /two clients share this id/
const twin = async (f: CloudFixture): Promise<TakeoverView> => (await f.api<TakeoverView>('GET', '/v1/devices/twin')).body

/** Four connections on one id, each taking over the one before: 3 takeovers, shown as two clients sharing it. The last one is returned. */
async function cloned (f: CloudFixture): Promise<{ c: MqttClient, secret: string }> {
  const secret = await f.addDevice('twin')
  let c: MqttClient | undefined
  for (let i = 0; i < 4; i++) c = await f.connect('twin', secret, { clean: false })
  await until(async () => (await twin(f)).takeovers.count === 3, 3000)
  assert.match((await twin(f)).problems.join('\n'), SHARED)
  return { c: c as MqttClient, secret }
}

/** The device's heartbeat, stamped by the cloud's (stepped) wall clock: its lastSeen (never moved back) and its backlogAt. */
async function heartbeat (f: CloudFixture, c: MqttClient, clock: FakeClock): Promise<void> {
  await c.publishAsync(upTopic('twin', 'heartbeat'), encodeFrame({ time: clock.now(), backlog: { records: 0, bytes: 0 }, uploadedToday: 0, lastSeq: 0 }), { qos: 1 })
  await until(async () => (await twin(f)).backlogAt === clock.now(), 10_000)
}

test('a cloud clock stepped back 3 hours: a takeover once the 10-minute window has passed is one, logged and shown as such', async () => {
  const clock = new FakeClock(Date.now())
  const lines: string[] = []
  const f = await startCloud({ clock, log: (l) => lines.push(l) })
  try {
    const { secret } = await cloned(f)
    clock.jumpTo(clock.now() - HOURS)
    await clock.advance(TAKEOVER_WINDOW_MS + 1000)
    const logged = lines.length
    await f.connect('twin', secret, { clean: false })
    await until(async () => (await twin(f)).takeovers.count === 4, 10_000).catch(() => {})
    await until(() => lines.slice(logged).some((l) => l.includes('took over the open one')), 3000).catch(() => {})
    const v = await twin(f)
    assert.equal([v.takeovers.count, v.takeovers.recent], [4, 1])
    assert.not.match(v.problems.join('\n'), SHARED)
    const line = lines.slice(logged).find((l) => l.includes('took over the open one'))
    assert.ok(line !== undefined && !SHARED.test(line), `logged: ${String(line)}`)
  } finally {
    await f.cleanup()
  }
})

test('a cloud clock stepped forward 3 hours: "two clients share this id" stays while the takeovers are minutes old', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ clock })
  try {
    const { c } = await cloned(f)
    clock.jumpTo(clock.now() + HOURS)
    await clock.advance(60_000)
    await heartbeat(f, c, clock)
    const v = await twin(f)
    assert.equal([v.takeovers.count, v.takeovers.recent], [3, 3])
    assert.match(v.problems.join('\n'), SHARED)
  } finally {
    await f.cleanup()
  }
})

test.run()
