// What a trigger message carries into a function, through the embedded aedes broker: exact
// bytes, the retain flag, batches kept under the event cap, and payloads that can never run
// ending as acknowledged dead letters instead of being redelivered for ever.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { fixture, invocations } from '../helpers/agent.js'

const BINARY = Buffer.from([0x00, 0xff, 0x80, 0x01, 0xc3])
const SHOW = 'export default (e) => ({ payload: e.payload, payloadBase64: e.payloadBase64, retain: e.retain })'

test('[payload] bytes that are not UTF-8 reach the function exactly, as payloadBase64; "bytes" asks for it always', async () => {
  const f = fixture({
    auto: { manifest: { triggers: [{ mqtt: 'bin/auto', qos: 1 }] }, code: SHOW },
    raw: { manifest: { triggers: [{ mqtt: 'bin/raw', qos: 1, payload: 'bytes' }] }, code: SHOW },
    batched: { manifest: { triggers: [{ mqtt: 'bin/batch', qos: 1, batch: { size: 2, windowMs: 60_000 } }] }, code: 'export default (e) => e.records.map((r) => r.payloadBase64 ?? r.payload)' }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    // Awaited together: a publish that is never acknowledged fails the test when the wait times out.
    const [seen] = await Promise.all([invocations(agent, 4), (async () => {
      await c.publishAsync('bin/auto', BINARY, { qos: 1 })
      await c.publishAsync('bin/raw', Buffer.from('{"a":1}'), { qos: 1 })
      await c.publishAsync('bin/batch', BINARY, { qos: 1 })
      await c.publishAsync('bin/batch', 'text', { qos: 1 })
      await c.publishAsync('bin/auto', '{"a":1}', { qos: 1, retain: true })
    })()])
    await c.endAsync()
    await agent.close()
    const by = (fn: string): unknown[] => seen.filter((r) => r.fn === fn).map((r) => r.result)
    assert.equal(by('auto'), [{ payloadBase64: 'AP+AAcM=', retain: false }, { payload: { a: 1 }, retain: false }])
    assert.equal(Buffer.from('AP+AAcM=', 'base64'), BINARY)
    assert.equal(by('raw'), [{ payloadBase64: Buffer.from('{"a":1}').toString('base64'), retain: false }])
    assert.equal(by('batched'), [['AP+AAcM=', 'text']])
  } finally {
    f.cleanup()
  }
})

test('[poison] a QoS 1 payload nested 5,000 deep is acknowledged as a LAMBKIN_INPUT_LIMIT dead letter, once', async () => {
  const f = fixture({
    deep: { manifest: { triggers: [{ mqtt: 'deep/+', qos: 1 }, { mqtt: 'deep/batched', qos: 1, batch: { size: 1, windowMs: 10 } }] }, code: 'export default (e) => 1' }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    // Awaited together: a publish that is never acknowledged fails the test when the wait times out.
    const [seen] = await Promise.all([invocations(agent, 3), (async () => {
      const deep = '['.repeat(5000) + ']'.repeat(5000)
      // Each resolves only on PUBACK: today it is never sent.
      await c.publishAsync('deep/a', deep, { qos: 1 })
      await c.publishAsync('deep/batched', deep, { qos: 1 })
    })()])
    await c.endAsync()
    await agent.close()
    assert.equal(seen.map((r) => r.code), ['LAMBKIN_INPUT_LIMIT', 'LAMBKIN_INPUT_LIMIT', 'LAMBKIN_INPUT_LIMIT'])
    const dead = await f.records('dead-letter')
    assert.is(dead.length, 3)
    for (const d of dead) {
      const data = d.data as { error: { code: string }, attempts: number, event: { payloadBytes: number, payloadPreviewBase64: string, topic: string } }
      assert.is(data.error.code, 'LAMBKIN_INPUT_LIMIT')
      assert.is(data.attempts, 0)
      assert.is(data.event.payloadBytes, 10_000)
      assert.is(Buffer.from(data.event.payloadPreviewBase64, 'base64').length, 1024)
    }
  } finally {
    f.cleanup()
  }
})

test('[poison] a payload over the event cap is refused without running; a batch is split to stay under the cap', async () => {
  const f = fixture({
    big: { manifest: { triggers: [{ mqtt: 'big', qos: 1 }] }, code: 'export default (e) => e.payload.length' },
    batch: { manifest: { triggers: [{ mqtt: 'parts', qos: 1, batch: { size: 4, windowMs: 60_000 } }] }, code: 'export default (e) => e.records.map((r) => r.payload.length)' }
  })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    // Awaited together: a publish that is never acknowledged fails the test when the wait times out.
    const [seen] = await Promise.all([invocations(agent, 3), (async () => {
      await c.publishAsync('big', 'x'.repeat(300 * 1024), { qos: 1 })
      // Records of 100 KB: a batch of 4 (400 KB) would be over the 256 KiB event cap, so a batch
      // goes as soon as its records pass the cap, taking what fits; the fifth waits for its window.
      for (let i = 0; i < 5; i++) await c.publishAsync('parts', 'y'.repeat(100_000), { qos: 1 })
    })()])
    await c.endAsync()
    await agent.close()
    const big = seen.filter((r) => r.fn === 'big')
    assert.equal(big.map((r) => r.code), ['LAMBKIN_INPUT_LIMIT'])
    assert.equal(seen.filter((r) => r.fn === 'batch').map((r) => r.result), [[100_000, 100_000], [100_000, 100_000]])
  } finally {
    f.cleanup()
  }
})

test('[payload] a "json" trigger refuses text with LAMBKIN_PAYLOAD_INVALID; the message is acknowledged', async () => {
  const f = fixture({ strict: { manifest: { triggers: [{ mqtt: 'strict', qos: 1, payload: 'json' }] }, code: SHOW } })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    // Awaited together: a publish that is never acknowledged fails the test when the wait times out.
    const [seen] = await Promise.all([invocations(agent, 2), (async () => {
      await c.publishAsync('strict', 'not json', { qos: 1 })
      await c.publishAsync('strict', '42', { qos: 1 })
    })()])
    await c.endAsync()
    await agent.close()
    assert.equal(seen.map((r) => r.ok ? r.result : r.code), ['LAMBKIN_PAYLOAD_INVALID', { payload: 42, retain: false }])
  } finally {
    f.cleanup()
  }
})

