// Processed once with aedes as it comes (copies sent again without DUP, MQTT 3.1.1 section 4.4)
// when a message's PUBACK is lost in two cuts in a row: the copy sent in the second connection is
// skipped and its PUBACK lost again, a new message comes in that connection, and the third
// connection sends all of them once more. The window rule looks at the connection before, so
// the skipped copy's mark moves to the connection it came in on (docs/durability.md, "A link blip").
// A real agent (MqttLink, LevelDB, QuickJS), aedes, a TCP relay that drops and cuts, MQTT.js.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import net from 'node:net'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { trackAcks } from '../helpers/raw-mqtt.js'
import { fixture } from '../helpers/agent.js'
import { PUBACK, PUBLISH, startRelay } from '../helpers/tcp-relay.js'
import type { RelayedPacket } from '../helpers/tcp-relay.js'

test('[processed once] copies whose PUBACKs two cuts in a row lost, a new message between them: each message runs once', async () => {
  const broker = await Aedes.createBroker()
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const relay = await startRelay({ port })
  const f = fixture({ echo: { manifest: { triggers: [{ mqtt: 'in/+', qos: 1 }] }, code: 'export default (e) => e.topic' } })
  let publisher: mqtt.MqttClient | undefined
  try {
    const agent = await f.start({ mqtt: { url: relay.url, reconnectMs: 100 } })
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'publisher', reconnectPeriod: 0 })
    const { ackedAll } = trackAcks(broker)
    // The relay drops the agent's PUBACKs while `dropping`, and notes what goes down on which
    // connection (the agent's link counts from its first connection through the relay).
    let dropping = true
    const dropped: number[] = []
    const down: string[] = []
    let changed = (): void => {}
    relay.filter = (p: RelayedPacket) => {
      if (p.dir === 'down' && p.type === PUBLISH) { down.push(`${p.conn} ${p.topic ?? ''}${p.dup ? ' dup' : ''}`) }
      if (p.dir === 'up' && p.type === PUBACK && dropping) { dropped.push(p.conn); changed(); return false }
    }
    /** Waits until `n` PUBACKs were dropped on connection `conn` (any connection when undefined). */
    const droppedOn = async (conn: number | undefined, n: number): Promise<void> => {
      while (dropped.filter((c) => conn === undefined || c === conn).length < n) await new Promise<void>((resolve) => { changed = resolve })
    }
    const first = ['in/1', 'in/2', 'in/3']
    for (const t of first) await publisher.publishAsync(t, 'x', { qos: 1 })
    await droppedOn(undefined, first.length)
    const c1 = dropped[0]
    relay.cut()
    // The next connection: aedes sends the three again (no DUP), the agent skips them and their
    // PUBACKs are lost again; a new message comes after them and its PUBACK is lost too.
    await droppedOn(c1 + 1, first.length)
    await publisher.publishAsync('in/live', 'x', { qos: 1 })
    await droppedOn(c1 + 1, first.length + 1)
    dropping = false
    relay.cut()
    await ackedAll([...first, 'in/live'])
    await agent.close()
    assert.equal(down.filter((d) => d.startsWith(`${c1 + 2} `)), ['in/1', 'in/2', 'in/3', 'in/live'].map((t) => `${c1 + 2} ${t}`), 'the third connection got every message again, without DUP')
    assert.equal((await f.records('result')).map((r) => (r.data as { result: unknown }).result), [...first, 'in/live'], 'each message ran once')
  } finally {
    await publisher?.endAsync(true)
    await relay.close()
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
    f.cleanup()
  }
})

test.run()
