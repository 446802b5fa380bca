// An invocation that ends while Agent.create is still starting (a resumed session's queued QoS 1
// message runs as soon as the trigger link connects) is emitted to the listeners attached right
// after create resolves, with its publishes: it used to be emitted to no one, so `lambkin device`
// printed no line for it and device/mqtt5-session.test.ts failed under load (device/startup-events.ts).
// Real Mosquitto, LevelDB and QuickJS, through a relay on loopback that holds the broker's SUBACK
// until the queued message's PUBACK went up: the link waits for that SUBACK before create goes
// on, so the invocation surely ends inside create, with no timing guessed.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import net from 'node:net'
import mqtt from 'mqtt'
import type { Agent, InvocationRecord } from '../../device/index.js'
import { splitPackets } from '../../src/mqtt/split-packets.js'
import { fixture, invocations } from '../helpers/agent.js'
import { mosquittoMissing, startMosquitto } from '../helpers/brokers.js'

const PUBACK = 4
const SUBACK = 9

/** Relays to `port`; once `holding` is set, what comes down waits from the first SUBACK until a PUBACK went up. */
async function subackAfterPuback (port: number): Promise<{ url: string, hold: () => void, pubacks: () => number, close: () => Promise<void> }> {
  let holding = false
  let pubacks = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((agent) => {
    const broker = net.connect(port, '127.0.0.1')
    for (const s of [agent, broker]) { sockets.add(s); s.on('error', () => { agent.destroy(); broker.destroy() }); s.on('close', () => { agent.destroy(); broker.destroy() }) }
    let held: Buffer[] | undefined
    let up = Buffer.alloc(0)
    let down = Buffer.alloc(0)
    agent.on('data', (chunk: Buffer) => {
      const split = splitPackets(Buffer.concat([up, chunk]))
      up = Buffer.from(split.rest)
      for (const p of split.packets) {
        broker.write(p)
        if (p[0] >> 4 !== PUBACK) continue
        pubacks++
        for (const q of held ?? []) agent.write(q)
        held = undefined
      }
    })
    broker.on('data', (chunk: Buffer) => {
      const split = splitPackets(Buffer.concat([down, chunk]))
      down = Buffer.from(split.rest)
      for (const p of split.packets) {
        if (holding && pubacks === 0 && p[0] >> 4 === SUBACK) held ??= []
        if (held === undefined) agent.write(p)
        else held.push(p)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    hold: () => { holding = true },
    pubacks: () => pubacks,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

const missing = mosquittoMissing()

test('invocations and publishes that end while the agent starts are emitted once it has started', async () => {
  if (missing !== undefined) { console.log(`skipped: ${missing}`); return }
  const broker = await startMosquitto()
  const relay = await subackAfterPuback(broker.port)
  const f = fixture({
    echo: {
      manifest: { triggers: [{ mqtt: 'jobs/+', qos: 1 }], permissions: { publish: ['done/#'] } },
      code: 'export default (e, ctx) => { ctx.publish("done/" + e.topic, "y"); return e.topic }'
    }
  })
  let again: Agent | undefined
  try {
    const config = { mqtt: { url: relay.url } }
    const first = await f.start(config)
    await first.close()
    const c = await mqtt.connectAsync(broker.url)
    await c.publishAsync('jobs/while-away', 'x', { qos: 1 })
    await c.endAsync()
    relay.hold()
    again = await f.start(config)
    // Listeners attached right after create resolved, as `lambkin device` attaches its own.
    const publishes: string[] = []
    again.on('publish', (p: { topic: string }) => publishes.push(p.topic))
    const heard = invocations(again, 1, () => true, 10_000)
    assert.is(relay.pubacks(), 1, 'the queued message was run and acknowledged before create resolved')
    const [rec] = await heard as InvocationRecord[]
    assert.is(rec.fn, 'echo')
    assert.is(rec.result, 'jobs/while-away')
    assert.equal(publishes, ['done/jobs/while-away'])
    // One that ends after start-up is emitted as before, once.
    const later = invocations(again, 1, (r) => r.result === 'jobs/later', 10_000)
    const c2 = await mqtt.connectAsync(broker.url)
    await c2.publishAsync('jobs/later', 'x', { qos: 1 })
    await c2.endAsync()
    await later
    assert.equal(publishes, ['done/jobs/while-away', 'done/jobs/later'])
  } finally {
    await again?.close()
    f.cleanup()
    await relay.close()
    await broker.stop()
  }
})

test.run()
