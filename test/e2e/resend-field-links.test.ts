// Field tests of lambkin's resend rules (src/mqtt/session-resend.ts) on lambkin's own brokers
// behind link faults: the device's embedded broker with a link cut mid-packet during every
// resend (test/helpers/tcp-relay.ts), and the cloud broker's device path (username and
// password checked) with a device that takes its own session over in a tight loop and a wrong
// password tried in between. 50 cycles each: nothing lost, nothing twice without DUP, each topic
// in order within a connection, nothing left to resend, and the heap does not climb.
import v8 from 'node:v8'
import vm from 'node:vm'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startEmbeddedBroker } from '../../device/links/broker/index.js'
import { startCloud } from '../helpers/cloud.js'
import { checkSession, connectRaw, text } from '../helpers/raw-mqtt.js'
import type { Raw, RawOptions } from '../helpers/raw-mqtt.js'
import { startRelay } from '../helpers/tcp-relay.js'

const seqOf = (body: string): number => Number(body.split('-').at(-1))

/** Heap in use after a full collection, in bytes. */
function heapAfterGc (): number {
  v8.setFlagsFromString('--expose-gc')
  ;(vm.runInNewContext('gc') as () => void)()
  return process.memoryUsage().heapUsed
}

/** After every message of `bodies` was seen by `conns` (the last acks all), a fresh connection gets nothing old. */
async function drained (port: number, id: string, o: RawOptions, publish: (body: string) => Promise<void>): Promise<string[]> {
  const c = await connectRaw(port, id, { ...o, ack: () => true })
  await publish('after-999999')
  await c.until(() => c.publishes().some((p) => text(p) === 'after-999999'), 'the message after')
  c.close()
  return c.publishes().map(text)
}

test('embedded broker: a link cut mid-packet in every resend for 50 cycles while messages are routed: all arrive, repeats carry DUP, order kept, nothing left', async () => {
  const broker = await startEmbeddedBroker('127.0.0.1', 0)
  const relay = await startRelay({ port: broker.port })
  const publish = async (topic: string, body: string): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      broker.publish(topic, Buffer.from(body), 1, false, (err) => { if (err === undefined) resolve(); else reject(err) })
    })
  }
  try {
    const id = 'sensor-cut'
    const c0 = await connectRaw(broker.port, id)
    c0.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'cmd/#', qos: 1 }] })
    await c0.until(() => c0.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    const conns: Raw[] = [c0]
    const bodies: string[] = []
    let k = 0
    const send = async (): Promise<void> => {
      const body = `${k % 2 === 0 ? 'a' : 'b'}-${k++}`
      bodies.push(body)
      await publish(`cmd/${body[0]}`, body)
    }
    for (let i = 0; i < 20; i++) await send()
    c0.close()
    let heapAt10 = 0
    for (let cycle = 0; cycle < 50; cycle++) {
      // Each connection through the relay is cut after a few packets' worth of bytes went down,
      // mid-packet when it lands there, always within the resend (the queue only grows: this
      // client acks nothing until the last connection).
      relay.cutDownAfter = 40 + (cycle * 37) % 200
      const c = await connectRaw(relay.port, id, { noWait: true })
      conns.push(c)
      await send()
      await send()
      await c.closed
      if (cycle === 9) heapAt10 = heapAfterGc()
    }
    const heapAt50 = heapAfterGc()
    relay.cutDownAfter = undefined
    const last = await connectRaw(relay.port, id, { ack: () => true })
    conns.push(last)
    await send()
    const everyone = (): Set<string> => new Set(conns.flatMap((c) => c.publishes().map(text)))
    await last.until(() => bodies.every((b) => everyone().has(b)), 'every message')
    const { problems } = checkSession(conns.map((c) => ({ publishes: c.publishes() })), seqOf)
    assert.equal(problems, [])
    last.close()
    await last.closed
    const again = await drained(relay.port, id, {}, async (b) => { await publish('cmd/z', b) })
    assert.equal(again.filter((b) => bodies.includes(b)), [], 'nothing acked is sent again')
    assert.ok(heapAt50 - heapAt10 < 4 * 1024 * 1024, `heap grew ${heapAt50 - heapAt10} bytes over 40 cycles`)
  } finally {
    await relay.close()
    await broker.close()
  }
})

test('cloud broker, device path: a device takes its session over in a tight loop (50 connections, a wrong password between) while commands flow: all once or with DUP, in order', async () => {
  const f = await startCloud()
  try {
    const id = 'resend-field-01'
    const secret = await f.addDevice(id)
    const port = f.cloud.broker.port as number
    const auth = { username: id, password: Buffer.from(secret) }
    const down = `lambkin/v1/${id}/down`
    const c0 = await connectRaw(port, id, auth)
    c0.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${down}/#`, qos: 1 }] })
    await c0.until(() => c0.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    const conns: Raw[] = [c0]
    const bodies: string[] = []
    let k = 0
    let flowing = true
    const flow = (async () => {
      while (flowing) {
        const body = `${k % 2 === 0 ? 'x' : 'y'}-${k++}`
        bodies.push(body)
        await f.cloud.broker.publish(`${down}/${body[0]}`, Buffer.from(body), { qos: 1, retain: false })
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    })()
    let refused = 0
    let heapAt10 = 0
    for (let i = 0; i < 50; i++) {
      // Opened without closing the one before: aedes takes the session over. Every third acks.
      conns.push(await connectRaw(port, id, { ...auth, ack: () => i % 3 === 0 }))
      if (i % 10 === 5) {
        const bad = await connectRaw(port, id, { username: id, password: Buffer.from('wrong') })
        const connack = bad.got.find((p) => p.cmd === 'connack') as { returnCode?: number } | undefined
        if (connack?.returnCode !== 0) refused++
        bad.close()
      }
      if (i === 9) heapAt10 = heapAfterGc()
    }
    flowing = false
    await flow
    const heapAt50 = heapAfterGc()
    assert.is(refused, 5, 'a wrong password is refused')
    const last = await connectRaw(port, id, { ...auth, ack: () => true })
    conns.push(last)
    const everyone = (): Set<string> => new Set(conns.flatMap((c) => c.publishes().map(text)))
    await last.until(() => bodies.every((b) => everyone().has(b)), 'every command')
    const { problems } = checkSession(conns.map((c) => ({ publishes: c.publishes() })), seqOf)
    assert.equal(problems, [])
    assert.ok(bodies.length > 50, `commands flowed during the loop (${bodies.length})`)
    for (const c of conns) c.close()
    await last.closed
    const again = await drained(port, id, auth, async (b) => { await f.cloud.broker.publish(`${down}/z`, Buffer.from(b), { qos: 1, retain: false }) })
    assert.equal(again.filter((b) => bodies.includes(b)), [], 'nothing acked is sent again')
    assert.ok(heapAt50 - heapAt10 < 8 * 1024 * 1024, `heap grew ${heapAt50 - heapAt10} bytes over 40 takeovers`)
  } finally {
    await f.cleanup()
  }
})

test.run()
