// The agent's cap on incoming packets (mqtt.maxPacketBytes; src/mqtt/packet-cap.ts) in the field:
// real `lambkin device` and `lambkin cloud` processes. A raw TCP "broker" sends a 128 MiB QoS 1
// PUBLISH between normal ones to an agent capped at 1 MiB, under MQTT 3.1.1 and 5, whole, in
// 1-byte then 64 KiB pieces, or cut off in the middle and sent again on the next connection: the
// agent must dead-letter it once (LAMBKIN_BROKER_PACKET_TOO_LARGE) and acknowledge it, run its
// neighbours in order, and never hold the packet (its peak RSS grows by under half of it). Then a
// real Mosquitto is told the cap as MQTT 5 Maximum Packet Size and does not send the big one.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { mosquittoMissing, startMosquitto } from '../helpers/brokers.js'
import { splitPackets } from '../../src/mqtt/split-packets.js'
import { startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'
import { startCloudProcess, until } from './fixtures/cloud-process.js'
import type { CloudProcess, StoredRec } from './fixtures/cloud-process.js'

const DEVICE = 'packet-cap-01'
const MiB = 1024 * 1024
const CAP = MiB
// Without the cap the agent holds the whole packet, and a copy when it is complete: 2 x BIG.
const BIG = 128 * MiB
const FUNCTION = {
  manifest: { triggers: [{ mqtt: 'in/#', qos: 1 }], limits: { concurrency: 1 } },
  code: 'export default (e) => ({ topic: e.topic, id: typeof e.payload === \'object\' && e.payload !== null ? e.payload.id : null })'
}

interface World { root: string, cloud: CloudProcess, secret: string, functions: string, agent?: LambkinProcess }

async function world (): Promise<World> {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-packet-cap-'))
  const functions = writeFunctions(path.join(root, 'functions'), { relay: FUNCTION })
  const cloud = await startCloudProcess(path.join(root, 'cloud'))
  const { secret } = await cloud.api<{ secret: string }>('POST', '/v1/devices', { id: DEVICE })
  return { root, cloud, secret, functions }
}

async function startAgent (w: World, mqttConfig: Record<string, unknown>): Promise<LambkinProcess> {
  const file = path.join(w.root, 'device.json')
  writeFileSync(file, JSON.stringify({
    id: DEVICE,
    dataDir: path.join(w.root, 'agent'),
    functionsDir: w.functions,
    metricsPort: 0,
    mqtt: { reconnectMs: 100, keepaliveSec: 30, maxPacketBytes: CAP, ...mqttConfig },
    cloud: { url: `mqtt://127.0.0.1:${w.cloud.port}`, heartbeatMs: 1000, reconnectMs: 100, reconnectMaxMs: 300, ackTimeoutMs: 5000 }
  }))
  const agent = startLambkin(['device', '--config', file], { env: { LAMBKIN_CLOUD_PASSWORD: w.secret } })
  w.agent = agent
  await agent.waitFor('stdout', new RegExp(`lambkin device ${DEVICE} ready`), 60_000)
  return agent
}

async function close (w: World): Promise<void> {
  await w.agent?.stop('SIGKILL')
  await w.cloud.proc?.stop('SIGKILL')
  rmSync(w.root, { recursive: true, force: true })
}

/** Peak resident set size of a process in bytes (Linux /proc VmHWM). */
function peakRss (pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1]) * 1024
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

/** A QoS 1 PUBLISH's head (fixed header, topic, id, MQTT 5 empty properties) for a payload of `bytes`. */
function publishHead (topic: string, bytes: number, pid: number, v: 4 | 5, dup = false): Buffer {
  const t = Buffer.from(topic)
  const props = v === 5 ? Buffer.from([0]) : Buffer.alloc(0)
  const rest = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, Buffer.from([pid >> 8, pid & 0xff]), props])
  return Buffer.concat([Buffer.from([0x32 | (dup ? 8 : 0)]), varInt(rest.length + bytes), rest])
}

function publish (topic: string, payload: Buffer, pid: number, v: 4 | 5): Buffer {
  return Buffer.concat([publishHead(topic, payload.length, pid, v), payload])
}

