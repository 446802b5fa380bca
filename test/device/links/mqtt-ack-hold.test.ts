// The one reach into MQTT.js's internals checks their shape before it runs: an MQTT.js whose
// internals moved stops the agent with a code instead of acknowledging before commit. The
// clients never connect (manualConnect), so there is nothing to end.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import { holdAcks } from '../../../device/links/mqtt-ack-hold.js'

const opts = { onMessage: async () => {}, log: () => {}, closing: () => false }

test('a client without _sendPacket or handleMessage is refused with LAMBKIN_DEPENDENCY_MISMATCH', () => {
  for (const strip of ['_sendPacket', 'handleMessage']) {
    const client = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true })
    Object.defineProperty(client, strip, { value: undefined })
    assert.throws(() => holdAcks(client, opts), (err: unknown) => (err as { code?: string }).code === 'LAMBKIN_DEPENDENCY_MISMATCH')
  }
})

test('the pinned MQTT.js has both, so the gate installs', () => {
  const client = mqtt.connect('mqtt://127.0.0.1:1', { manualConnect: true })
  holdAcks(client, opts)
})

test.run()
