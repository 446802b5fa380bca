// The embedded broker opened to a LAN: real aedes on an ephemeral port, real MQTT.js clients and
// raw sockets. Each case is a probe of docs/device.md, "Opening the embedded broker to a LAN".
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { once } from 'node:events'
import net from 'node:net'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { startEmbeddedBroker } from '../../../device/links/broker/index.js'
import type { BrokerSettings, EmbeddedBroker } from '../../../device/links/broker/index.js'
import { hashPassword } from '../../../src/secrets.js'
import { FunctionMetrics } from '../../../device/metrics/index.js'
import type { TriggerMessage } from '../../../device/links/trigger-link.js'

// Cheap scrypt parameters keep the tests quick; the format and the check are the same.
const FAST = { N: 1024, r: 8, p: 1 }

interface Running { broker: EmbeddedBroker, metrics: FunctionMetrics, logs: string[], taken: TriggerMessage[], url: string }

async function start (settings: Partial<BrokerSettings>, host = '127.0.0.1'): Promise<Running> {
  const metrics = new FunctionMetrics()
  const logs: string[] = []
  const broker = await startEmbeddedBroker(host, 0, { settings, metrics, log: (l) => logs.push(l) })
  const taken: TriggerMessage[] = []
  broker.onPublish(async (m) => { taken.push(m) })
  return { broker, metrics, logs, taken, url: `mqtt://127.0.0.1:${broker.port}` }
}

async function users (): Promise<BrokerSettings['users']> {
  return [
    { username: 'sensor', passwordHash: await hashPassword('s3cret', FAST), publish: ['sensors/#'], subscribe: ['cmd/sensor/+'], retain: false },
    { username: 'panel', passwordHash: await hashPassword('p4nel', FAST), publish: ['panel/#'], subscribe: ['sensors/#', '$SYS/#'], retain: true }
  ]
}

function refused (m: FunctionMetrics, reason: string): number {
  const line = m.toPrometheus().split('\n').find((l) => l.startsWith(`lambkin_broker_refused_total{reason="${reason}"}`))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

async function connect (url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
}

async function connectError (url: string, opts: mqtt.IClientOptions): Promise<number | undefined> {
  try {
    const c = await connect(url, opts)
    await c.endAsync()
    return undefined
  } catch (err) {
    return (err as { code?: number }).code
  }
}

/** Resolves when `c`'s connection closes; rejects if it is still open after `ms` (a guard, not a timing). */
async function closed (c: MqttClient | net.Socket, ms = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    // Not events.once: a reset ('error' before 'close') is also the broker closing it.
    new Promise((resolve) => (c as NodeJS.EventEmitter).once('close', resolve)),
    new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('the broker kept the connection open')), ms) })
  ]).finally(() => clearTimeout(timer))
}

test('a wrong password, an unknown user and a missing user name are refused; the right password connects', async () => {
  const b = await start({ users: await users() })
  try {
    assert.is(await connectError(b.url, { username: 'sensor', password: 'wrong' }), 4)
    assert.is(await connectError(b.url, { username: 'nobody', password: 's3cret' }), 4)
    assert.is(await connectError(b.url, {}), 5)
    const ok = await connect(b.url, { username: 'sensor', password: 's3cret' })
    await ok.endAsync()
    // Twice: the second login takes the remembered-password path.
    const again = await connect(b.url, { username: 'sensor', password: 's3cret' })
    await again.endAsync()
    assert.is(await connectError(b.url, { username: 'sensor', password: 's3cret!' }), 4)
    assert.is(refused(b.metrics, 'bad_credentials'), 4)
    assert.ok(b.logs.some((l) => l.includes('bad_credentials')), 'the first refusal is logged')
  } finally {
    await b.broker.close()
  }
})

test('subscriptions to # and $SYS/# outside a user\'s grant get SUBACK 0x80 and deliver nothing; granted ones work', async () => {
  const b = await start({ users: await users() })
  try {
    const sensor = await connect(b.url, { username: 'sensor', password: 's3cret' })
    const panel = await connect(b.url, { username: 'panel', password: 'p4nel' })
    const got: string[] = []
    sensor.on('message', (t) => got.push(t))
    // SUBACK return codes as sent; MQTT.js turns a 0x80 into a rejected subscribe.
    const acks = (c: MqttClient): number[] => {
      const codes: number[] = []
      c.on('packetreceive', (p) => { if (p.cmd === 'suback') codes.push(...(p.granted as number[])) })
      return codes
    }
    const sensorAcks = acks(sensor)
    const panelAcks = acks(panel)
    const subscribe = async (c: MqttClient, filter: string, qos: 0 | 1): Promise<void> => { await c.subscribeAsync(filter, { qos }).catch(() => {}) }
    for (const f of ['#', '$SYS/#', 'sensors/#', 'cmd/#', 'cmd/sensor/+']) await subscribe(sensor, f, 1)
    assert.equal(sensorAcks, [128, 128, 128, 128, 1])
    for (const f of ['$SYS/#', 'sensors/a/+', '#']) await subscribe(panel, f, 0)
    assert.equal(panelAcks, [0, 0, 128])
    assert.ok(sensor.connected && panel.connected, 'a refused subscription keeps the connection')
    await sensor.publishAsync('sensors/a/t', '21', { qos: 1 })
    const granted = new Promise<void>((resolve) => sensor.on('message', (t) => { if (t === 'cmd/sensor/1') resolve() }))
    b.broker.publish('secret/x', Buffer.from('no'), 1, false, () => {})
    b.broker.publish('cmd/sensor/1', Buffer.from('on'), 1, false, () => {})
    await granted
    assert.equal(got, ['cmd/sensor/1'])
    assert.is(refused(b.metrics, 'subscribe_denied'), 5)
    await sensor.endAsync()
    await panel.endAsync()
  } finally {
    await b.broker.close()
  }
})

