// The TriggerLink contract (device/links/trigger-link.ts) as one set of cases every implementation
// runs (like hono's router `common.case.test.ts`): trigger-link.test.ts runs them on MqttLink over
// aedes, MqttLink over Mosquitto and EmbeddedLink. Where an implementation legitimately
// differs, its runner names the case in `differs` with the reason, which is printed, and uvu
// counts the case as skipped.
//
// What the cases watch is the wire: a TCP relay (test/helpers/tcp-relay.ts) sits on the
// connection whose PUBACKs the contract is about: between MqttLink and its broker (the link
// acknowledges, upwards), or between a sensor and the embedded broker (the broker acknowledges
// the sensor, downwards). A case proves "no PUBACK yet" by ordering, not by waiting: the link
// sends a QoS 0 sentinel that crosses the relay in the PUBACK's direction on the same
// connection, so a PUBACK written before it would have crossed first.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { underCi } from '../../helpers/ci.js'
import { PUBACK, PUBLISH } from '../../helpers/tcp-relay.js'
import { Harness, SUBS, deferred, inbox, recorder, until } from './trigger-link-harness.js'
import type { CaseId, Deferred, LinkWorld } from './trigger-link-harness.js'

export type { CaseId, LinkWorld } from './trigger-link-harness.js'

/**
 * Runs every case on the implementation `makeWorld` builds. `differs` names the cases the
 * implementation legitimately does not share, each with the reason (printed with the skip).
 * `skip` says why the implementation cannot run here at all (a broker not installed): every
 * case is skipped, or under CI fails with it.
 */
