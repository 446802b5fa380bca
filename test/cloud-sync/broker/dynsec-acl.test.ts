// Device credentials and W1 ACLs on a real Mosquitto with the dynamic-security plugin
// (docs/brokers.md): what lambkin's sink makes (cloud-sync/broker/credentials.ts) is probed by
// devices connecting as boards do, and by the cloud's client consuming their uploads.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { DynsecClient } from '../../../cloud-sync/broker/dynsec.js'
import { fixture } from '../../helpers/agent.js'
import { DynsecCredentials } from '../../../cloud-sync/broker/credentials.js'
import { newSecret } from '../../../src/secrets.js'
import { upFilter } from '../../../src/wire/index.js'
import { CLOUD_SHARE_GROUP } from '../../../cloud-sync/broker/dynsec-roles.js'
import { dynsecSkip, startDynsecMosquitto } from '../../helpers/dynsec.js'
import type { DynsecMosquitto } from '../../helpers/dynsec.js'

const skip = dynsecSkip()
if (skip !== undefined) console.log(`dynsec-acl: skipped: ${skip}`)
const it = skip === undefined ? test : test.skip

let broker: DynsecMosquitto
let admin: DynsecClient
let sink: DynsecCredentials
const opened: MqttClient[] = []

test.before(async () => {
  if (skip !== undefined) return
  broker = await startDynsecMosquitto()
  admin = await DynsecClient.connect({ url: broker.adminUrl })
  sink = new DynsecCredentials(admin)
})

test.after(async () => {
  for (const c of opened) c.end(true)
  await admin?.close()
  await broker?.close()
})

/** Connects as a board does (device/sync/cloud-link.ts): client id and user name are the device id. */
async function device (id: string, secret: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { clientId: id, username: id, password: secret, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 })
  opened.push(c)
  return c
}

/** The connect's refusal (its CONNACK reason code), or 'connected'. */
async function tryConnect (id: string, secret: string, clientId = id): Promise<number | 'connected'> {
  try {
    const c = await mqtt.connectAsync(broker.url, { clientId, username: id, password: secret, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 })
    await c.endAsync()
    return 'connected'
  } catch (err) {
    return (err as { code?: number }).code ?? -1
  }
}

/** The cloud's side: consumes every device's uploads through the shared subscription. */
async function cloudConsumer (): Promise<{ client: MqttClient, got: Array<{ topic: string, text: string }>, next: (topic: string) => Promise<void> }> {
  const client = await mqtt.connectAsync(broker.adminUrl, { protocolVersion: 5, reconnectPeriod: 0 })
  opened.push(client)
  const got: Array<{ topic: string, text: string }> = []
  const waiters: Array<{ topic: string, resolve: () => void }> = []
  client.on('message', (topic, payload) => {
    got.push({ topic, text: payload.toString() })
    for (const w of waiters.filter((x) => x.topic === topic)) w.resolve()
  })
  // The filter cloud instances take uploads from (src/wire/topics.ts), as the cloud role allows.
  const [g] = await client.subscribeAsync(upFilter(CLOUD_SHARE_GROUP), { qos: 1 })
  assert.is(g.qos, 1, 'the cloud role may take the shared subscription')
  return { client, got, next: async (topic) => await new Promise<void>((resolve) => waiters.push({ topic, resolve })) }
}

const closed = async (c: MqttClient): Promise<void> => await new Promise<void>((resolve) => { if (c.disconnected || !c.connected) resolve(); else c.once('close', () => resolve()) })

it('[W1] a device publishes only under its own up/ tree: as another device, or outside lambkin/, it is refused', async () => {
  const a = newSecret()
  await sink.added('probe-a', a)
  await sink.added('probe-b', newSecret())
  const cloud = await cloudConsumer()
  const dev = await device('probe-a', a)
  for (const topic of ['lambkin/v1/probe-b/up/batch', 'lambkin/v1/probe-a/down/ack', 'lambkin/v1/probe-a/up/batch/extra', 'elsewhere/x', '$CONTROL/dynamic-security/v1']) {
    const err = await dev.publishAsync(topic, 'forged', { qos: 1 }).then(() => undefined, (e: Error & { code?: number }) => e)
    assert.ok(err !== undefined, `publish to ${topic} must be refused`)
    assert.is(err.code, 135, `${topic}: not authorized`)
  }
  // Its own topic arrives; the forged ones, sent before on the same connection, never did.
  const own = cloud.next('lambkin/v1/probe-a/up/batch')
  await dev.publishAsync('lambkin/v1/probe-a/up/batch', 'mine', { qos: 1 })
  await own
  assert.equal(cloud.got, [{ topic: 'lambkin/v1/probe-a/up/batch', text: 'mine' }])
  // One member of the share group at a time: a second would take half the messages.
  await cloud.client.endAsync()
})

