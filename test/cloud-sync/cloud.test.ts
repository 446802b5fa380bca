// The cloud side with real aedes, LevelDB and Fastify, driven by real MQTT.js devices.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { decodeFrame, encodeFrame, parseAck, upTopic, downTopic } from '../../src/wire/index.js'
import { nextMessage, startCloud } from '../helpers/cloud.js'

const plain = new Encoder({ useRecords: false, mapsAsObjects: true })
const batch = (from: number, to: number, extra: Record<string, unknown> = {}): Buffer => encodeFrame({
  records: Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, kind: 'result', fn: 'f', time: 1_700_000_000_000, data: { n: from + i } })),
  ...extra
})
/** The ack without its `embedded` flag, which every ack of this cloud carries [W4]. */
function ackOf (b: Buffer): { seq: number, rejected?: string } {
  const { embedded, ...ack } = parseAck(decodeFrame(b, 1024))
  assert.is(embedded, true)
  return ack
}
const refusedConnect = async (p: Promise<unknown>): Promise<string> => {
  try { await p } catch (err) { return (err as Error).message }
  throw new Error('connected')
}

test('[W4] a device with its secret uploads a batch, the cloud stores it and acks the high-water; a re-send is deduped', async () => {
  const f = await startCloud()
  try {
    const secret = await f.addDevice('gh-01', 'greenhouse')
    const c = await f.connect('gh-01', secret)
    const ack = nextMessage(c, downTopic('gh-01', 'ack'))
    await c.publishAsync(upTopic('gh-01', 'batch'), batch(1, 3), { qos: 1 })
    assert.equal(ackOf(await ack), { seq: 3 })
    const again = nextMessage(c, downTopic('gh-01', 'ack'))
    await c.publishAsync(upTopic('gh-01', 'batch'), batch(1, 5), { qos: 1 })
    assert.equal(ackOf(await again), { seq: 5 })
    const recs = await f.api<{ records: Array<{ seq: number }> }>('GET', '/v1/devices/gh-01/records?limit=10')
    assert.equal(recs.body.records.map((r) => r.seq), [5, 4, 3, 2, 1])
    const st = await f.api<{ devices: Array<{ id: string, counts: { stored: number, duplicates: number } }> }>('GET', '/v1/status')
    assert.equal(st.body.devices[0].counts, { stored: 5, duplicates: 3, gaps: 0, gapSeqs: 0 })
  } finally {
    await f.cleanup()
  }
})

test('[W2][W8] malformed CBOR, a wrong v, a missing field and a hole are refused and counted; the connection and later batches are unaffected', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    const hole = encodeFrame({ records: [...(decodeFrame(batch(1, 1), 1e6).records as unknown[]), ...(decodeFrame(batch(3, 3), 1e6).records as unknown[])] })
    const bads = [Buffer.from([0xbf, 0x61, 0x00]), plain.encode({ v: 9, records: [] }), encodeFrame({ records: [{ seq: 1, kind: 'result' }] }), hole]
    for (const b of bads) {
      const ack = nextMessage(c, downTopic('gh-01', 'ack'))
      await c.publishAsync(upTopic('gh-01', 'batch'), b, { qos: 1 })
      const a = ackOf(await ack)
      assert.is(a.seq, 0)
      assert.ok(a.rejected !== undefined, JSON.stringify(a))
    }
    const ack = nextMessage(c, downTopic('gh-01', 'ack'))
    await c.publishAsync(upTopic('gh-01', 'batch'), batch(1, 1), { qos: 1 })
    assert.equal(ackOf(await ack), { seq: 1 })
    const st = await f.api<{ cloud: { ingest: { rejected: Record<string, number> } } }>('GET', '/v1/status')
    assert.equal(st.body.cloud.ingest.rejected, { malformed: 1, version: 1, field: 1, 'not-contiguous': 1 })
    assert.ok(c.connected)
  } finally {
    await f.cleanup()
  }
})

