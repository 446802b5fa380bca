// Publishes the trigger broker will never take end as counted dead letters instead of being
// sent on every connection: too large for the broker's maximum packet size (learned from a
// real Mosquitto's CONNACK, or configured for a 3.1.1 broker), or refused with a PUBACK
// reason code (Mosquitto's ACL answering 0x87 Not authorized). Real brokers, LevelDB, QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import type { OutgoingPublish } from '../../../device/links/durable-publishes.js'
import type { Agent } from '../../../device/index.js'
import { FunctionMetrics } from '../../../device/metrics/index.js'
import { PUBLISH_ATTEMPTS } from '../../../device/links/publish-limits.js'
import { PublishRefusals } from '../../../device/links/publish-refusals.js'
import { LevelOutboxStore } from '../../../device/store/index.js'
import { fixture, invocations } from '../../helpers/agent.js'
import type { Fixture } from '../../helpers/agent.js'
import { startMosquitto } from '../../helpers/brokers.js'

/** Publishes one 5 KB and one small message at QoS 1 for every command. */
const BIG = {
  manifest: { triggers: [{ mqtt: 'cmd/#', qos: 1 }], permissions: { publish: ['out/#', 'secret/#'] } },
  code: "export default (e, ctx) => { ctx.publish(e.payload.to ?? 'out/big', 'x'.repeat(5000), { qos: 1 }); ctx.publish('out/small', 'ok', { qos: 1 }); return 'done' }"
}

interface DeadLetter { topic: string, payloadBytes: number, attempts: number, error: { code: string, reasonCode: number } }

async function until (what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/**
 * Sends one command, then checks: the function ran once, the small publish arrived, the
 * refused one is a dead letter with `reasonCode`, is no longer pending, is counted, and the
 * trigger connection never dropped.
 */
async function expectRefused (f: Fixture, agent: Agent, url: string, command: unknown, reasonCode: number, logs: string[]): Promise<DeadLetter> {
  const observer = await mqtt.connectAsync(url)
  await observer.subscribeAsync('out/#', { qos: 1 })
  const seen: string[] = []
  observer.on('message', (topic) => seen.push(topic))
  const ran = invocations(agent, 1)
  const c = await mqtt.connectAsync(url)
  await c.publishAsync('cmd/go', JSON.stringify(command), { qos: 1 })
  await c.endAsync()
  await ran
  await until('the small publish', () => seen.includes('out/small'))
  await until('the dead letter', () => logs.some((l) => l.includes('LAMBKIN_PUBLISH_REFUSED')))
  // Time for a dropped connection to show (Mosquitto closed it at once before the fix).
  await new Promise((resolve) => setTimeout(resolve, 1500))
  assert.match(agent.metrics.toPrometheus(), new RegExp(`lambkin_publishes_refused_total\\{reason_code="0x${reasonCode.toString(16)}"\\} 1\\n`))
  await agent.close()
  await observer.endAsync()
  // The 3.1.1 fallback reconnects once, before anything is sent.
  const fallback = logs.some((l) => l.includes('MQTT 3.1.1')) ? 1 : 0
  // A dropped connection logs "connection to ... lost" (mqtt-link.ts logs each outage once).
  assert.is(logs.filter((l) => l.includes('reconnecting') || l.includes(' lost')).length, fallback, `the trigger connection dropped:\n${logs.join('\n')}`)
  assert.is(seen.filter((t) => t === 'out/small').length, 1)
  assert.is((await f.records('result')).length, 1, 'the function ran once')
  assert.is(await f.pendingPublishes(), 0, 'the refused publish is no longer pending')
  const dead = (await f.records('dead-letter')).map((r) => ({ ...(r.data as DeadLetter), fn: r.fn }))
  assert.is(dead.length, 1)
  assert.is(dead[0]?.error.code, 'LAMBKIN_PUBLISH_REFUSED')
  assert.is(dead[0]?.error.reasonCode, reasonCode)
  assert.is(dead[0]?.fn, 'big')
  assert.is(dead[0]?.payloadBytes, 5000)
  // A restart does not send it again.
  const again = await f.start({ mqtt: { url } })
  await again.close()
  assert.is((await f.records('dead-letter')).length, 1)
  return dead[0] as DeadLetter
}

test('[MQTT 5] a publish over the broker\'s Maximum Packet Size (CONNACK) becomes a dead letter; the connection stays up', async () => {
  const broker = await startMosquitto(['max_packet_size 2000'])
  const f = fixture({ big: BIG })
  const logs: string[] = []
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ mqtt: { url: broker.url } }, { log: (l) => logs.push(l) })
    const dead = await expectRefused(f, agent, broker.url, {}, 0x95, logs)
    assert.is(dead.topic, 'out/big')
    assert.is(dead.attempts, 1)
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await started?.close()
    f.cleanup()
    await broker.stop()
  }
})

