// Durable QoS 1 publishes end to end: a function's publish stays in the store until its broker
// acknowledged it, so a kill -9 of the agent while publishes are in flight, queued behind the
// window or being removed (their removals ride in group commits) loses none of them: after a
// restart every one reaches a subscriber, and none is left in the store. The broker holds back
// its PUBACKs before the kill (aedes' authorizePublish not answering) and forgets those
// publishes with the dead connection, as one lost in transit would be: only the store has them.
// aedes handles the packets of one socket read together and reads no more from that client
// until all of them are done, so one unanswered authorizePublish freezes the agent's
// connection: it holds only the agent's publishes in that read (a handful when the agent
// writes in small pieces), and every publish after it waits in the socket, in flight as far as
// the agent can tell. The kill therefore waits for the agent's own count of publishes in flight
// (lambkin_publishes_inflight), not for a number held in aedes.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { readOutbox, startBroker, startLambkin, writeFunctions } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const N = 1500
const KILL_AFTER = 300
const DEVICE_ID = 'e2e-publish-kill'

test('SIGKILL while QoS 1 publishes are in flight loses none: after a restart every publish arrives', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-e2e-publish-kill-'))
  const data = path.join(root, 'data')
  const functions = writeFunctions(path.join(root, 'functions'), {
    relay: {
      manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }], permissions: { publish: ['out/#'] } },
      code: "export default (e, ctx) => { ctx.publish('out/' + (e.payload.id % 5), { id: e.payload.id }, { qos: 1 }) }"
    }
  })
  const broker = await startBroker()
  const agentId = `lambkin-${DEVICE_ID}`
  // The broker starts holding back the agent's PUBACKs once it has taken KILL_AFTER of its
  // publishes, counted here rather than at the subscriber (which lags behind under load, so the
  // agent could have sent everything before a hold decided by arrivals began).
  let holding = false
  let released = false
  let taken = 0
  let held = 0
  broker.broker.authorizePublish = (client, packet, callback) => {
    if (client?.id === agentId && !holding && !released && ++taken >= KILL_AFTER) holding = true
    if (holding && client?.id === agentId) { held++; return }
    callback(null)
  }
  const args = ['device', '--id', DEVICE_ID, '--data', data, '--functions', functions, '--mqtt', broker.url, '--metrics-port', '0', '--quiet']
  let agent: LambkinProcess | undefined
  let publisher: mqtt.MqttClient | undefined
  let subscriber: mqtt.MqttClient | undefined
  try {
    const arrived = new Set<number>()
    let waiter: (() => void) | undefined
    subscriber = await mqtt.connectAsync(broker.url, { clientId: 'e2e-subscriber', reconnectPeriod: 0 })
    await subscriber.subscribeAsync('out/#', { qos: 1 })
    subscriber.on('message', (_t, payload) => { arrived.add((JSON.parse(payload.toString()) as { id: number }).id); waiter?.() })
    const until = async (n: number, what: string): Promise<void> => await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (have ${arrived.size})`)), 90_000)
      waiter = () => { if (arrived.size >= n) { clearTimeout(timer); waiter = undefined; resolve() } }
      waiter()
    })

    agent = startLambkin(args)
    const metricsUrl = (await agent.waitFor('stdout', /ready: .*metrics (\S+)/))[1]
    const inflight = async (): Promise<number> => Number(/^lambkin_publishes_inflight (\d+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0)
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'e2e-publisher', reconnectPeriod: 0 })
    const pub = publisher
    // Unpaced: the agent works with its window of publishes full and more queued behind it.
    const sending = Promise.all(Array.from({ length: N }, async (_, i) => await pub.publishAsync(`in/${i % 3}`, JSON.stringify({ id: i }), { qos: 1 })))
    const deadline = Date.now() + 90_000
    // Held in aedes, and a window's worth in flight behind them as the agent sees it.
    const heldOne = (): boolean => held >= 1
    for (let sent = 0; !heldOne() || (sent = await inflight()) < 50;) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for a held publish and 50 in flight (held ${held}, in flight ${sent}, taken ${taken})`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const killed = await agent.stop('SIGKILL')
    holding = false
    released = true
    assert.is(killed.signal, 'SIGKILL')
    assert.ok(arrived.size < N, 'the kill should land mid-stream')
    await sending

    // The same data dir and client id: the broker redelivers the inputs never acknowledged,
    // the store sends the publishes never acknowledged.
    agent = startLambkin(args)
    await agent.waitFor('stdout', /ready/)
    await until(N, `all ${N} publishes`)
    assert.equal(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.stderr())
    const missing = Array.from({ length: N }, (_, i) => i).filter((id) => !arrived.has(id))
    assert.equal(missing, [], 'every publish arrived at least once')
    const { stats } = await readOutbox(data)
    assert.is(stats.pendingPublishes, 0, 'every acknowledged publish left the store')
  } finally {
    await publisher?.endAsync(true)
    await subscriber?.endAsync(true)
    await agent?.stop('SIGKILL')
    await broker.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