test('a wrong secret, an unknown device and a client id that is not the user name are refused and counted', async () => {
  const f = await startCloud()
  try {
    const secret = await f.addDevice('gh-01')
    assert.match(await refusedConnect(f.connect('gh-01', 'wrong')), /Bad username or password|Not authorized|closed/i)
    assert.match(await refusedConnect(f.connect('ghost', secret)), /./)
    assert.match(await refusedConnect(f.connect('gh-01', secret, { clientId: 'gh-02' })), /./)
    const st = await f.api<{ cloud: { refused: Record<string, number> } }>('GET', '/v1/status')
    assert.is(st.body.cloud.refused['bad-credentials'], 2)
    assert.is(st.body.cloud.refused['client-id'], 1)
  } finally {
    await f.cleanup()
  }
})

test('ACL probes by a device with valid credentials are refused, counted, and do not disturb another device', async () => {
  const f = await startCloud()
  try {
    const a = await f.connect('gh-01', await f.addDevice('gh-01'))
    const b = await f.connect('gh-02', await f.addDevice('gh-02'))
    const bAck = nextMessage(b, downTopic('gh-02', 'ack'))
    // Subscriptions to #, another device's downlink and its uplink are refused (granted 128).
    for (const filter of ['#', downTopic('gh-02', 'ack'), 'lambkin/v1/gh-02/down/#', 'lambkin/v1/+/up/+', '$SYS/#']) {
      // MQTT.js rejects a SUBACK whose return code is 128 (MQTT 3.1.1 section 3.9.3).
      const granted = await a.subscribeAsync(filter, { qos: 1 }).then((g) => g[0].qos, (err: Error) => err.message)
      assert.ok(granted === 128 || /Subscribe error/.test(String(granted)), `${filter}: ${String(granted)}`)
    }
    // Publishing as another device, under bundles/, outside the tree or to a downlink closes
    // the offender's connection (MQTT 3.1.1 has no negative PUBACK), and only that one.
    const probes = [upTopic('gh-02', 'batch'), 'lambkin/v1/bundles/' + 'a'.repeat(64), 'alarms/x', downTopic('probe-3', 'ack')]
    for (const [i, topic] of probes.entries()) {
      const id = `probe-${i}`
      const c = await f.connect(id, await f.addDevice(id))
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
      c.publish(topic, batch(1, 1), { qos: 1 })
      await closed
    }
    await b.publishAsync(upTopic('gh-02', 'batch'), batch(1, 2), { qos: 1 })
    assert.equal(ackOf(await bAck), { seq: 2 })
    const st = await f.api<{ cloud: { refused: Record<string, number> } }>('GET', '/v1/status')
    assert.is(st.body.cloud.refused['subscribe-acl'], 5)
    assert.is(st.body.cloud.refused['publish-acl'], 4)
    assert.equal((await f.api<{ records: unknown[] }>('GET', '/v1/devices/gh-01/records')).body.records, [])
  } finally {
    await f.cleanup()
  }
})

test('[W8] an oversized batch is refused as too-large and the device keeps its connection', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    const ack = nextMessage(c, downTopic('gh-01', 'ack'))
    await c.publishAsync(upTopic('gh-01', 'batch'), encodeFrame({ records: [{ seq: 1, kind: 'result', time: 1, data: 'x'.repeat(1_120_000) }] }), { qos: 1 })
    assert.equal(ackOf(await ack), { seq: 0, rejected: 'too-large' })
    assert.ok(c.connected)
  } finally {
    await f.cleanup()
  }
})

test('[W8] a packet over the broker cap closes only that connection, before its payload is buffered; it is counted', async () => {
  const f = await startCloud()
  try {
    const a = await f.connect('gh-01', await f.addDevice('gh-01'))
    const b = await f.connect('gh-02', await f.addDevice('gh-02'))
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()))
    a.publish(upTopic('gh-01', 'batch'), Buffer.alloc(5 * 1024 * 1024), { qos: 1 })
    await closed
    const ack = nextMessage(b, downTopic('gh-02', 'ack'))
    await b.publishAsync(upTopic('gh-02', 'batch'), batch(1, 1), { qos: 1 })
    assert.equal(ackOf(await ack), { seq: 1 })
    const st = await f.api<{ cloud: { refused: Record<string, number> } }>('GET', '/v1/status')
    assert.is(st.body.cloud.refused['packet-too-large'], 1)
  } finally {
    await f.cleanup()
  }
})