type Feed = 'whole' | 'pieces' | 'cut'

/**
 * A raw broker speaking `v`: after the SUBACK it sends good 1, the big PUBLISH (id 50) fed as
 * `feed` says, then good 2 and 3. With 'cut' the first connection ends half-way into the big
 * packet and the next sends it again whole with DUP. Records the PUBACKed ids per connection.
 */
function rawBroker (v: 4 | 5, feed: Feed): { server: net.Server, acks: number[][], connects: Buffer[], sockets: net.Socket[] } {
  const acks: number[][] = []
  const connects: Buffer[] = []
  const sockets: net.Socket[] = []
  const server = net.createServer((s) => {
    sockets.push(s)
    s.setNoDelay(true)
    const k = acks.length
    acks.push([])
    let rest = Buffer.alloc(0)
    s.on('error', () => {})
    const write = async (b: Buffer): Promise<void> => {
      if (s.destroyed) return
      if (s.write(b)) return
      await new Promise<void>((resolve) => {
        const done = (): void => { s.off('drain', done); s.off('close', done); resolve() }
        s.on('drain', done)
        s.on('close', done)
      })
    }
    const sendAll = async (): Promise<void> => {
      await write(publish('in/a', Buffer.from(JSON.stringify({ id: 1 })), 1, v))
      const cut = feed === 'cut' && k === 0
      const head = publishHead('in/big', BIG, 50, v, feed === 'cut' && k > 0)
      const piece = Buffer.alloc(64 * 1024, 0x78)
      if (feed === 'pieces') {
        // The head and the first 4 KiB one byte a write, with a turn between, then 64 KiB writes.
        const first = Buffer.concat([head, piece.subarray(0, 4096)])
        for (let i = 0; i < first.length; i++) {
          await write(first.subarray(i, i + 1))
          await new Promise((resolve) => setImmediate(resolve))
        }
      } else await write(head)
      let sent = feed === 'pieces' ? 4096 : 0
      while (sent < BIG) {
        if (cut && sent >= BIG / 2) { s.destroy(); return }
        const n = Math.min(piece.length - (sent % piece.length), BIG - sent)
        await write(piece.subarray(0, n))
        sent += n
      }
      await write(publish('in/a', Buffer.from(JSON.stringify({ id: 2 })), 2, v))
      await write(publish('in/a', Buffer.from(JSON.stringify({ id: 3 })), 3, v))
    }
    s.on('data', (chunk: Buffer) => {
      const split = splitPackets(rest.length === 0 ? chunk : Buffer.concat([rest, chunk]))
      rest = Buffer.from(split.rest)
      for (const p of split.packets) {
        const type = p[0] >> 4
        if (type === 1) {
          connects.push(Buffer.from(p))
          s.write(v === 5 ? Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]) : Buffer.from([0x20, 0x02, 0x00, 0x00]))
        } else if (type === 12) s.write(Buffer.from([0xd0, 0x00]))
        else if (type === 8) {
          const hdr = p[1] & 0x80 ? 3 : 2
          s.write(v === 5 ? Buffer.from([0x90, 0x04, p[hdr], p[hdr + 1], 0x00, 0x01]) : Buffer.from([0x90, 0x03, p[hdr], p[hdr + 1], 0x01]))
          void sendAll()
        } else if (type === 4) acks[k].push(p.readUInt16BE(2))
      }
    })
  })
  return { server, acks, connects, sockets }
}