it('[W1] a device cannot subscribe to another device\'s downlink, to a wildcard over devices, or to #', async () => {
  const a = newSecret()
  await sink.added('sub-a', a)
  await sink.added('sub-b', newSecret())
  const dev = await device('sub-a', a)
  const refused = ['lambkin/v1/sub-b/down/#', 'lambkin/v1/sub-b/down/ack', 'lambkin/v1/+/down/#', 'lambkin/#', '#', '$CONTROL/dynamic-security/#', '$share/lambkin-cloud/lambkin/v1/+/up/#', 'lambkin/v1/sub-a/up/#']
  for (const filter of refused) {
    // MQTT.js turns a SUBACK with 0x87 (not authorized) into an error.
    const err = await dev.subscribeAsync(filter, { qos: 1 }).then(() => undefined, (e: Error) => e)
    assert.match(err?.message ?? 'granted', 'Not authorized', filter)
  }
  const [own] = await dev.subscribeAsync('lambkin/v1/sub-a/down/#', { qos: 1 })
  assert.is(own.qos, 1)
  // The cloud sends to both; only its own downlink reaches the device, in order after the other.
  const cloud = await mqtt.connectAsync(broker.adminUrl, { protocolVersion: 5, reconnectPeriod: 0 })
  opened.push(cloud)
  const got: string[] = []
  const mine = new Promise<void>((resolve) => dev.on('message', (topic) => { got.push(topic); if (topic === 'lambkin/v1/sub-a/down/ack') resolve() }))
  await cloud.publishAsync('lambkin/v1/sub-b/down/ack', 'for b', { qos: 1 })
  await cloud.publishAsync('lambkin/v1/sub-a/down/ack', 'for a', { qos: 1 })
  await mine
  assert.equal(got, ['lambkin/v1/sub-a/down/ack'])
})

it('a device cannot drive the plugin: its createClient on $CONTROL is refused and nothing is made', async () => {
  const a = newSecret()
  await sink.added('sneaky', a)
  const dev = await device('sneaky', a)
  const cmd = JSON.stringify({ commands: [{ command: 'createClient', username: 'intruder', password: 'x', roles: [{ rolename: 'lambkin.admin' }] }] })
  const err = await dev.publishAsync('$CONTROL/dynamic-security/v1', cmd, { qos: 1 }).then(() => undefined, (e: Error & { code?: number }) => e)
  assert.is(err?.code, 135)
  const [got] = await admin.run([{ command: 'getClient', username: 'intruder' }])
  assert.is(got.error, 'Client not found')
})

it('a revoked device is cut at once (its live connection closes) and cannot connect again; others stay', async () => {
  const a = newSecret()
  const b = newSecret()
  await sink.added('revoke-me', a)
  await sink.added('bystander', b)
  const dev = await device('revoke-me', a)
  const other = await device('bystander', b)
  const cut = closed(dev)
  await sink.revoked('revoke-me')
  await cut
  assert.is(await tryConnect('revoke-me', a), 135)
  assert.ok(other.connected, 'another device keeps its connection')
  await other.publishAsync('lambkin/v1/bystander/up/heartbeat', 'x', { qos: 1 })
  // Revoking again (an operator retrying after a lost answer) succeeds; the role is gone too.
  await sink.revoked('revoke-me')
  const [role] = await admin.run([{ command: 'getRole', rolename: 'lambkin.device.revoke-me' }])
  assert.is(role.error, 'Role not found')
})

it('a rotated secret works and the old one does not; the connection on the old one is closed', async () => {
  const old = newSecret()
  await sink.added('rotate-me', old)
  const dev = await device('rotate-me', old)
  const cut = closed(dev)
  const fresh = newSecret()
  await sink.rotated('rotate-me', fresh)
  await cut
  assert.is(await tryConnect('rotate-me', old), 135)
  const again = await device('rotate-me', fresh)
  await again.publishAsync('lambkin/v1/rotate-me/up/heartbeat', 'x', { qos: 1 })
  const err = await again.publishAsync('lambkin/v1/other/up/heartbeat', 'x', { qos: 1 }).then(() => undefined, (e: Error & { code?: number }) => e)
  assert.is(err?.code, 135, 'its ACLs are still its own')
})

it('the right secret under another client id is refused: user name and client id are both the device id', async () => {
  const s = newSecret()
  await sink.added('pinned', s)
  assert.is(await tryConnect('pinned', s, 'pinned-clone'), 135)
  assert.is(await tryConnect('pinned', s), 'connected')
  assert.is(await tryConnect('nobody-added-me', s), 135, 'an unknown user name is refused')
})

it('rotate makes the broker client when the broker has none (a device added before --broker-admin)', async () => {
  const s = newSecret()
  await sink.rotated('late-comer', s)
  assert.is(await tryConnect('late-comer', s), 'connected')
})

