// Each packet of an MQTT.js client reaches its socket as one Buffer, with the bytes mqtt-packet
// writes (src/mqtt/whole-packets.ts), against a real Mosquitto in MQTT 5 and 3.1.1.
import { createRequire } from 'node:module'
import mqtt from 'mqtt'
import type { IPublishPacket, MqttClient } from 'mqtt'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { writeWholePackets } from '../../../src/mqtt/whole-packets.js'
import { mosquittoMissing, startMosquitto } from '../../helpers/brokers.js'

const generate = (createRequire(import.meta.resolve('mqtt'))('mqtt-packet') as { generate: (p: unknown, o: unknown) => Buffer }).generate
const skip = mosquittoMissing()

/** Every chunk handed to the socket's write() from now on. */
function captureWrites (client: MqttClient): Array<Buffer | string> {
  const s = client.stream as unknown as { write: (...a: unknown[]) => boolean }
  const seen: Array<Buffer | string> = []
  const write = s.write.bind(s)
  s.write = (...a) => { seen.push(a[0] as Buffer | string); return write(...a) }
  return seen
}

async function connect (url: string, protocolVersion: 4 | 5, whole: boolean, id: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: id, protocolVersion, reconnectPeriod: 0, manualConnect: true })
  if (whole) writeWholePackets(client)
  const up = new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject) })
  client.connect()
  await up
  return client
}

for (const version of [5, 4] as const) {
  test(`MQTT ${version === 5 ? '5' : '3.1.1'}: a QoS 1 publish is one write of mqtt-packet's bytes, and arrives whole`, async () => {
    if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
    const broker = await startMosquitto()
    try {
      const watcher = await connect(broker.url, version, false, `watch-${version}`)
      await watcher.subscribeAsync('w/#', { qos: 1 })
      const got = new Promise<IPublishPacket>((resolve) => watcher.once('message', (_t, _p, packet) => resolve(packet)))
      const client = await connect(broker.url, version, true, `whole-${version}`)
      const writes = captureWrites(client)
      const properties = version === 5 ? { userProperties: { 'lambkin-hop': '2', 'lambkin-trace': 'abc' } } : undefined
      const sent: IPublishPacket[] = []
      client.on('packetsend', (p) => { if (p.cmd === 'publish') sent.push(p as IPublishPacket) })
      await client.publishAsync('w/é', '{"value":30}', { qos: 1, ...(properties === undefined ? {} : { properties }) })
      assert.is(writes.length, 1)
      assert.is(sent.length, 1)
      assert.equal(writes[0], generate(sent[0], { protocolVersion: version }))
      const packet = await got
      assert.is(packet.topic, 'w/é')
      assert.is(packet.payload.toString(), '{"value":30}')
      if (version === 5) assert.equal({ ...packet.properties?.userProperties }, properties?.userProperties)
      await client.endAsync()
      await watcher.endAsync()
    } finally {
      await broker.close()
    }
  })
}

test('without it MQTT.js writes a publish field by field (what the change removes)', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  const broker = await startMosquitto()
  try {
    const client = await connect(broker.url, 5, false, 'fields')
    const writes = captureWrites(client)
    await client.publishAsync('w/x', 'x', { qos: 1, properties: { userProperties: { a: 'b' } } })
    assert.ok(writes.length > 5, `${writes.length} writes`)
    await client.endAsync()
  } finally {
    await broker.close()
  }
})

test('a packet mqtt-packet refuses goes through MQTT.js\'s own writer, which ends the connection as before', async () => {
  if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
  const broker = await startMosquitto()
  try {
    const client = await connect(broker.url, 4, true, 'refused')
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    ;(client as unknown as { _writePacket: (p: unknown) => void })._writePacket({ cmd: 'no-such-command' })
    await closed
    assert.ok(client.stream.destroyed)
    await client.endAsync(true)
  } finally {
    await broker.close()
  }
})

test.run()