export function triggerLinkCases (name: string, makeWorld: () => Promise<LinkWorld>, differs: Partial<Record<CaseId, string>> = {}, skip?: string): void {
  const s = suite(`trigger link [${name}]`)
  if (skip !== undefined && !underCi()) console.log(`trigger link [${name}] skipped: ${skip}`)
  const it = (id: CaseId, title: string, fn: (h: Harness) => Promise<void>): void => {
    if (skip !== undefined && underCi()) {
      s(title, () => { throw new Error(`trigger link [${name}] cannot run under CI: ${skip}`) })
      return
    }
    const why = skip ?? differs[id]
    if (why !== undefined) {
      if (skip === undefined) console.log(`trigger link [${name}] skipped "${title}": ${why}`)
      s.skip(title, () => {})
      return
    }
    s(title, async () => {
      const h = await new Harness(await makeWorld()).open()
      try { await fn(h) } finally { await h.done() }
    })
  }

  it('subscribe-before-start', 'a subscription made before start is in place once start resolves: a QoS 1 message reaches onMessage whole', async (h) => {
    const box = inbox()
    const link = h.link(box.onMessage)
    await link.subscribe(SUBS)
    await link.start()
    const sensor = await h.sensor()
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe])
    void sensor.publishAsync('cases/a', bytes, { qos: 1 })
    await until(() => box.got.length === 1, 'the message arrived')
    const [m] = box.got
    assert.equal([m.topic, m.qos, m.retain], ['cases/a', 1, false])
    assert.ok(m.payload.equals(bytes), 'the exact bytes')
    assert.is(typeof m.origin?.packetId, 'number', 'a QoS 1 message says where it came from (processed once)')
    assert.is(m.origin?.dup, false)
  })

  it('subscribe-after-start', 'a subscription made after start is in place once subscribe resolves; its hooks hear prepare(sessionPresent) before done(granted)', async (h) => {
    const box = inbox()
    const link = h.link(box.onMessage)
    await link.start()
    const calls: string[] = []
    await link.subscribe(SUBS, recorder(calls))
    assert.equal(calls, ['prepare false', 'done cases/# ok'])
    const sensor = await h.sensor()
    void sensor.publishAsync('cases/late', 'x', { qos: 1 })
    await until(() => box.got.length === 1, 'the message arrived')
    assert.is(box.got[0].topic, 'cases/late')
  })

  it('session-present', 'sessionPresent is false on a first connect and true when the broker kept the session; a message sent while the agent was away arrives, and a blip subscribes nothing again', async (h) => {
    const first = h.link(inbox().onMessage)
    const calls: string[] = []
    await first.subscribe(SUBS, recorder(calls))
    await first.start()
    assert.is(first.sessionPresent, false)
    assert.equal(calls, ['prepare false', 'done cases/# ok'])
    await first.close()
    const sensor = await h.sensor()
    await sensor.publishAsync('cases/away', 'while away', { qos: 1 })
    const box = inbox()
    const second = h.link(box.onMessage)
    calls.length = 0
    await second.subscribe(SUBS, recorder(calls))
    await second.start()
    assert.is(second.sessionPresent, true)
    assert.equal(calls, ['prepare true', 'done cases/# ok'], 'told the session was kept, so a retained message is judged as in a kept session')
    await until(() => box.got.length === 1, 'the message sent while away arrived')
    assert.is(box.got[0].payload.toString(), 'while away')
    const connections = h.world.relay.connections
    h.world.relay.cut()
    await until(() => h.world.relay.connections > connections, 'the link reconnected')
    void sensor.publishAsync('cases/after-blip', 'x', { qos: 1 })
    // At least once: aedes 1.2 sometimes delivers a message published while a persistent client
    // reconnects twice, under two packet ids (seen with a bare MQTT.js client too).
    await until(() => box.got.some((m) => m.topic === 'cases/after-blip'), 'a message after the blip arrived: the kept session still has the subscription')
    assert.is(second.sessionPresent, true)
    assert.equal(calls, ['prepare true', 'done cases/# ok'], 'a connect with the session kept subscribes nothing again')
  })

  it('ack-after-settle', '[ack after commit] a QoS 1 message is acknowledged only after its own onMessage promise settles, whichever settles first', async (h) => {
    const holds = new Map<string, Deferred>([['cases/a', deferred()], ['cases/b', deferred()]])
    const box = inbox(async (msg) => { await holds.get(msg.topic)?.promise })
    const link = h.link(box.onMessage)
    await link.subscribe(SUBS)
    await link.start()
    // Two sensors, so that neither message waits behind the other on one connection.
    const [one, two] = [await h.sensor('case-sensor-1'), await h.sensor('case-sensor-2')]
    void one.publishAsync('cases/a', 'a', { qos: 1 })
    void two.publishAsync('cases/b', 'b', { qos: 1 })
    await until(() => box.got.length === 2, 'both messages reached onMessage')
    // The sensors' two connections when the broker acknowledges them; the link's one when it does.
    const lanes = h.world.ackDir === 'down' ? 2 : 1
    await h.flushed(link, lanes)
    assert.equal([h.acked('cases/a').length, h.acked('cases/b').length], [0, 0], 'no PUBACK while both promises are pending')
    holds.get('cases/b')?.resolve()
    await h.flushed(link, lanes)
    assert.is(h.acked('cases/a').length, 0, 'the other message settling does not acknowledge this one')
    holds.get('cases/a')?.resolve()
    await until(() => h.acked('cases/a').length === 1 && h.acked('cases/b').length === 1, 'both were acknowledged')
    await h.flushed(link)
    assert.equal([h.acked('cases/a').length, h.acked('cases/b').length], [1, 1], 'once each')
  })

  it('ack-one-connection', '[ack after commit] two QoS 1 messages on one connection, the later settling first: neither is acknowledged before its own promise settles', async (h) => {
    const hold = deferred()
    const box = inbox(async (msg) => { if (msg.topic === 'cases/first') await hold.promise })
    const link = h.link(box.onMessage)
    await link.subscribe(SUBS)
    await link.start()
    const sensor = await h.sensor()
    void sensor.publishAsync('cases/first', '1', { qos: 1 })
    void sensor.publishAsync('cases/second', '2', { qos: 1 })
    await until(() => box.got.length >= 1, 'the first message reached onMessage')
    assert.is(box.got[0].topic, 'cases/first')
    // The second reaches onMessage now, or (a link taking one message per connection at a time) once the first settled.
    await h.flushed(link)
    assert.is(h.acked('cases/first').length, 0, 'the first is not acknowledged while its promise is pending')
    hold.resolve()
    await until(() => h.acked('cases/first').length === 1 && h.acked('cases/second').length === 1, 'both were acknowledged')
    await h.flushed(link)
    assert.equal([h.acked('cases/first').length, h.acked('cases/second').length], [1, 1], 'once each')
  })

  it('puback-order', 'PUBACKs leave in the order the messages came, also when a later message settles first (MQTT 3.1.1 and 5 section 4.6)', async (h) => {
    const hold = deferred()
    const box = inbox(async (msg) => { if (msg.topic === 'cases/first') await hold.promise })
    const link = h.link(box.onMessage)
    await link.subscribe(SUBS)
    await link.start()
    const sensor = await h.sensor()
    void sensor.publishAsync('cases/first', '1', { qos: 1 })
    void sensor.publishAsync('cases/second', '2', { qos: 1 })
    await until(() => box.got.length === 2, 'both messages reached onMessage')
    await h.flushed(link)
    assert.is(h.acked('cases/second').length, 0, 'the second waits for the first')
    hold.resolve()
    await until(() => h.acked('cases/first').length === 1 && h.acked('cases/second').length === 1, 'both were acknowledged')
    const [first, second] = [h.acked('cases/first')[0], h.acked('cases/second')[0]]
    assert.ok(h.packets.indexOf(first) < h.packets.indexOf(second), 'the first PUBACK left first')
  })

  it('rejected-redelivered', '[ack after commit] a message whose onMessage rejects is not acknowledged; it comes again and is acknowledged once onMessage resolves', async (h) => {
    const box = inbox(async (_msg, n) => { if (n === 1) throw new Error('the store refused the commit') })
    const link = h.link(box.onMessage)
    await link.subscribe(SUBS)
    await link.start()
    const sensor = await h.sensor()
    void sensor.publishAsync('cases/r', 'again', { qos: 1 })
    await until(() => box.got.length === 2, 'the message came again')
    await until(() => h.acked('cases/r').length === 1, 'the second delivery was acknowledged')
    // A broker sends a message again only on a new connection (MQTT 5 section 4.4), and so does a sensor.
    const first = h.published('cases/r')[0]
    assert.not.ok(h.acked('cases/r').some((a) => a.conn === first.conn), 'the refused delivery got no PUBACK')
    assert.is(box.got[1].payload.toString(), 'again')
    assert.is(box.got[1].origin?.packetId, box.got[0].origin?.packetId, 'the same message in the session')
    await h.flushed(link)
    assert.is(h.acked('cases/r').length, 1, 'acknowledged once')
  })

  it('blip-redelivery', 'a QoS 1 message held when the connection blips comes again on the resumed session and is acknowledged once, on the new connection', async (h) => {
    const hold = deferred()
    const box = inbox(async (_msg, n) => { if (n === 1) await hold.promise })
    const link = h.link(box.onMessage)
    await link.subscribe(SUBS)
    await link.start()
    const sensor = await h.sensor()
    void sensor.publishAsync('cases/b', 'held', { qos: 1 })
    await until(() => box.got.length === 1, 'the message arrived')
    h.world.relay.cut()
    await until(() => box.got.length === 2, 'the message came again after the blip')
    const [before, again] = box.got
    assert.is(again.origin?.packetId, before.origin?.packetId, 'the same message in the session')
    assert.ok((again.origin?.connection ?? 0) > (before.origin?.connection ?? 0), 'on a later connection')
    assert.is(again.origin?.resumed, true, 'of a resumed session')
    await until(() => h.acked('cases/b').length === 1, 'the redelivery was acknowledged')
    // The first delivery settles late: its PUBACK belonged to a connection that is gone.
    hold.resolve()
    await h.flushed(link)
    const acks = h.acked('cases/b')
    assert.is(acks.length, 1, 'acknowledged once')
    assert.ok(acks[0].conn > h.published('cases/b')[0].conn, 'on the new connection')
  })

  it('publish-after-reconnect', 'a QoS 1 publish committed while the link is down waits in the store, is sent once the link is back, and leaves the store on its PUBACK', async (h) => {
    const link = h.link(inbox().onMessage)
    await link.start()
    const seen = await h.observer()
    h.world.relay.refuse = true
    const connections = h.world.relay.connections
    h.world.relay.cut()
    const { publishIds: [id] } = await h.store.commit({ publishes: [{ topic: 'out/late', payload: 'while down', qos: 1, retain: false }] })
    link.send({ topic: 'out/late', payload: 'while down', qos: 1, retain: false, id })
    assert.equal((await h.store.pendingPublishes()).map((p) => p.id), [id], 'it waits in the store')
    h.world.relay.refuse = false
    await until(() => h.world.relay.connections > connections, 'the link reconnected')
    await until(async () => (await h.store.pendingPublishes()).length === 0, 'the publish left the store')
    await until(() => seen.length > 0, 'the observer got it')
    assert.equal(seen, [{ topic: 'out/late', payload: 'while down' }])
  })

  it('publish-puback-lost', 'a QoS 1 publish whose PUBACK a blip lost stays in the store, is sent again on the next connection, and leaves the store', async (h) => {
    const link = h.link(inbox().onMessage)
    await link.start()
    const seen = await h.observer()
    // The broker's PUBACKs to the link do not come through: the link goes bad after sending.
    h.world.relay.filter = (p) => { h.packets.push(p); if (p.type === PUBACK && p.dir === 'down') return false }
    const { publishIds: [id] } = await h.store.commit({ publishes: [{ topic: 'out/lost', payload: 'once more', qos: 1, retain: false }] })
    link.send({ topic: 'out/lost', payload: 'once more', qos: 1, retain: false, id })
    await until(() => seen.length > 0, 'the broker took the publish')
    await until(() => h.packets.some((p) => p.type === PUBACK && p.dir === 'down'), 'its PUBACK was sent (and dropped)')
    assert.equal((await h.store.pendingPublishes()).map((p) => p.id), [id], 'unacknowledged, it stays in the store')
    const connections = h.world.relay.connections
    h.world.relay.filter = (p) => { h.packets.push(p) }
    h.world.relay.cut()
    await until(() => h.world.relay.connections > connections, 'the link reconnected')
    await until(async () => (await h.store.pendingPublishes()).length === 0, 'the publish left the store')
    const [first, ...again] = h.packets.filter((p) => p.type === PUBLISH && p.dir === 'up' && p.topic === 'out/lost')
    assert.is(again.length, 1, 'sent once more')
    assert.ok(again[0].conn > first.conn, 'on the new connection')
    assert.is(again[0].packetId, first.packetId, 'as the same packet')
    assert.is(again[0].dup, true, 'marked as sent before (MQTT 3.1.1 and 5 section 3.3.1.1)')
  })

  it('publishes-from-before', 'QoS 1 publishes committed before start (left from a previous run) are sent by start, in id order, and leave the store', async (h) => {
    const seen = await h.observer()
    await h.store.commit({ publishes: [1, 2, 3].map((i) => ({ topic: `out/${i}`, payload: `p${i}`, qos: 1 as const, retain: false })) })
    const link = h.link(inbox().onMessage)
    await link.start()
    await until(async () => (await h.store.pendingPublishes()).length === 0, 'all three left the store')
    await until(() => seen.length === 3, 'the observer got all three')
    assert.equal(seen.map((m) => m.topic), ['out/1', 'out/2', 'out/3'])
  })

  it('stop-accepting', 'after stopAccepting a QoS 1 message is neither taken nor acknowledged; once closed, the next link of the agent gets it', async (h) => {
    const refused = inbox()
    const first = h.link(refused.onMessage)
    await first.subscribe(SUBS)
    await first.start()
    first.stopAccepting()
    const sensor = await h.sensor()
    void sensor.publishAsync('cases/s', 'kept', { qos: 1 })
    await until(() => h.published('cases/s').length > 0, 'the message reached the link')
    await first.close()
    const box = inbox()
    const second = h.link(box.onMessage)
    await second.subscribe(SUBS)
    await second.start()
    await until(() => box.got.length === 1, 'the next link got the message')
    await until(() => h.acked('cases/s').length === 1, 'the next link\'s PUBACK')
    assert.is(refused.got.length, 0, 'the stopping link took nothing')
    const firstConn = h.published('cases/s')[0].conn
    assert.not.ok(h.acked('cases/s').some((a) => a.conn === firstConn), 'and acknowledged nothing')
  })

  s.run()
}
