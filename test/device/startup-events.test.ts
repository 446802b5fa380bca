// An invocation that ends while Agent.create is still starting (a resumed session's queued QoS 1
// message runs as soon as the trigger link connects) is emitted to the listeners attached right
// after create resolves, with its publishes: it used to be emitted to no one, so `lambkin device`
// printed no line for it and device/mqtt5-session.test.ts failed under load (device/startup-events.ts).
// Real Mosquitto, LevelDB and QuickJS, through a relay on loopback that holds the broker's SUBACK
// until the queued message's PUBACK went up: the link waits for that SUBACK before create goes
// on, so the invocation surely ends inside create, with no timing guessed.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import type { Agent, InvocationRecord } from '../../device/index.js'
import { fixture, invocations } from '../helpers/agent.js'
import { mosquittoMissing, startMosquitto } from '../helpers/brokers.js'
import { subackAfterPuback } from '../helpers/suback-hold.js'

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
