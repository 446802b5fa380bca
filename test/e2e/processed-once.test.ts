// Processed once (docs/architecture.md, "Durability"; DESIGN section 6): a blip of the trigger
// link during a QoS 1 burst. A TCP relay on loopback sits between the MQTT client and the
// broker; after 100 messages it drops the PUBACKs going back, then cuts the connection. The
// broker (or the sensor) sends again what it had no PUBACK for; a message whose outcome the
// agent had committed is acknowledged without running its function again. Every message ends
// as exactly one result in the outbox. Real agent process, Mosquitto, aedes, MQTT.js, LevelDB.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startBroker, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'
import { startMosquitto } from '../helpers/brokers.js'
import { PUBACK, PUBLISH, startRelay } from '../helpers/tcp-relay.js'
import type { Direction, TcpRelay } from '../helpers/tcp-relay.js'

const N = 300
/** Messages delivered before the link goes bad. */
const GOOD = 100

async function until (what: string, check: () => boolean, boundMs = 90_000): Promise<void> {
  const end = Date.now() + boundMs
  while (!check()) {
    if (Date.now() > end) assert.unreachable(`${what}: not reached`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/**
 * Watches the relay: PUBLISHes travel `pub`, their PUBACKs the other way. After GOOD
 * PUBLISHes the PUBACKs are dropped, and once 80 more went by (or 400 ms passed) every
 * connection is cut. Tracks which topics arrived, which came again after the cut, and the
 * packet ids still waiting for a PUBACK on the newest connection.
 */
function blip (relay: TcpRelay, pub: Direction): { cut: () => boolean, topics: Set<string>, again: () => number, waiting: () => number } {
  const topics = new Set<string>()
  let again = 0
  let seen = 0
  let bad = false
  let cut = false
  let latest = 0
  let waiting = new Set<number>()
  const doCut = (): void => { if (!cut) { cut = true; bad = false; relay.cut() } }
  relay.filter = (p) => {
    if (p.conn > latest) { latest = p.conn; waiting = new Set() }
    if (p.conn < latest) return false
    if (p.type === PUBLISH && p.dir === pub) {
      if (cut && p.topic !== undefined && topics.has(p.topic)) again++
      if (p.topic !== undefined) topics.add(p.topic)
      if (p.packetId !== undefined) waiting.add(p.packetId)
      seen++
      if (!cut && seen === GOOD) { bad = true; setTimeout(doCut, 400) }
      if (bad && seen >= GOOD + 80) doCut()
      return true
    }
    if (p.type === PUBACK && p.dir !== pub) {
      if (bad) return false
      if (p.packetId !== undefined) waiting.delete(p.packetId)
    }
    return true
  }
  return { cut: () => cut, topics, again: () => again, waiting: () => waiting.size }
}

const FUNCTIONS = { once: { manifest: { triggers: [{ mqtt: 'once/+', qos: 1 }] }, code: 'export default (e) => ({ id: Number(e.topic.split("/")[1]) })' } }

/** Stops the agent and counts its results per message id. */
async function resultsOf (agent: LambkinProcess, data: string): Promise<{ total: number, doubled: number[], missing: number[] }> {
  const stopped = await agent.stop('SIGTERM')
  assert.is(stopped.code, 0, agent.stderr().slice(-2000))
  const ids = (await readOutbox(data)).records.filter((r) => r.kind === 'result').map((r) => (r.data.result as { id: number }).id)
  const count = new Map<number, number>()
  for (const id of ids) count.set(id, (count.get(id) ?? 0) + 1)
  return {
    total: ids.length,
    doubled: [...count].filter(([, n]) => n > 1).map(([id]) => id),
    missing: Array.from({ length: N }, (_, i) => i).filter((i) => !count.has(i))
  }
}

async function externalBroker (name: string, start: () => Promise<{ port: number, url: string, close: () => Promise<void> }>): Promise<void> {
  const broker = await start()
  const relay = await startRelay({ port: broker.port })
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-once-'))
  const data = path.join(root, 'data')
  const config = path.join(root, 'device.json')
  writeFileSync(config, JSON.stringify({ id: 'once-agent', dataDir: data, functionsDir: writeFunctions(path.join(root, 'functions'), FUNCTIONS), mqtt: { url: relay.url, clientId: 'once-agent', reconnectMs: 200 } }))
  const agent = startLambkin(['device', '--config', config, '--quiet'])
  const publisher = await mqtt.connectAsync(broker.url, { clientId: 'once-publisher' })
  try {
    await agent.waitFor('stdout', /ready/)
    const seen = blip(relay, 'down')
    await Promise.all(Array.from({ length: N }, async (_, i) => await publisher.publishAsync(`once/${i}`, String(i), { qos: 1 })))
    await until(`${name}: the blip, then all ${N} delivered and acknowledged`, () => seen.cut() && seen.topics.size === N && seen.waiting() === 0 && relay.connections > 1)
    // Let PUBACKs in flight land, then check nothing waits any more.
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.is(seen.waiting(), 0)
    assert.ok(seen.again() > 0, `${name}: the blip made the broker send messages again`)
    const r = await resultsOf(agent, data)
    assert.equal(r.missing, [], `${name}: messages without a result`)
    assert.equal(r.doubled, [], `${name}: ${r.doubled.length} of ${N} messages ran twice (${seen.again()} sent again)`)
    assert.is(r.total, N)
  } finally {
    await publisher.endAsync(true)
    if (agent.child.exitCode === null) await agent.stop('SIGKILL')
    await relay.close()
    await broker.close()
    rmSync(root, { recursive: true, force: true })
  }
}

test('[processed once] Mosquitto: a link blip during a QoS 1 burst runs no message twice', async () => {
  if (!existsSync('/usr/sbin/mosquitto')) { console.log('skipped: no /usr/sbin/mosquitto'); return }
  await externalBroker('mosquitto', async () => await startMosquitto(['max_inflight_messages 100']))
})

test('[processed once] aedes (external): a link blip during a QoS 1 burst runs no message twice', async () => {
  await externalBroker('aedes', async () => await startBroker())
})

test('[processed once] embedded broker: a sensor whose PUBACKs were lost sends again, and nothing runs twice', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-once-'))
  const data = path.join(root, 'data')
  const agent = startLambkin(['device', '--id', 'once-embedded', '--data', data, '--functions', writeFunctions(path.join(root, 'functions'), FUNCTIONS), '--broker-port', '0', '--quiet'])
  let relay: TcpRelay | undefined
  let sensor: mqtt.MqttClient | undefined
  try {
    const ready = await agent.waitFor('stdout', /broker mqtt:\/\/127\.0\.0\.1:(\d+)/)
    relay = await startRelay({ port: Number(ready[1]) })
    const seen = blip(relay, 'up')
    sensor = await mqtt.connectAsync(relay.url, { clientId: 'once-sensor', clean: false, reconnectPeriod: 200 })
    const acked = new Set<number>()
    for (let i = 0; i < N; i++) void sensor.publishAsync(`once/${i}`, String(i), { qos: 1 }).then(() => acked.add(i), () => {})
    await until(`all ${N} acknowledged to the sensor (have ${acked.size})`, () => seen.cut() && acked.size === N)
    assert.ok(seen.again() > 0, 'the sensor sent messages again after the blip')
    await sensor.endAsync()
    sensor = undefined
    const r = await resultsOf(agent, data)
    assert.equal(r.missing, [])
    assert.equal(r.doubled, [], `${r.doubled.length} of ${N} messages ran twice (${seen.again()} sent again)`)
    assert.is(r.total, N)
  } finally {
    sensor?.end(true)
    if (agent.child.exitCode === null) await agent.stop('SIGKILL')
    await relay?.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
