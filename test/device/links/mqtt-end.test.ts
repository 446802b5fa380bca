// device/links/mqtt-end.ts: a graceful end that a broker never lets finish (a QoS 1 publish it
// never acknowledges) still lets go of the socket within the bound, where end(false) then
// end(true) kept it open for ever, and the agent's process with it. A real aedes that leaves
// authorizePublish unanswered for one topic.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { endWithin } from '../../../device/links/mqtt-end.js'
import { startBroker } from '../../e2e/fixtures/lambkin-process.js'

async function heldBroker (): Promise<{ url: string, held: () => number, close: () => Promise<void> }> {
  const b = await startBroker()
  let held = 0
  b.broker.authorizePublish = (_client, packet, callback) => {
    if (packet.topic === 'never-acked') { held++; return }
    callback(null)
  }
  return { url: b.url, held: () => held, close: b.close }
}

async function heldPublish (url: string, held: () => number): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: 'end-test', clean: false, reconnectPeriod: 0 })
  c.publish('never-acked', 'x', { qos: 1 })
  for (let i = 0; i < 500 && held() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.is(held(), 1, 'the broker took the publish and holds its PUBACK')
  return c
}

test('MQTT.js alone: end(true) after a pending end(false) does nothing, the socket stays open', async () => {
  const b = await heldBroker()
  const c = await heldPublish(b.url, b.held)
  try {
    void c.endAsync(false)
    await c.endAsync(true)
    assert.is(c.stream.destroyed, false, 'if MQTT.js now forces the end, endWithin could go back to end(true)')
  } finally {
    c.stream.destroy()
    await b.close()
  }
})

test('endWithin lets go of the socket once the bound passed without a graceful end', async () => {
  const b = await heldBroker()
  const c = await heldPublish(b.url, b.held)
  try {
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()))
    await endWithin(c, 100)
    await closed
    assert.is(c.stream.destroyed, true)
    assert.is(c.connected, false)
  } finally {
    c.stream.destroy()
    await b.close()
  }
})

test('endWithin ends gracefully when nothing is in flight', async () => {
  const b = await heldBroker()
  const c = await mqtt.connectAsync(b.url, { clientId: 'end-test-2', reconnectPeriod: 0 })
  try {
    await c.publishAsync('acked', 'x', { qos: 1 })
    await endWithin(c, 5000)
    assert.is(c.connected, false)
    assert.is(c.disconnected, true, 'the end completed (its stores closed), not cut short')
  } finally {
    await b.close()
  }
})

test.run()
