// mqtt-packet's number cache (65,536 pre-built Buffers) is off in the copy aedes writes with,
// once the agent's embedded broker has started (src/mqtt/packet-cache.ts).
import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startEmbeddedBroker } from '../../../device/links/broker/index.js'
import { disableNumberCache } from '../../../src/mqtt/packet-cache.js'

const writer = (createRequire(import.meta.resolve('aedes'))('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } }).writeToStream

test('disableNumberCache turns the cache off in the mqtt-packet aedes loads', () => {
  writer.cacheNumbers = true
  assert.ok(disableNumberCache())
  assert.is(writer.cacheNumbers, false)
})

test('starting the embedded broker turns the cache off', async () => {
  writer.cacheNumbers = true
  const broker = await startEmbeddedBroker('127.0.0.1', 0)
  try {
    assert.is(writer.cacheNumbers, false)
  } finally {
    await broker.close()
  }
})

test.run()