test('a --data that is a file, or on /proc, is refused with the key named; a port in use undoes what started', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const path = await import('node:path')
  const { Cloud } = await import('../../cloud-sync/index.js')
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-cloud-bad-'))
  try {
    const file = path.join(dir, 'afile')
    writeFileSync(file, 'x')
    for (const dataDir of [file, path.join(file, 'sub'), '/proc/lambkin-nope']) {
      try { await Cloud.create({ dataDir, port: 0, apiPort: 0 }); assert.unreachable(dataDir) } catch (err) { assert.is((err as { code?: string }).code, 'LAMBKIN_CONFIG_INVALID', dataDir) }
    }
    const f = await startCloud()
    try {
      try { await Cloud.create({ dataDir: path.join(dir, 'second'), port: f.cloud.broker.port, apiPort: 0 }); assert.unreachable() } catch (err) { assert.match((err as Error).message, /EADDRINUSE.*choose another --port/) }
    } finally {
      await f.cleanup()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('[W3] a device whose clock is wrong by a day: records keep its time, liveness uses the cloud clock', async () => {
  let now = 1_800_000_000_000
  const f = await startCloud({ now: () => now })
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    const dayAgo = now - 86_400_000
    await c.publishAsync(upTopic('gh-01', 'status'), encodeFrame({ state: 'online', agent: '0.1.0', time: dayAgo, heartbeatMs: 1000, functions: [{ name: 'f', version: '1' }] }), { qos: 1 })
    await c.publishAsync(upTopic('gh-01', 'batch'), encodeFrame({ records: [{ seq: 1, kind: 'result', fn: 'f', time: dayAgo, data: 1 }] }), { qos: 1 })
    const dev = async (): Promise<{ state: string, lastSeen: number }> => (await f.api<{ state: string, lastSeen: number }>('GET', '/v1/devices/gh-01')).body
    assert.equal(await dev(), { ...(await dev()), state: 'online', lastSeen: now })
    const rec = (await f.api<{ records: Array<{ time: number, receivedAt: number }> }>('GET', '/v1/devices/gh-01/records')).body.records[0]
    assert.equal([rec.time, rec.receivedAt], [dayAgo, now])
    // Three missed heartbeats later it is stale, though it never said offline.
    now += 3001
    assert.is((await dev()).state, 'stale')
  } finally {
    await f.cleanup()
  }
})

test('[W3] a device that said online and then disconnected without a will shows offline at once', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    await c.publishAsync(upTopic('gh-01', 'status'), encodeFrame({ state: 'online', agent: '0.1.0', heartbeatMs: 60_000 }), { qos: 1 })
    assert.is((await f.api<{ state: string, connected: boolean }>('GET', '/v1/devices/gh-01')).body.state, 'online')
    await c.endAsync()
    let state = ''
    for (let i = 0; i < 100 && state !== 'offline'; i++) {
      state = (await f.api<{ state: string }>('GET', '/v1/devices/gh-01')).body.state
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.is(state, 'offline')
  } finally {
    await f.cleanup()
  }
})

test('[W3] status frames with control characters or bad function names, and negative heartbeat counts, are refused', async () => {
  const f = await startCloud()
  try {
    const c = await f.connect('gh-01', await f.addDevice('gh-01'))
    await c.publishAsync(upTopic('gh-01', 'status'), encodeFrame({ state: 'online', functions: [{ name: 'x\u001b[31m', version: '1' }] }), { qos: 1 })
    await c.publishAsync(upTopic('gh-01', 'status'), encodeFrame({ state: 'online', agent: '1\u001b[2J' }), { qos: 1 })
    await c.publishAsync(upTopic('gh-01', 'heartbeat'), encodeFrame({ time: 1, backlog: { records: -5, bytes: 1 }, uploadedToday: -100, lastSeq: 0 }), { qos: 1 })
    const st = await f.api<{ devices: Array<{ functions: unknown[], agent: unknown, backlog: unknown }>, cloud: { ingest: { rejected: Record<string, number> } } }>('GET', '/v1/status')
    assert.is(st.body.cloud.ingest.rejected.field, 3)
    assert.equal([st.body.devices[0].functions, st.body.devices[0].agent, st.body.devices[0].backlog], [[], null, null])
  } finally {
    await f.cleanup()
  }
})

test('revoking a device closes its live connection and refuses its next connect', async () => {
  const f = await startCloud()
  try {
    const secret = await f.addDevice('gh-01')
    const c = await f.connect('gh-01', secret)
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    const r = await f.api<{ revokedAt: number }>('POST', '/v1/devices/gh-01/revoke')
    assert.is(r.status, 200)
    await closed
    assert.match(await refusedConnect(f.connect('gh-01', secret)), /./)
    const st = await f.api<{ devices: Array<{ state: string }>, cloud: { refused: Record<string, number> } }>('GET', '/v1/status')
    assert.is(st.body.devices[0].state, 'revoked')
    assert.is(st.body.cloud.refused.revoked, 1)
  } finally {
    await f.cleanup()
  }
})

test('the API refuses a missing or wrong token, bad ids and duplicate devices with codes', async () => {
  const f = await startCloud()
  try {
    assert.is((await f.api('GET', '/v1/devices', undefined, 'nope')).status, 401)
    const unauth = await fetch(`${f.cloud.api.url}/v1/devices`)
    assert.is(unauth.status, 401)
    assert.is(((await unauth.json()) as { error: { code: string } }).error.code, 'LAMBKIN_UNAUTHORIZED')
    assert.is((await f.api('GET', '/v1/health', undefined, 'nope')).status, 200)
    const bad = await f.api<{ error: { code: string, message: string } }>('POST', '/v1/devices', { id: 'Bad Id' })
    assert.equal([bad.status, bad.body.error.code], [400, 'LAMBKIN_REQUEST_INVALID'])
    assert.match(bad.body.error.message, /device id must be 1 to 63 lower-case letters, digits.*got "Bad Id"/)
    const group = await f.api<{ error: { code: string, message: string } }>('POST', '/v1/devices', { id: 'ok', group: 'gewächshaus' })
    assert.match(group.body.error.message, /group must be 1 to 63 lower-case .*got "gewächshaus"/)
    await f.addDevice('gh-01')
    const dup = await f.api<{ error: { code: string } }>('POST', '/v1/devices', { id: 'gh-01' })
    assert.equal([dup.status, dup.body.error.code], [409, 'LAMBKIN_DEVICE_EXISTS'])
    const missing = await f.api<{ error: { code: string } }>('GET', '/v1/devices/nope/records')
    assert.equal([missing.status, missing.body.error.code], [404, 'LAMBKIN_DEVICE_NOT_FOUND'])
    const kind = await f.api<{ error: { code: string } }>('GET', '/v1/devices/gh-01/records?kind=nope')
    assert.is(kind.status, 400)
  } finally {
    await f.cleanup()
  }
})

test('a restart on the same data keeps devices, records and the token', async () => {
  const f = await startCloud()
  try {
    const secret = await f.addDevice('gh-01')
    const c = await f.connect('gh-01', secret)
    const ack = nextMessage(c, downTopic('gh-01', 'ack'))
    await c.publishAsync(upTopic('gh-01', 'batch'), batch(1, 4), { qos: 1 })
    await ack
    c.end(true)
    await f.restart()
    assert.is((await f.api<{ records: unknown[] }>('GET', '/v1/devices/gh-01/records')).body.records.length, 4)
    const c2 = await f.connect('gh-01', secret)
    const ack2 = nextMessage(c2, downTopic('gh-01', 'ack'))
    await c2.publishAsync(upTopic('gh-01', 'batch'), batch(3, 6), { qos: 1 })
    assert.equal(ackOf(await ack2), { seq: 6 })
  } finally {
    await f.cleanup()
  }
})

test.run()
