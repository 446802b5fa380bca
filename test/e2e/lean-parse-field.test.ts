// The trigger link's lean incoming parser (src/mqtt/lean-parse.ts) in the field: real `lambkin
// device` and `lambkin cloud` processes, Mosquitto as the trigger broker behind a TCP relay that
// hands the agent its bytes in 1-byte and odd-sized pieces, or cuts the link every few KiB
// mid-packet; hostile topics (`__proto__`, `constructor`, unicode), empty payloads and MQTT 5
// user properties on the way. Every trigger Mosquitto acknowledged must have exactly one result
// in the cloud, in order per topic (concurrency 1, docs/architecture.md "In order"), and the
// agent must stop cleanly. Then a hostile raw TCP "broker" sends malformed, truncated and
// oversized packets: the agent must refuse them, reconnect, read what comes after, and live.
// LEAN_FIELD_ONLY=shape, cut or hostile runs one of the three.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { mosquittoMissing, startMosquitto } from '../helpers/brokers.js'
import { startRelay } from '../helpers/tcp-relay.js'
import type { TcpRelay } from '../helpers/tcp-relay.js'
import { splitPackets } from '../../src/mqtt/split-packets.js'
import { startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'
import { startCloudProcess, until } from './fixtures/cloud-process.js'
import type { CloudProcess, StoredRec } from './fixtures/cloud-process.js'

const skip = mosquittoMissing()
const DEVICE = 'lean-parse-01'
const TOPICS = ['in/a', 'in/__proto__', 'in/constructor', 'in/é/🐑', 'in/toString']
const N = 2000
const EMPTY = 40

const FUNCTION = {
  manifest: { triggers: [{ mqtt: 'in/#', qos: 1 }], permissions: { publish: ['out/#'] }, limits: { concurrency: 1 } },
  // Both ctx.publish forms: option-less (frozen defaults) and with options.
  code: `export default (e, ctx) => {
    const id = typeof e.payload === 'object' && e.payload !== null ? e.payload.id : null
    ctx.publish('out/plain', { id })
    ctx.publish('out/q1', { id }, { qos: 1 })
    return { topic: e.topic, id, empty: e.payload === '' }
  }`
}

interface World {
  root: string
  cloud: CloudProcess
  agent: LambkinProcess | undefined
  secret: string
  config: (mqttUrl: string, extra?: Record<string, unknown>) => string
  results: () => Promise<StoredRec[]>
  close: () => Promise<void>
}

async function world (): Promise<World> {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-lean-parse-'))
  const functions = writeFunctions(path.join(root, 'functions'), { relay: FUNCTION })
  const cloud = await startCloudProcess(path.join(root, 'cloud'))
  const { secret } = await cloud.api<{ secret: string }>('POST', '/v1/devices', { id: DEVICE })
  const w: World = {
    root,
    cloud,
    agent: undefined,
    secret,
    config: (mqttUrl, extra = {}) => {
      const file = path.join(root, 'device.json')
      writeFileSync(file, JSON.stringify({
        id: DEVICE,
        dataDir: path.join(root, 'agent'),
        functionsDir: functions,
        metricsPort: 0,
        mqtt: { url: mqttUrl, reconnectMs: 100, ...extra },
        cloud: { url: `mqtt://127.0.0.1:${cloud.port}`, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 300, ackTimeoutMs: 5000 }
      }))
      return file
    },
    results: async () => (await cloud.records(DEVICE)).filter((r) => r.kind === 'result' || r.kind === 'dead-letter'),
    close: async () => {
      await w.agent?.stop('SIGKILL')
      await cloud.proc?.stop('SIGKILL')
      rmSync(root, { recursive: true, force: true })
    }
  }
  return w
}

async function startAgent (w: World, config: string, quiet = true): Promise<LambkinProcess> {
  const agent = startLambkin(['device', '--config', config, ...(quiet ? ['--quiet'] : [])], { env: { LAMBKIN_CLOUD_PASSWORD: w.secret } })
  w.agent = agent
  await agent.waitFor('stdout', new RegExp(`lambkin device ${DEVICE} ready`), 60_000)
  return agent
}

/**
 * N QoS 1 triggers on TOPICS (some with MQTT 5 user properties of hostile names) and EMPTY
 * zero-length ones, from a publisher with its own session, through `link` to the agent; `fault`
 * shapes the link first. Checks each acknowledged trigger's result once, in order per topic.
 */
async function relayThroughLink (fault: (link: TcpRelay) => void): Promise<void> {
  const broker = await startMosquitto(['max_queued_messages 0', 'max_inflight_messages 20'])
  const link = await startRelay({ port: broker.port })
  fault(link)
  const w = await world()
  let publisher: mqtt.MqttClient | undefined
  try {
    const agent = await startAgent(w, w.config(link.url))
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'lean-publisher', protocolVersion: 5, reconnectPeriod: 0, clean: false })
    const pub = publisher
    const acked = new Set<number>()
    let emptyAcked = 0
    const user = JSON.parse('{"__proto__":"p","constructor":"c","é":"🐑","toString":["1","2"]}') as Record<string, string>
    const sending: Array<Promise<unknown>> = []
    for (let i = 0; i < N; i++) {
      const properties = i % 3 === 0 ? { userProperties: user } : undefined
      sending.push(pub.publishAsync(TOPICS[i % TOPICS.length], JSON.stringify({ id: i }), { qos: 1, properties }).then(() => acked.add(i)))
      if (i % (N / EMPTY) === 0) sending.push(pub.publishAsync('in/empty', Buffer.alloc(0), { qos: 1 }).then(() => { emptyAcked++ }))
    }
    await Promise.all(sending)
    assert.is(acked.size, N)
    assert.is(emptyAcked, EMPTY)
    let records: StoredRec[] = []
    await until(() => `${N + EMPTY} results in the cloud (have ${records.length}); link connections ${link.connections}`, async () => {
      records = await w.results()
      return records.length >= N + EMPTY
    }, 180_000)
    const dead = records.filter((r) => r.kind !== 'result')
    assert.equal(dead.slice(0, 3).map((r) => r.data), [], 'no dead letters')
    const byId = new Map<number, number>()
    const lastOf = new Map<string, number>()
    let empties = 0
    const outOfOrder: string[] = []
    for (const r of records) {
      const res = r.data.result as { topic: string, id: number | null, empty: boolean }
      if (res.id === null) {
        assert.ok(res.empty && res.topic === 'in/empty', `a result without an id: ${JSON.stringify(res)}`)
        empties++
        continue
      }
      assert.is(res.topic, TOPICS[res.id % TOPICS.length], `trigger ${res.id}'s topic`)
      byId.set(res.id, (byId.get(res.id) ?? 0) + 1)
      const last = lastOf.get(res.topic) ?? -1
      if (res.id <= last) outOfOrder.push(`${res.topic}: ${res.id} after ${last}`)
      lastOf.set(res.topic, res.id)
    }
    const twice = [...byId].filter(([, c]) => c > 1).map(([id]) => id)
    assert.equal(twice.slice(0, 20), [], `${twice.length} triggers with more than one result`)
    const missing = [...acked].filter((i) => !byId.has(i))
    assert.equal(missing.slice(0, 20), [], `${missing.length} acknowledged triggers without a result`)
    assert.is(empties, EMPTY, 'each empty payload once')
    assert.equal(outOfOrder.slice(0, 10), [], 'results in order per topic')
    const seqs = (await w.cloud.records(DEVICE)).filter((r, i) => r.seq !== i + 1)
    assert.equal(seqs.slice(0, 1).map((r) => r.seq), [], 'seqs run 1, 2, 3...')
    console.log(`lean-parse field: ${N + EMPTY} triggers, ${link.connections} trigger link connections, ${records.length} results`)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr().slice(-3000))
  } finally {
    await publisher?.endAsync(true)
    await w.close()
    await link.close()
    await broker.close()
  }
}

