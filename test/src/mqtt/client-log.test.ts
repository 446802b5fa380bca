// MQTT.js's debug logging is replaced by a no-op only when DEBUG is unset (src/mqtt/client-log.ts).
import mqtt from 'mqtt'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mqttClientLog } from '../../../src/mqtt/client-log.js'

test('without DEBUG, a no-op that MQTT.js takes as its logger', () => {
  const log = mqttClientLog({})
  assert.type(log, 'function')
  assert.is(mqttClientLog({ DEBUG: '' }), log)
  // manualConnect: never connected, so nothing to end.
  const client = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true, log })
  assert.is((client as unknown as { log: unknown }).log, log)
})

test('with DEBUG set, MQTT.js keeps its own debug logger', () => {
  assert.is(mqttClientLog({ DEBUG: 'mqttjs*' }), undefined)
  const client = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true, log: mqttClientLog({ DEBUG: 'mqttjs*' }) })
  const own = (client as unknown as { log: { namespace?: string } }).log
  assert.is(own.namespace, 'mqttjs:client')
})

test.run()
