// Splitting a byte stream into whole MQTT packets by their fixed headers (MQTT 5 sections 2.1.1, 1.5.5).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { splitPackets } from '../../../src/mqtt/split-packets.js'

test('whole packets are cut off the front; a packet cut short and a header cut short are left as the rest', () => {
  const ping = Buffer.from([0xc0, 0x00])
  // A PUBLISH with a 200-byte remaining length: a two-byte variable byte integer (0xc8 0x01).
  const big = Buffer.concat([Buffer.from([0x30, 0xc8, 0x01]), Buffer.alloc(200, 7)])
  const all = Buffer.concat([ping, big, ping])
  const whole = splitPackets(all)
  assert.equal(whole.packets.map((p) => p.length), [2, 203, 2])
  assert.is(whole.rest.length, 0)
  const short = splitPackets(all.subarray(0, 100))
  assert.equal(short.packets.map((p) => p.length), [2])
  assert.is(short.rest.length, 98)
  // Only the first byte of the two-byte length has arrived.
  const header = splitPackets(Buffer.concat([ping, big.subarray(0, 2)]))
  assert.is(header.packets.length, 1)
  assert.equal([...header.rest], [0x30, 0xc8])
})

test.run()
