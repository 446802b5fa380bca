// The one reach into MQTT.js's internals checks their shape before it runs: an MQTT.js whose
// internals moved stops the agent with a code instead of acknowledging before commit; the gate
// tells its owner of each PUBACK it writes.
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

test('written() hears of each PUBACK as it leaves for the broker, never of a message whose commit failed (processed once)', async () => {
  // A bare 3.1.1 listener sends three QoS 1 messages and reads the PUBACKs back.
  const written: number[] = []
  const received: number[] = []
  let client: mqtt.MqttClient | undefined
  const done = new Promise<void>((resolve) => {
    const server = net.createServer((socket) => {
      const parser = mqttPacket.parser()
      parser.on('packet', (packet) => {
        if (packet.cmd === 'connect') {
          socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }))
          for (const messageId of [1, 2, 3]) {
            socket.write(mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.from(`m${messageId}`), qos: 1, dup: false, retain: false, messageId }))
          }
        }
        if (packet.cmd === 'puback') received.push(packet.messageId as number)
        if (received.length === 2) { socket.destroy(); server.close(); resolve() }
      })
      socket.on('data', (d: Buffer) => parser.parse(d))
    })
    server.listen(0, '127.0.0.1', () => {
      client = mqtt.connect(`mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { manualConnect: true, reconnectPeriod: 0 })
      client.on('error', () => {})
      holdAcks(client, {
        ...opts,
        onMessage: async (msg) => { if (msg.payload.toString() === 'm2') throw new Error('commit failed') },
        written: (id) => { written.push(id) }
      })
      client.connect()
    })
  })
  await done
  client?.end(true)
  assert.equal(received, [1, 3])
  assert.equal(written, [1, 3])
})

test.run()