test('a retained publish without the retain grant, or outside the publish grant, closes the connection without PUBACK and reaches no function', async () => {
  const b = await start({ users: await users() })
  try {
    for (const [topic, retain, reason] of [['sensors/a/t', true, 'retain_denied'], ['panel/lights', false, 'publish_denied']] as const) {
      const c = await connect(b.url, { username: 'sensor', password: 's3cret' })
      let acked = false
      c.publish(topic, 'fake', { qos: 1, retain }, (err) => { if (err === undefined || err === null) acked = true })
      await closed(c)
      c.end(true)
      assert.not.ok(acked, `${topic} was acknowledged`)
      assert.is(refused(b.metrics, reason), 1)
    }
    assert.equal(b.taken, [], 'a refused publish triggered nothing')
    // No retained fake is stored: a new subscriber with the grant receives none.
    const panel = await connect(b.url, { username: 'panel', password: 'p4nel' })
    const got: string[] = []
    panel.on('message', (t) => got.push(t))
    await panel.subscribeAsync('sensors/#', { qos: 1 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(got, [])
    // The user with the retain grant may retain.
    await panel.publishAsync('panel/mode', 'eco', { qos: 1, retain: true })
    assert.equal(b.taken.map((m) => [m.topic, m.retain]), [['panel/mode', true]])
    await panel.endAsync()
  } finally {
    await b.broker.close()
  }
})

test('a will outside the grant, or retained without the retain grant, is not published when the client drops', async () => {
  const b = await start({ users: await users() })
  try {
    for (const will of [{ topic: 'alarms/fire', payload: Buffer.from('fake'), qos: 1 as const, retain: false }, { topic: 'sensors/a/status', payload: Buffer.from('offline'), qos: 1 as const, retain: true }]) {
      const c = await connect(b.url, { username: 'sensor', password: 's3cret', will })
      const before = refused(b.metrics, 'publish_denied') + refused(b.metrics, 'retain_denied')
      // An abrupt end (no DISCONNECT) is what makes a broker publish the will.
      c.stream.destroy()
      for (let i = 0; i < 100 && refused(b.metrics, 'publish_denied') + refused(b.metrics, 'retain_denied') === before; i++) await new Promise((resolve) => setTimeout(resolve, 50))
      c.end(true)
      assert.is(refused(b.metrics, 'publish_denied') + refused(b.metrics, 'retain_denied'), before + 1)
    }
    assert.equal(b.taken, [])
    // A will within the grants is published as usual.
    const ok = await connect(b.url, { username: 'sensor', password: 's3cret', will: { topic: 'sensors/a/status', payload: Buffer.from('offline'), qos: 1, retain: false } })
    ok.stream.destroy()
    for (let i = 0; i < 100 && b.taken.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    ok.end(true)
    assert.equal(b.taken.map((m) => m.topic), ['sensors/a/status'])
  } finally {
    await b.broker.close()
  }
})

test('a client id in use by another user cannot be taken over; the same user can', async () => {
  const b = await start({ users: await users() })
  try {
    const owner = await connect(b.url, { username: 'sensor', password: 's3cret', clientId: 'gh-sensor-1' })
    assert.is(await connectError(b.url, { username: 'panel', password: 'p4nel', clientId: 'gh-sensor-1' }), 2)
    assert.ok(owner.connected, 'the owner was not disconnected')
    assert.is(refused(b.metrics, 'client_id_taken'), 1)
    const kicked = closed(owner)
    const same = await connect(b.url, { username: 'sensor', password: 's3cret', clientId: 'gh-sensor-1' })
    await kicked
    owner.end(true)
    await same.endAsync()
    // A persistent session stays its user's after the connection ends.
    const persistent = await connect(b.url, { username: 'sensor', password: 's3cret', clientId: 'gh-sensor-2', clean: false })
    await persistent.endAsync()
    assert.is(await connectError(b.url, { username: 'panel', password: 'p4nel', clientId: 'gh-sensor-2', clean: false }), 2)
  } finally {
    await b.broker.close()
  }
})

test('0.0.0.0 without users refuses to start (LAMBKIN_CONFIG_INVALID, broker.users); with allowAnonymous: true it starts and warns', async () => {
  try {
    await startEmbeddedBroker('0.0.0.0', 0, {})
    assert.unreachable('an open broker on 0.0.0.0 started')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'LAMBKIN_CONFIG_INVALID')
    assert.match((err as Error).message, 'broker.users')
  }
  const b = await start({ allowAnonymous: true }, '0.0.0.0')
  try {
    assert.ok(b.logs.some((l) => l.startsWith('WARNING') && l.includes('OPEN')), b.logs.join('\n'))
    const c = await connect(b.url)
    await c.endAsync()
  } finally {
    await b.broker.close()
  }
  const withUsers = await start({ users: await users() }, '0.0.0.0')
  assert.equal(withUsers.logs, [])
  await withUsers.broker.close()
})

test('a PUBLISH over maxPacketBytes closes the connection, is not acknowledged and reaches no function', async () => {
  const b = await start({ maxPacketBytes: 4096 })
  try {
    const c = await connect(b.url)
    let acked = false
    c.publish('sensors/a/t', Buffer.alloc(5000, 1), { qos: 1 }, (err) => { if (err === undefined || err === null) acked = true })
    await closed(c)
    c.end(true)
    assert.not.ok(acked)
    assert.equal(b.taken, [])
    assert.is(refused(b.metrics, 'packet_too_large'), 1)
    // Just under the cap still passes.
    const d = await connect(b.url)
    await d.publishAsync('s', Buffer.alloc(4096 - 2 - 3 - 2 - 1), { qos: 1 })
    await d.endAsync()
    assert.is(b.taken.length, 1)
  } finally {
    await b.broker.close()
  }
})

/** CONNECT, MQTT 3.1.1, clean session, keepalive 60, client id "raw". */
const RAW_CONNECT = Buffer.from([0x10, 15, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 3, 0x72, 0x61, 0x77])

test('a 100 MB PUBLISH is refused from its fixed header: the connection closes after the first 64 KiB, nothing buffered whole', async () => {
  const b = await start({})
  try {
    const s = net.connect(b.broker.port, '127.0.0.1')
    s.on('error', () => {})
    await once(s, 'connect')
    s.write(RAW_CONNECT)
    const [connack] = await once(s, 'data') as [Buffer]
    assert.equal([...connack], [0x20, 2, 0, 0])
    // PUBLISH QoS 0, Remaining Length 100,000,000 (variable byte integer, section 1.5.5).
    let n = 100_000_000
    const len: number[] = []
    do { let byte = n % 128; n = Math.floor(n / 128); if (n > 0) byte |= 128; len.push(byte) } while (n > 0)
    s.write(Buffer.concat([Buffer.from([0x30, ...len, 0, 1, 0x74]), Buffer.alloc(64 * 1024)]))
    await closed(s)
    assert.is(refused(b.metrics, 'packet_too_large'), 1)
    assert.equal(b.taken, [])
  } finally {
    await b.broker.close()
  }
})

test('connections over maxConnections are closed on accept and counted; those within it work', async () => {
  const b = await start({ maxConnections: 2 })
  try {
    const one = await connect(b.url)
    const two = await connect(b.url)
    const extra = net.connect(b.broker.port, '127.0.0.1')
    extra.on('error', () => {})
    extra.write(RAW_CONNECT)
    const answers: Buffer[] = []
    extra.on('data', (d: Buffer) => answers.push(d))
    await closed(extra)
    assert.equal(answers, [], 'the extra connection got a CONNACK')
    assert.is(refused(b.metrics, 'connection_limit'), 1)
    assert.ok(one.connected && two.connected)
    await one.endAsync()
    // The broker sees the close a moment later; until then it may still refuse.
    let three: MqttClient | undefined
    for (let i = 0; i < 100 && three === undefined; i++) {
      three = await Promise.race([connect(b.url), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200))])
    }
    assert.ok(three?.connected, 'a freed slot takes a new connection')
    await three?.endAsync()
    await two.endAsync()
  } finally {
    await b.broker.close()
  }
})

test('a connection that never sends CONNECT is closed after connectTimeoutMs; keepalive 0 or above maxKeepaliveSec is refused', async () => {
  const b = await start({ connectTimeoutMs: 1000, maxKeepaliveSec: 120 })
  try {
    const s = net.connect(b.broker.port, '127.0.0.1')
    s.on('error', () => {})
    await once(s, 'connect')
    await closed(s)
    assert.is(refused(b.metrics, 'connect_timeout'), 1)
    assert.is(await connectError(b.url, { keepalive: 0 }), 2)
    assert.is(await connectError(b.url, { keepalive: 121 }), 2)
    assert.is(refused(b.metrics, 'keepalive'), 2)
    const ok = await connect(b.url, { keepalive: 120 })
    await ok.endAsync()
  } finally {
    await b.broker.close()
  }
})

test.run()