const only = process.env.LEAN_FIELD_ONLY

test('triggers reach the agent in 1-byte and odd-sized pieces: each acknowledged one has one result in the cloud, in order per topic', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  if (only !== undefined && only !== 'shape') return
  const sizes = [1, 1, 1, 1, 2, 3, 5, 7, 11, 13, 17, 61, 127, 509, 1, 4093]
  let n = 0
  await relayThroughLink((link) => { link.shape = (dir) => dir === 'down' ? sizes[n++ % sizes.length] : 1 << 16 })
})

test('the trigger link cut every 7,919 bytes, mid-packet: each acknowledged trigger has one result in the cloud, in order per topic', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  if (only !== undefined && only !== 'cut') return
  await relayThroughLink((link) => { link.cutDownAfter = 7919 })
})

/** An MQTT 5 PUBLISH as bytes: QoS `qos`, packet id `pid`, no properties unless given raw. */
function publish (topic: string, payload: Buffer, qos: 0 | 1, pid = 1, props = Buffer.from([0])): Buffer {
  const t = Buffer.from(topic)
  const id = qos === 1 ? Buffer.from([pid >> 8, pid & 0xff]) : Buffer.alloc(0)
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, id, props, payload])
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), varInt(body.length), body])
}

function varInt (n: number): Buffer {
  const out: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return Buffer.from(out)
}