test('[share] with the embedded broker a $share trigger is the only member of its group: it gets every message', async () => {
  const f = fixture({ worker: { manifest: { triggers: [{ mqtt: '$share/workers/jobs/+/run', qos: 1 }] }, code: 'export default (e) => e.topic' } })
  try {
    const agent = await f.start({ brokerPort: 0 })
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    // Awaited together: a publish that is never acknowledged fails the test when the wait times out.
    const [seen] = await Promise.all([invocations(agent, 2), (async () => {
      await c.publishAsync('jobs/1/run', '1', { qos: 1 })
      await c.publishAsync('jobs/2/run', '2', { qos: 1 })
    })()])
    await c.endAsync()
    await agent.close()
    assert.equal(seen.map((r) => r.result), ['jobs/1/run', 'jobs/2/run'])
  } finally {
    f.cleanup()
  }
})

test('[payload] the example "bytes" layer reads payloadBase64 back into the exact bytes inside the sandbox', async () => {
  const f = fixture({
    reader: {
      manifest: { triggers: [{ mqtt: 'bin/+', qos: 1 }], layers: ['bytes'] },
      code: 'import { payloadBytes, toBase64 } from "bytes"\nexport default (e) => { const b = payloadBytes(e); return { bytes: Array.from(b), back: toBase64(b) } }'
    }
  })
  try {
    const agent = await f.start({ brokerPort: 0, layersDir: fileURLToPath(new URL('../../../examples/layers', import.meta.url)) })
    const c = await mqtt.connectAsync(agent.brokerUrl as string)
    const [seen] = await Promise.all([invocations(agent, 2), (async () => {
      await c.publishAsync('bin/a', BINARY, { qos: 1 })
      await c.publishAsync('bin/b', 'é€', { qos: 1 })
    })()])
    await c.endAsync()
    await agent.close()
    assert.equal(seen.map((r) => r.ok ? r.result : r.message), [
      { bytes: [...BINARY], back: 'AP+AAcM=' },
      { bytes: [...Buffer.from('é€')], back: Buffer.from('é€').toString('base64') }
    ])
  } finally {
    f.cleanup()
  }
})

test('[subscribe] a filter the broker refuses (SUBACK 0x80) is logged with LAMBKIN_SUBSCRIBE_REFUSED; the other triggers run', async () => {
  const broker = await Aedes.createBroker()
  // aedes answers a subscription its hook maps to null with SUBACK 0x80 (failure).
  broker.authorizeSubscribe = (_client, sub, callback) => callback(null, sub.topic.startsWith('secret/') ? null as never : sub)
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  const f = fixture({
    open: { manifest: { triggers: [{ mqtt: 'ok/+', qos: 1 }] }, code: 'export default (e) => e.topic' },
    closed: { manifest: { triggers: [{ mqtt: 'secret/+', qos: 1 }] }, code: 'export default (e) => e.topic' }
  })
  const lines: string[] = []
  try {
    const agent = await f.start({ mqtt: { url } }, { log: (l) => lines.push(l) })
    const c = await mqtt.connectAsync(url)
    const [seen] = await Promise.all([invocations(agent, 1), c.publishAsync('ok/1', '1', { qos: 1 })])
    await c.endAsync()
    await agent.close()
    assert.equal(seen.map((r) => r.result), ['ok/1'])
    const refused = lines.filter((l) => l.startsWith('LAMBKIN_SUBSCRIBE_REFUSED'))
    assert.is(refused.length, 1, lines.join('\n'))
    assert.ok(refused[0].includes('secret/+') && !refused[0].includes('ok/+'), refused[0])
  } finally {
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
    f.cleanup()
  }
})

test.run()
