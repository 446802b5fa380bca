// An MQTT.js client's packets of one event-loop turn leave in one socket write (src/mqtt/cork-per-turn.ts).
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { corkPerTurn } from '../../../src/mqtt/cork-per-turn.js'
import { aedesBroker } from '../../helpers/brokers.js'

type Flushing = { _write: (...a: unknown[]) => unknown, _writev?: (...a: unknown[]) => unknown }

/** Counts the socket's flushes to the kernel (net.Socket's _write and _writev) from now on. */
function countFlushes (client: MqttClient): { readonly n: number } {
  const s = client.stream as unknown as Flushing
  const counter = { n: 0 }
  const write = s._write.bind(s)
  s._write = (...a) => { counter.n++; return write(...a) }
  if (s._writev !== undefined) {
    const writev = s._writev.bind(s)
    s._writev = (...a) => { counter.n++; return writev(...a) }
  }
  return counter
}

/**
 * Publishes `n` QoS 1 messages within one event-loop turn, each after the previous one's
 * packet was flushed by mqtt-packet (its uncork runs on process.nextTick), as MQTT.js answers
 * each incoming packet in a tick of its own. `acked` settles with the PUBACKs.
 */
async function publishInTicks (client: MqttClient, n: number): Promise<{ acked: Promise<unknown> }> {
  const acks: Array<Promise<unknown>> = []
  for (let i = 0; i < n; i++) {
    acks.push(client.publishAsync(`t/${i}`, `m${i}`, { qos: 1 }))
    await new Promise<void>((resolve) => process.nextTick(resolve))
  }
  return { acked: Promise.all(acks) }
}

const nextTurn = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

async function connected (url: string, cork: boolean): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: `cork-${cork ? 'on' : 'off'}`, reconnectPeriod: 0 })
  if (cork) corkPerTurn(client)
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject) })
  await nextTurn()
  return client
}

test('packets written in separate ticks of one turn leave in one write, and all arrive', async () => {
  const broker = await aedesBroker()
  const watcher = mqtt.connect(broker.url, { clientId: 'watcher', reconnectPeriod: 0 })
  const got: string[] = []
  try {
    await watcher.subscribeAsync('t/#', { qos: 1 })
    watcher.on('message', (topic) => { got.push(topic) })
    const client = await connected(broker.url, true)
    try {
      const flushes = countFlushes(client)
      const { acked } = await publishInTicks(client, 5)
      // Nothing has left before the turn ends.
      assert.is(flushes.n, 0)
      await acked
      assert.is(flushes.n, 1)
      for (let i = 0; i < 50 && got.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      assert.equal(got.sort(), ['t/0', 't/1', 't/2', 't/3', 't/4'])
    } finally {
      await client.endAsync()
    }
  } finally {
    await watcher.endAsync()
    await broker.close()
  }
})

test('without it the same packets take a write each (the cost the cork removes)', async () => {
  const broker = await aedesBroker()
  try {
    const client = await connected(broker.url, false)
    try {
      const flushes = countFlushes(client)
      await (await publishInTicks(client, 5)).acked
      assert.is(flushes.n, 5)
    } finally {
      await client.endAsync()
    }
  } finally {
    await broker.close()
  }
})

test('a socket corked when the client ends still sends what it holds; the next connection is corked anew', async () => {
  const broker = await aedesBroker()
  try {
    const client = mqtt.connect(broker.url, { clientId: 'cork-end', reconnectPeriod: 50 })
    const flush = corkPerTurn(client)
    await new Promise<void>((resolve) => client.once('connect', () => resolve()))
    const acked = client.publishAsync('t/x', 'x', { qos: 1 })
    flush()
    await acked
    // A reconnect: the new socket's packets are held per turn as well.
    client.stream.destroy()
    await new Promise<void>((resolve) => client.once('connect', () => resolve()))
    await nextTurn()
    const flushes = countFlushes(client)
    await (await publishInTicks(client, 3)).acked
    assert.is(flushes.n, 1)
    await client.endAsync()
  } finally {
    await broker.close()
  }
})

test.run()
