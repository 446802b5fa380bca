// The one reach into MQTT.js's internals checks their shape before it runs: an MQTT.js whose
// internals moved stops the agent with a code instead of acknowledging before commit. The
// clients never connect (manualConnect), so there is nothing to end.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import net from 'node:net'
import { MAX_HELD, holdAcks } from '../../../device/links/mqtt-ack-hold.js'
import { protocolOptions } from '../../../device/links/publish-limits.js'

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

test('under MQTT 5 the link announces Receive Maximum = MAX_HELD, so the broker sends no more than the gate holds (MQTT 5 section 3.1.2.11.3)', async () => {
  // aedes speaks only 3.1.1: a bare listener reads the CONNECT with mqtt-packet's parser.
  let announced: unknown
  const got = new Promise<void>((resolve) => {
    const server = net.createServer((socket) => {
      const parser = mqttPacket.parser({ protocolVersion: 5 })
      parser.on('packet', (packet) => {
        if (packet.cmd !== 'connect') return
        announced = packet.properties?.receiveMaximum
        socket.destroy()
        server.close()
        resolve()
      })
      socket.on('data', (d: Buffer) => parser.parse(d))
    })
    server.listen(0, '127.0.0.1', () => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { ...protocolOptions(5), reconnectPeriod: 0 })
      client.on('error', () => {})
      void got.then(() => client.end(true))
    })
  })
  await got
  assert.is(announced, MAX_HELD)
})

test.run()
