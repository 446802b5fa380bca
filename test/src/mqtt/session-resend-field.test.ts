// Field tests of lambkin's resend rules (src/mqtt/session-resend.ts) on a real aedes: a client
// that takes its own session over in a tight loop while messages flow, one whose connections
// are cut right after the CONNACK (before aedes' clientReady), a clean-session reconnect after
// a persistent one, and QoS 2 resends (PUBREL state). No message lost, none twice without DUP,
// each topic in order within a connection, and the session's queue empty once all is acked.
import v8 from 'node:v8'
import vm from 'node:vm'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { IPublishPacket } from 'mqtt-packet'
import { checkSession, connectRaw, startResendBroker, text } from '../../helpers/raw-mqtt.js'
import type { Raw } from '../../helpers/raw-mqtt.js'

const seqOf = (body: string): number => Number(body.split('-')[1])

test('takeover of the same client id in a tight loop while QoS 1 messages flow: none lost, none twice without DUP, order kept, queue drained', async () => {
  const b = await startResendBroker()
  try {
    const id = 'loop-sub'
    const first = await connectRaw(b.port, id)
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't/#', qos: 1 }] })
    await first.until(() => first.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    const conns: Raw[] = [first]
    const total = 300
    const bodies = Array.from({ length: total }, (_, i) => `${i % 2 === 0 ? 'a' : 'b'}-${i}`)
    let published = 0
    const flow = (async () => {
      for (const body of bodies) { await b.publish(`t/${body[0]}`, body); published++ }
    })()
    // 40 connections, each opened without closing the one before (aedes takes the session
    // over), after the one before got its CONNACK; every other one acks what it gets.
    for (let i = 0; i < 40; i++) {
      const ack = i % 2 === 1 ? () => true : () => false
      conns.push(await connectRaw(b.port, id, { ack }))
    }
    await flow
    const last = await connectRaw(b.port, id, { ack: () => true })
    conns.push(last)
    const acked = new Set<string>()
    conns.forEach((c, i) => { if (i % 2 === 0 && i > 0 && c !== last) for (const p of c.publishes()) acked.add(text(p)) })
    // Everything not acked before arrives on the last connection; it acks all.
    await last.until(() => bodies.every((body) => acked.has(body) || last.publishes().some((p) => text(p) === body)), 'every message')
    const { problems, seen } = checkSession(conns.map((c) => ({ publishes: c.publishes() })), seqOf)
    assert.equal(problems, [])
    assert.is(seen.size, total)
    assert.is(published, total)
    await last.until(() => false, 'settling', 300).catch(() => {})
    assert.is(await b.queued(id), 0, 'the session queue is empty once every message is acked')
    assert.is(Object.keys((b.broker as unknown as { clients: object }).clients).length, 1, 'only the last connection is left')
    for (const c of conns) c.close()
  } finally {
    await b.close()
  }
})

/** Heap in use after a full collection, in bytes. */
function heapAfterGc (): number {
  v8.setFlagsFromString('--expose-gc')
  ;(vm.runInNewContext('gc') as () => void)()
  return process.memoryUsage().heapUsed
}

