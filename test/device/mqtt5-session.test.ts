// The trigger link speaks MQTT 5 to a broker that does; its session must still outlive the
// connection, as MQTT 3.1.1's clean=false did (MQTT 5 section 3.1.2.11.2: without a Session
// Expiry Interval the session ends with the connection). Real Mosquitto, LevelDB, QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import type { Agent } from '../../device/index.js'
import { fixture, invocations } from '../helpers/agent.js'
import { startMosquitto } from '../helpers/brokers.js'

test('[MQTT 5] a QoS 1 message sent while the agent was stopped runs when it starts again', async () => {
  const broker = await startMosquitto()
  const f = fixture({ echo: { manifest: { triggers: [{ mqtt: 'jobs/+', qos: 1 }] }, code: 'export default (e) => e.topic' } })
  let again: Agent | undefined
  try {
    const first = await f.start({ mqtt: { url: broker.url } })
    await first.close()
    const c = await mqtt.connectAsync(broker.url)
    await c.publishAsync('jobs/while-away', 'x', { qos: 1 })
    await c.endAsync()
    const logs: string[] = []
    again = await f.start({ mqtt: { url: broker.url } }, { log: (l) => logs.push(l) })
    const [rec] = await invocations(again, 1, () => true, 10_000)
    assert.is(rec?.result, 'jobs/while-away')
    assert.not.ok(logs.some((l) => l.includes('MQTT 3.1.1')), 'the link spoke MQTT 5')
    await again.close()
  } finally {
    // A failed wait must not leave the agent running (the test process would not end).
    await again?.close()
    f.cleanup()
    await broker.stop()
  }
})

test.run()