for (const [v, feed] of [[4, 'whole'], [5, 'whole'], [4, 'pieces'], [5, 'cut']] as Array<[4 | 5, Feed]>) {
  test(`[MQTT ${v === 5 ? '5' : '3.1.1'}, ${feed}] a 128 MiB PUBLISH over a 1 MiB cap is dead-lettered once and acknowledged, its neighbours run in order, and it is never held`, async () => {
    const w = await world()
    const { server, acks, connects, sockets } = rawBroker(v, feed)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    const port = (server.address() as net.AddressInfo).port
    try {
      const agent = await startAgent(w, { url: `mqtt://127.0.0.1:${port}`, protocolVersion: v })
      const pid = agent.child.pid as number
      const before = peakRss(pid)
      const last = feed === 'cut' ? 1 : 0
      await until(() => `PUBACKs of 1, 50, 2, 3 on connection ${last} (have ${JSON.stringify(acks)}); stderr ${agent.stderr().slice(-3000)}`,
        () => (acks[last] ?? []).includes(3), 120_000)
      const peak = peakRss(pid)
      console.log(`packet-cap field [v${v}, ${feed}]: peak RSS ${(before / MiB).toFixed(1)} -> ${(peak / MiB).toFixed(1)} MiB, ${acks.length} connection(s)`)
      // Under half the packet: socket reads are garbage until the next GC, so some growth is expected.
      assert.ok(peak - before < BIG / 2, `peak RSS grew by ${((peak - before) / MiB).toFixed(1)} MiB for a ${BIG / MiB} MiB packet`)
      assert.equal(acks[last].filter((id) => id !== 1), [50, 2, 3], 'the big one acknowledged in its place')
      let records: StoredRec[] = []
      await until(() => `3 results and a dead letter in the cloud (have ${JSON.stringify(records.map((r) => r.kind))})`, async () => {
        records = (await w.cloud.records(DEVICE)).filter((r) => r.kind === 'result' || r.kind === 'dead-letter')
        return records.filter((r) => r.kind === 'result').length >= 3 && records.some((r) => r.kind === 'dead-letter')
      }, 60_000)
      const dead = records.filter((r) => r.kind === 'dead-letter')
      assert.is(dead.length, 1, 'one dead letter')
      assert.equal((dead[0].data.error as { code: string }).code, 'LAMBKIN_BROKER_PACKET_TOO_LARGE')
      assert.is(dead[0].data.topic, 'in/big')
      assert.is(dead[0].data.packetBytes, publishHead('in/big', BIG, 50, v).length + BIG)
      const ids = records.filter((r) => r.kind === 'result').map((r) => (r.data.result as { id: number }).id)
      assert.equal(ids.filter((id) => id !== 1), [2, 3], 'the neighbours once each, in order')
      assert.ok(ids.includes(1))
      if (v === 5) assert.ok(connects[0].includes(Buffer.from([0x27, 0x00, 0x10, 0x00, 0x00])), 'Maximum Packet Size 1 MiB in the CONNECT')
      assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr().slice(-3000))
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await close(w)
    }
  })
}

test('[MQTT 5] a real Mosquitto told the cap as Maximum Packet Size does not send a larger PUBLISH; nothing is dead-lettered', async () => {
  if (mosquittoMissing() !== undefined) return
  const broker = await startMosquitto([])
  const w = await world()
  let publisher: mqtt.MqttClient | undefined
  try {
    const agent = await startAgent(w, { url: broker.url, protocolVersion: 5, maxPacketBytes: 64 * 1024 })
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'cap-publisher', protocolVersion: 5, reconnectPeriod: 0 })
    await publisher.publishAsync('in/a', JSON.stringify({ id: 1 }), { qos: 1 })
    await publisher.publishAsync('in/big', JSON.stringify({ id: 99, pad: 'x'.repeat(200 * 1024) }), { qos: 1 })
    await publisher.publishAsync('in/a', JSON.stringify({ id: 2 }), { qos: 1 })
    let records: StoredRec[] = []
    await until(() => `2 results (have ${records.length})`, async () => {
      records = (await w.cloud.records(DEVICE)).filter((r) => r.kind === 'result' || r.kind === 'dead-letter')
      return records.filter((r) => r.kind === 'result').length >= 2
    }, 60_000)
    assert.equal(records.map((r) => [r.kind, (r.data.result as { id?: number } | undefined)?.id]), [['result', 1], ['result', 2]])
    assert.not.match(agent.stderr(), /LAMBKIN_BROKER_PACKET_TOO_LARGE|LAMBKIN_BROKER_MALFORMED/)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr().slice(-3000))
  } finally {
    await publisher?.endAsync()
    await close(w)
    await broker.stop()
  }
})

test.run()
