// Processed once after a commit that succeeded (DESIGN section 6; docs/durability.md, "A link
// blip"): when something after the commit throws (here an `invocation` listener, one of the
// invoker's observers), the message is not acknowledged and comes again, but its outcome and
// its mark are stored, so the copy is acknowledged without running the function again. A real
// agent, its embedded broker (aedes), an MQTT.js sensor with a persistent session, LevelDB and
// QuickJS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { fixture } from '../helpers/agent.js'

test('an observer that throws after the commit: the sensor sends the message again and the function does not run again', async () => {
  const f = fixture({
    count: { manifest: { triggers: [{ mqtt: 'jobs/+', qos: 1 }] }, code: 'export default (e) => e.payload' }
  })
  let sensor: mqtt.MqttClient | undefined
  try {
    const agent = await f.start({ brokerPort: 0 })
    let thrown = 0
    agent.on('invocation', () => { if (thrown++ === 0) throw new Error('an observer fails after the commit') })
    sensor = mqtt.connect(agent.brokerUrl as string, { protocolVersion: 4, clientId: 'sensor-after-commit', clean: false, reconnectPeriod: 50 })
    // The first copy's run rejects, so it gets no PUBACK and the sensor sends it again; that
    // copy is acknowledged.
    await sensor.publishAsync('jobs/1', 'once', { qos: 1 })
    const metrics = agent.metrics.toPrometheus()
    await agent.close()
    assert.match(metrics, /lambkin_mqtt_redeliveries_skipped_total 1\n/, 'the copy came and was skipped')
    assert.is(thrown, 1, 'the function ran once')
    assert.equal((await f.records('result')).map((r) => (r.data as { result: unknown }).result), ['once'])
  } finally {
    sensor?.end(true)
    f.cleanup()
  }
})

test.run()