test('connections cut right after their CONNACK, before clientReady, 50 times while messages are routed: the next connection gets all once, memory does not climb', async () => {
  const b = await startResendBroker()
  try {
    const id = 'cut-sub'
    const c0 = await connectRaw(b.port, id)
    c0.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'cut/+', qos: 1 }] })
    await c0.until(() => c0.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    c0.close()
    await c0.closed
    // Each resuming connection of cut-sub is cut as soon as its CONNACK is written, with a
    // message routed to it in between (held, then dropped with the connection).
    let n = 0
    const cut = (_connack: unknown, client: { id: string, conn: { destroy: () => void } }): void => {
      if (client.id !== id) return
      const routed = b.publish('cut/live', `live-${1000 + n++}`)
      void routed.then(() => client.conn.destroy())
    }
    b.broker.on('connackSent', cut as never)
    let heapAt10 = 0
    for (let i = 0; i < 50; i++) {
      await b.publish('cut/away', `away-${i}`)
      const c = await connectRaw(b.port, id, { noWait: true })
      await c.closed
      if (i === 9) heapAt10 = heapAfterGc()
    }
    const heapAt50 = heapAfterGc()
    b.broker.off('connackSent', cut as never)
    const last = await connectRaw(b.port, id, { ack: () => true })
    await b.publish('cut/away', 'away-50')
    await last.until(() => last.publishes().some((p) => text(p) === 'away-50'), 'away-50')
    const got = last.publishes().map(text)
    const expected = [...Array.from({ length: 51 }, (_, i) => `away-${i}`), ...Array.from({ length: n }, (_, i) => `live-${1000 + i}`)]
    assert.equal([...got].sort(), [...expected].sort(), 'every message once, none lost')
    const { problems } = checkSession([{ publishes: last.publishes() }], seqOf)
    assert.equal(problems, [])
    assert.ok(heapAt50 - heapAt10 < 4 * 1024 * 1024, `heap grew ${heapAt50 - heapAt10} bytes over 40 cut connections`)
    await last.until(() => false, 'settling', 300).catch(() => {})
    assert.is(await b.queued(id), 0)
    last.close()
  } finally {
    await b.close()
  }
})

test('a clean-session connection after a persistent one gets none of the old queue, and the next persistent one none either', async () => {
  const b = await startResendBroker()
  try {
    const id = 'clean-after'
    let c = await connectRaw(b.port, id)
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'c', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('c', 'c-1')
    await c.until(() => c.publishes().length === 1, 'c-1')
    c.close()
    await c.closed
    await b.publish('c', 'c-2')
    c = await connectRaw(b.port, id, { clean: true })
    assert.is((c.got[0] as { sessionPresent?: boolean }).sessionPresent, false)
    c.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'c', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('c', 'c-3')
    await c.until(() => c.publishes().length === 1, 'c-3')
    assert.equal(c.publishes().map((p) => `${text(p)} dup=${String(p.dup)}`), ['c-3 dup=false'])
    c.close()
    await c.closed
    c = await connectRaw(b.port, id)
    c.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'c', qos: 1 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('c', 'c-4')
    await c.until(() => c.publishes().some((p) => text(p) === 'c-4'), 'c-4')
    assert.equal(c.publishes().map(text), ['c-4'])
    c.close()
  } finally {
    await b.close()
  }
})

test('QoS 2 resends: PUBREL for a PUBREC\'d message, the PUBLISH with DUP 1 for one not, a message routed during the resume after both, each once', async () => {
  const b = await startResendBroker()
  try {
    const id = 'qos2-sub'
    let c = await connectRaw(b.port, id, { ack: (p) => text(p) === 'q-1', complete: false })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2', qos: 2 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('q2', 'q-1', 2)
    await b.publish('q2', 'q-2', 2)
    await c.until(() => c.publishes().length === 2 && c.got.some((p) => p.cmd === 'pubrel'), 'q-1, q-2 and PUBREL')
    const [p1, p2] = c.publishes()
    // The PUBREL is not answered: the cut keeps it in the session.
    const gone = new Promise<void>((resolve) => b.broker.once('clientDisconnect', () => resolve()))
    c.close()
    await gone
    await b.publish('q2', 'q-3', 2)
    b.broker.once('client', () => { void b.publish('q2', 'q-4', 2) })
    c = await connectRaw(b.port, id, { ack: () => true })
    await c.until(() => c.publishes().some((p) => text(p) === 'q-4'), 'q-4')
    await b.publish('q2', 'q-5', 2)
    await c.until(() => c.publishes().some((p) => text(p) === 'q-5'), 'q-5')
    const seen = c.got.map((p) => p.cmd === 'publish' ? `${text(p)} dup=${String(p.dup)}` : `${p.cmd} ${String((p as { messageId?: number }).messageId)}`)
    // Each PUBLISH of this connection is acked with PUBREC, so a PUBREL follows it; the one before them is the old one.
    assert.equal(seen.filter((s) => s.startsWith('q-') || s === `pubrel ${String(p1.messageId)}`), [
      `pubrel ${String(p1.messageId)}`, 'q-2 dup=true', 'q-3 dup=false', 'q-4 dup=false', 'q-5 dup=false'
    ])
    assert.is((c.publishes().find((p) => text(p) === 'q-2') as IPublishPacket).messageId, p2.messageId)
    c.close()
  } finally {
    await b.close()
  }
})