it('hostile names: "constructor" is an ordinary device id; "__proto__", "lambkin.cloud" and "#" are refused with LAMBKIN_REQUEST_INVALID before anything is sent', async () => {
  const s = newSecret()
  await sink.added('constructor', s)
  const dev = await device('constructor', s)
  await dev.publishAsync('lambkin/v1/constructor/up/status', 'x', { qos: 1 })
  const cut = closed(dev)
  await sink.revoked('constructor')
  await cut
  for (const id of ['__proto__', 'lambkin.cloud', '#', 'a/b', 'Admin', '']) {
    for (const call of [async () => await sink.added(id, s), async () => await sink.rotated(id, s), async () => await sink.revoked(id)]) {
      const err = await call().then(() => undefined, (e: { code?: string }) => e)
      assert.is(err?.code, 'LAMBKIN_REQUEST_INVALID', JSON.stringify(id))
    }
  }
  // The cloud's own client is untouched: its password still works.
  assert.is(await tryConnect('lambkin.cloud', new URL(broker.adminUrl).password, 'any-id'), 'connected')
})

it('a broker client lambkin did not make is never taken over: add and rotate refuse with LAMBKIN_BROKER_ADMIN_FAILED and its password keeps working', async () => {
  await admin.runAll([{ command: 'createClient', username: 'site-user', password: 'their-password', roles: [{ rolename: 'lambkin.admin' }] }])
  for (const call of [async () => await sink.added('site-user', newSecret()), async () => await sink.rotated('site-user', newSecret())]) {
    const err = await call().then(() => undefined, (e: { code?: string, message: string }) => e)
    assert.is(err?.code, 'LAMBKIN_BROKER_ADMIN_FAILED')
    assert.match(err?.message ?? '', 'client named site-user that lambkin did not make')
  }
  assert.is(await tryConnect('site-user', 'their-password', 'whatever'), 'connected')
})

it('an add sent again (its answer was lost) re-keys lambkin\'s own client: the newer secret works, the older does not', async () => {
  const older = newSecret()
  const newer = newSecret()
  await sink.added('twice', older)
  await sink.added('twice', newer)
  assert.is(await tryConnect('twice', newer), 'connected')
  assert.is(await tryConnect('twice', older), 135)
})

it('rotate gives a device back its role when it was taken away on the broker', async () => {
  const s = newSecret()
  await sink.added('stripped', s)
  await admin.runAll([{ command: 'removeClientRole', username: 'stripped', rolename: 'lambkin.device.stripped' }])
  const fresh = newSecret()
  await sink.rotated('stripped', fresh)
  const dev = await device('stripped', fresh)
  await dev.publishAsync('lambkin/v1/stripped/up/heartbeat', 'x', { qos: 1 })
})

it('the plugin keeps what lambkin made in its file, so a broker restart keeps the devices', async () => {
  await sink.added('kept', newSecret())
  const file = JSON.parse(readFileSync(broker.dynsecFile, 'utf8')) as { clients: Array<{ username: string, clientid?: string, roles?: Array<{ rolename: string }> }>, roles: Array<{ rolename: string }> }
  const kept = file.clients.find((c) => c.username === 'kept')
  assert.equal(kept?.clientid, 'kept')
  assert.equal(kept?.roles?.map((r) => r.rolename), ['lambkin.device.kept'])
  assert.ok(file.roles.some((r) => r.rolename === 'lambkin.device.kept'))
})

it('20 adds at once through two admin clients (two cloud instances) each get their own answers', async () => {
  const second = await DynsecClient.connect({ url: broker.adminUrl })
  try {
    const sinks = [sink, new DynsecCredentials(second)]
    const secrets = Array.from({ length: 20 }, () => newSecret())
    await Promise.all(secrets.map(async (s, i) => await sinks[i % 2].added(`many-${i}`, s)))
    const results = await Promise.all(secrets.map(async (s, i) => await tryConnect(`many-${i}`, s)))
    assert.equal(results, secrets.map(() => 'connected'))
  } finally {
    await second.close()
  }
})

it('[W1][W3] a real agent fits its role: its retained status (with its will), report and heartbeats pass and nothing it does is denied; after revoke its secret no longer gets in', async () => {
  const s = newSecret()
  await sink.added('board-1', s)
  const cloud = await cloudConsumer()
  const f = fixture({})
  const online = cloud.next('lambkin/v1/board-1/up/status')
  const beat = cloud.next('lambkin/v1/board-1/up/heartbeat')
  const agent = await f.start({ id: 'board-1', cloud: { url: broker.url, password: s, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 200 } })
  try {
    await online
    await beat
    await sink.revoked('board-1')
    assert.not.match(broker.output(), /Denied PUBLISH from board-1/)
    // Mosquitto logs a subscription it took as `<client> <qos> <filter>` (a refused one is not logged).
    assert.match(broker.output(), 'board-1 1 lambkin/v1/board-1/down/#')
    assert.is(await tryConnect('board-1', s), 135, 'its secret no longer gets in')
  } finally {
    await cloud.client.endAsync()
    await agent.close()
    f.cleanup()
  }
})

test.run()