test('[MQTT 3.1.1] mqtt.maxPacketBytes bounds publishes to a broker that cannot announce its limit', async () => {
  const aedes = await Aedes.createBroker()
  const server = net.createServer(aedes.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  const f = fixture({ big: BIG })
  const logs: string[] = []
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ mqtt: { url, maxPacketBytes: 2000 } }, { log: (l) => logs.push(l) })
    await expectRefused(f, agent, url, {}, 0x95, logs)
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await started?.close()
    f.cleanup()
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

test('[MQTT 5] a publish the broker refuses with PUBACK reason code 0x87 (ACL) becomes a dead letter after one attempt', async () => {
  // Anonymous clients may use cmd/ and out/, but not write secret/.
  const broker = await startMosquitto(['acl_file {dir}/acl'], { acl: 'topic readwrite cmd/#\ntopic readwrite out/#\ntopic read secret/#\n' })
  const f = fixture({ big: { ...BIG, code: "export default (e, ctx) => { ctx.publish('secret/x', 'nope', { qos: 1 }); ctx.publish('out/small', 'ok', { qos: 1 }); return 'done' }" } })
  const logs: string[] = []
  let started: Agent | undefined
  try {
    const agent = started = await f.start({ mqtt: { url: broker.url } }, { log: (l) => logs.push(l) })
    const observer = await mqtt.connectAsync(broker.url)
    await observer.subscribeAsync('out/#', { qos: 1 })
    const seen: string[] = []
    observer.on('message', (topic) => seen.push(topic))
    const ran = invocations(agent, 1)
    const c = await mqtt.connectAsync(broker.url)
    await c.publishAsync('cmd/go', '{}', { qos: 1 })
    await c.endAsync()
    await ran
    await until('the small publish', () => seen.includes('out/small'))
    await until('the dead letter', () => logs.some((l) => l.includes('LAMBKIN_PUBLISH_REFUSED')))
    assert.match(agent.metrics.toPrometheus(), /lambkin_publishes_refused_total\{reason_code="0x87"\} 1\n/)
    await agent.close()
    await observer.endAsync()
    assert.is(await f.pendingPublishes(), 0)
    const dead = (await f.records('dead-letter')).map((r) => r.data as DeadLetter)
    assert.is(dead.length, 1)
    assert.equal([dead[0]?.topic, dead[0]?.error.code, dead[0]?.error.reasonCode, dead[0]?.attempts], ['secret/x', 'LAMBKIN_PUBLISH_REFUSED', 0x87, 1])
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await started?.close()
    f.cleanup()
    await broker.stop()
  }
})

test('a refusal that may pass (0x97 Quota exceeded) is sent again, and dead-lettered after PUBLISH_ATTEMPTS', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-refusals-'))
  const store = await LevelOutboxStore.open({ dir })
  try {
    const metrics = new FunctionMetrics()
    const logs: string[] = []
    const refusals = new PublishRefusals({ store, metrics, log: (l) => logs.push(l), now: () => 0, retryDelayMs: () => 0 })
    const { publishIds } = await store.commit({ publishes: [{ topic: 'out/q', payload: 'x', qos: 1, retain: false }] })
    const p: OutgoingPublish = { topic: 'out/q', payload: 'x', qos: 1, retain: false, id: publishIds[0], fn: 'f' }
    const quota = { reasonCode: 0x97, permanent: false, message: 'quota exceeded' }
    let sent = 0
    // The broker refuses every send: the first refusals send it again, the last one ends it.
    const resend = (q: OutgoingPublish): void => { sent++; refusals.refused(q, quota, resend) }
    refusals.refused(p, quota, resend)
    await until('the dead letter', () => logs.length > 0)
    await refusals.settled()
    assert.is(sent, PUBLISH_ATTEMPTS - 1)
    assert.is((await store.pendingPublishes()).length, 0)
    const dead = (await store.read({ kinds: ['dead-letter'] })).map((r) => r.data as DeadLetter)
    assert.equal([dead.length, dead[0]?.attempts, dead[0]?.error.reasonCode], [1, PUBLISH_ATTEMPTS, 0x97])
    assert.match(metrics.toPrometheus(), /lambkin_publishes_refused_total\{reason_code="0x97"\} 1\n/)
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