// aedes hands the persistence's outgoingUpdate a PUBREC's PUBREL as { cmd, messageId }, and
// aedes-persistence 11's memory store matches it to the first queued entry whose brokerId and
// brokerCounter are equal to its own: undefined, as in every PUBREL queued that way before. With
// two QoS 2 flows between PUBREC and PUBCOMP the second PUBREC renumbered the first flow's PUBREL,
// so a later PUBCOMP cleared nothing (aedes' 'ack' came with no packet) and a message routed
// while the session resumed (q-4) stayed queued as a PUBLISH after its flow completed: the next
// connection got it again (DUP 1, then PUBREL) and the receiver, which completed that packet id,
// took it as a new message. 7 of 7 runs before session-resend.ts gave such PUBRELs a brokerId.
test('a QoS 2 message routed during the resume whose flow completed is not sent again on the next connection', async () => {
  const b = await startResendBroker()
  try {
    const id = 'qos2-left'
    let c = await connectRaw(b.port, id, { ack: (p) => text(p) === 'q-1', complete: false })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2', qos: 2 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    await b.publish('q2', 'q-1', 2)
    await b.publish('q2', 'q-2', 2)
    await c.until(() => c.publishes().length === 2 && c.got.some((p) => p.cmd === 'pubrel'), 'q-1, q-2 and PUBREL')
    let gone = new Promise<void>((resolve) => b.broker.once('clientDisconnect', () => resolve()))
    c.close()
    await gone
    await b.publish('q2', 'q-3', 2)
    b.broker.once('client', () => { void b.publish('q2', 'q-4', 2) })
    // aedes emits 'ack' once it handled a PUBCOMP: q-1 (from before) and q-2 to q-5.
    let completed = 0
    let oneMore = (): void => {}
    const onAck = (): void => { completed++; oneMore() }
    b.broker.on('ack', onAck)
    c = await connectRaw(b.port, id, { ack: () => true })
    await b.publish('q2', 'q-5', 2)
    while (completed < 5) await new Promise<void>((resolve) => { oneMore = resolve })
    b.broker.off('ack', onAck)
    assert.equal(c.publishes().map(text), ['q-2', 'q-3', 'q-4', 'q-5'])
    gone = new Promise<void>((resolve) => b.broker.once('clientDisconnect', () => resolve()))
    c.close()
    await gone
    c = await connectRaw(b.port, id, { ack: () => true })
    await b.publish('q2', 'q-6', 2)
    await c.until(() => c.publishes().some((p) => text(p) === 'q-6'), 'q-6')
    assert.equal(c.publishes().map(text), ['q-6'], 'every earlier flow was completed: nothing is resent')
    c.close()
  } finally {
    await b.close()
  }
})

test('QoS 2 flows that overlap while connected (PUBREC of the next before PUBCOMP of the first): each leaves the queue once completed', async () => {
  const b = await startResendBroker()
  try {
    const id = 'qos2-overlap'
    let completed = 0
    let oneMore = (): void => {}
    const onAck = (): void => { completed++; oneMore() }
    const c = await connectRaw(b.port, id, { ack: () => true })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2', qos: 2 }] })
    await c.until(() => c.got.some((p) => p.cmd === 'suback'), 'SUBACK')
    b.broker.on('ack', onAck)
    // Routed back to back: both PUBLISHes go out before the client's PUBRECs come back.
    await Promise.all(['q-1', 'q-2', 'q-3'].map(async (body) => { await b.publish('q2', body, 2) }))
    while (completed < 3) await new Promise<void>((resolve) => { oneMore = resolve })
    b.broker.off('ack', onAck)
    assert.equal(c.publishes().map(text), ['q-1', 'q-2', 'q-3'])
    assert.is(c.got.filter((p) => p.cmd === 'pubrel').length, 3)
    assert.is(await b.queued(id), 0, 'three completed flows, nothing queued')
    c.close()
  } finally {
    await b.close()
  }
})

test.run()