/** What the hostile broker sends on its k-th connection after the SUBACK, before a good probe. */
/**
 * What the hostile broker sends on its k-th connection after the SUBACK, before a good probe,
 * and what the agent must do: `refused`, log LAMBKIN_BROKER_MALFORMED and close before the probe;
 * `silent`, close at the keepalive; `read`, take it and the probe (mqtt-packet reads these).
 */
const HOSTILE: Array<[string, Buffer, 'refused' | 'silent' | 'read']> = [
  ['a topic longer than the packet', Buffer.from([0x32, 0x05, 0x00, 0x10, 0x61, 0x62, 0x63]), 'refused'],
  ['a remaining length of 5 bytes', Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]), 'refused'],
  ['QoS 3', Buffer.concat([Buffer.from([0x36]), publish('in/x', Buffer.from('{}'), 1).subarray(1)]), 'refused'],
  ['properties longer than the packet', publish('in/x', Buffer.from('{}'), 1, 7, Buffer.from([0x20, 0x26, 0x00])), 'refused'],
  ['an unknown property id', publish('in/x', Buffer.from('{}'), 1, 7, Buffer.from([0x02, 0x7f, 0x00])), 'refused'],
  // mqtt-packet reads the name's length past the properties' end, into the payload; not refused.
  ['a User Property cut short', publish('in/x', Buffer.from('{}'), 1, 7, Buffer.from([0x03, 0x26, 0x00, 0x09])), 'read'],
  ['a PUBACK of 5 bytes', Buffer.from([0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00]), 'read'],
  // mqtt-packet emits it with packet id -1, and MQTT.js then throws writing its PUBACK.
  ['a PUBLISH with its packet id cut off', Buffer.from([0x32, 0x05, 0x00, 0x02, 0x69, 0x6e, 0x00]), 'refused'],
  ['a PUBLISH with no room for a packet id', Buffer.from([0x32, 0x04, 0x00, 0x02, 0x69, 0x6e]), 'refused'],
  ['a remaining length of 256 MiB, then silence', Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x04, 0x69, 0x6e, 0x2f, 0x78]), 'silent'],
  // Over the event cap (256 KiB): acknowledged, and a LAMBKIN_INPUT_LIMIT dead letter.
  ['a 512 KiB trigger', publish('in/big', Buffer.from(JSON.stringify({ id: 900, pad: 'x'.repeat(512 << 10) })), 1, 9), 'read'],
  // Over mqtt.maxPacketBytes's default (1 MiB): skipped unread, acknowledged, and a
  // LAMBKIN_BROKER_PACKET_TOO_LARGE dead letter.
  ['a 2 MiB trigger', publish('in/huge', Buffer.from(JSON.stringify({ id: 901, pad: 'x'.repeat(2 << 20) })), 1, 10), 'read'],
  ['a reserved packet type 0', Buffer.from([0x00, 0x00]), 'refused']
]

test('a hostile broker sends malformed, truncated and oversized packets: the agent refuses each, reconnects, reads the good ones after, and lives', async () => {
  if (only !== undefined && only !== 'hostile') return
  const w = await world()
  const conns: net.Socket[] = []
  /** Per connection: what was sent, and the probe ids the agent PUBACKed on it. */
  const log: Array<{ what: string, acked: number[], closedByAgent: boolean }> = []
  let k = 0
  const server = net.createServer((s) => {
    conns.push(s)
    const i = k++
    const entry = { what: i < HOSTILE.length ? HOSTILE[i][0] : 'good', acked: [] as number[], closedByAgent: true }
    log.push(entry)
    let rest = Buffer.alloc(0)
    let pid = 100
    s.on('error', () => {})
    s.on('data', (chunk: Buffer) => {
      const split = splitPackets(rest.length === 0 ? chunk : Buffer.concat([rest, chunk]))
      rest = Buffer.from(split.rest)
      for (const p of split.packets) {
        const type = p[0] >> 4
        if (type === 1) s.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]))
        else if (type === 12) s.write(Buffer.from([0xd0, 0x00]))
        else if (type === 3 && (p[0] & 6) === 2) {
          // The agent's own QoS 1 publishes are acked, as a broker does: MQTT.js sends the ones
          // kept from a lost connection one by one, and reports the connection up after the last.
          let at = 1
          while ((p[at] & 0x80) !== 0) at++
          const pidAt = at + 3 + p.readUInt16BE(at + 1)
          s.write(Buffer.from([0x40, 0x02, p[pidAt], p[pidAt + 1]]))
        } else if (type === 8) {
          // SUBACK: the packet id after the fixed header, one granted QoS 1 per filter (the agent subscribes to one).
          const hdr = p[1] & 0x80 ? 3 : 2
          s.write(Buffer.from([0x90, 0x04, p[hdr], p[hdr + 1], 0x00, 0x01]))
          const probes = i < HOSTILE.length ? [HOSTILE[i][1], publish('in/good', Buffer.from(JSON.stringify({ id: 1000 + i })), 1, pid++)] : Array.from({ length: 20 }, (_, j) => publish('in/good', Buffer.from(JSON.stringify({ id: 2000 + j })), 1, pid++))
          // The hostile packet alone in its write, the probe in the next.
          s.write(probes[0])
          setTimeout(() => { for (const b of probes.slice(1)) if (!s.destroyed) s.write(b) }, 50)
        } else if (type === 4) {
          const id = p.readUInt16BE(2)
          entry.acked.push(id)
          if (i < HOSTILE.length) { entry.closedByAgent = false; s.destroy() }
        }
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as net.AddressInfo).port
  try {
    const agent = await startAgent(w, w.config(`mqtt://127.0.0.1:${port}`, { keepaliveSec: 5 }), false)
    await until(() => `the good connection's 20 PUBACKs (connections ${k}: ${JSON.stringify(log)}); agent stdout ${agent.stdout().slice(-3000)} stderr ${agent.stderr().slice(-20000)}`,
      () => log.length > HOSTILE.length && log[HOSTILE.length].acked.length >= 20, 120_000)
    let records: StoredRec[] = []
    await until(() => `the good results in the cloud (have ${records.length})`, async () => {
      records = await w.results()
      return records.filter((r) => ((r.data.result as { id?: number } | undefined)?.id ?? 0) >= 2000).length >= 20
    }, 60_000)
    records = await w.results()
    const refused = HOSTILE.filter(([, , how]) => how === 'refused')
    const logged = agent.stderr().split('\n').filter((l) => l.startsWith('LAMBKIN_BROKER_MALFORMED: ')).length
    assert.is(logged, refused.length, `one LAMBKIN_BROKER_MALFORMED line per refused packet:\n${agent.stderr().slice(-6000)}`)
    for (const [i, [what, , how]] of HOSTILE.entries()) {
      if (how === 'read') assert.ok(log[i].acked.length > 0, `${what}: read, and the probe after it`)
      else assert.equal({ ...log[i], acked: log[i].acked.length }, { what, acked: 0, closedByAgent: true }, `${what}: the agent closes the connection before the probe`)
    }
    // Every probe the agent acknowledged has its one result, and the good ones all.
    const ids = new Map<number, number>()
    for (const r of records) {
      const id = (r.data.result as { id?: number } | undefined)?.id
      if (typeof id === 'number') ids.set(id, (ids.get(id) ?? 0) + 1)
    }
    const probes = HOSTILE.flatMap(([, , how], i) => how === 'read' && log[i].acked.includes(100) ? [1000 + i] : [])
    for (const id of [...probes, ...Array.from({ length: 20 }, (_, j) => 2000 + j)]) assert.is(ids.get(id), 1, `probe ${id}'s result once`)
    const deadLetters = (code: string) => records.filter((r) => r.kind === 'dead-letter' && JSON.stringify(r.data).includes(code)).map((r) => JSON.stringify(r.data).match(/"topic":"(in\/[a-z]+)"/)?.[1]).sort()
    assert.equal(deadLetters('LAMBKIN_INPUT_LIMIT'), ['in/big'], 'the 512 KiB trigger is one LAMBKIN_INPUT_LIMIT dead letter')
    // The 256 MiB QoS 0 PUBLISH is recorded from its topic as soon as it is known to be over the cap.
    assert.equal(deadLetters('LAMBKIN_BROKER_PACKET_TOO_LARGE'), ['in/huge', 'in/x'], 'the 2 MiB trigger and the 256 MiB one are each one LAMBKIN_BROKER_PACKET_TOO_LARGE dead letter')
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr().slice(-3000))
  } finally {
    for (const s of conns) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await w.close()
  }
})

test.run()
