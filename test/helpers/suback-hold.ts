// A TCP relay on loopback in front of an MQTT broker that, once told to hold, keeps back what
// the broker sends from its first SUBACK on until the client's first PUBACK went up. With a
// resumed session whose queued QoS 1 message the broker sends before that SUBACK, the client
// (the agent's trigger link, which waits for its SUBACK before Agent.create goes on) has surely
// run and acknowledged the message before it learns its subscription is in place: an
// invocation inside Agent.create, made certain rather than hoped for (test/device/startup-events.test.ts).
import net from 'node:net'
import { splitPackets } from '../../src/mqtt/split-packets.js'

const PUBACK = 4
const SUBACK = 9

/** Relays to `port`; once `holding` is set, what comes down waits from the first SUBACK until a PUBACK went up. */
export async function subackAfterPuback (port: number): Promise<{ url: string, hold: () => void, pubacks: () => number, close: () => Promise<void> }> {
  let holding = false
  let pubacks = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((agent) => {
    const broker = net.connect(port, '127.0.0.1')
    for (const s of [agent, broker]) { sockets.add(s); s.on('error', () => { agent.destroy(); broker.destroy() }); s.on('close', () => { agent.destroy(); broker.destroy() }) }
    let held: Buffer[] | undefined
    let up = Buffer.alloc(0)
    let down = Buffer.alloc(0)
    agent.on('data', (chunk: Buffer) => {
      const split = splitPackets(Buffer.concat([up, chunk]))
      up = Buffer.from(split.rest)
      for (const p of split.packets) {
        broker.write(p)
        if (p[0] >> 4 !== PUBACK) continue
        pubacks++
        for (const q of held ?? []) agent.write(q)
        held = undefined
      }
    })
    broker.on('data', (chunk: Buffer) => {
      const split = splitPackets(Buffer.concat([down, chunk]))
      down = Buffer.from(split.rest)
      for (const p of split.packets) {
        if (holding && pubacks === 0 && p[0] >> 4 === SUBACK) held ??= []
        if (held === undefined) agent.write(p)
        else held.push(p)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    hold: () => { holding = true },
    pubacks: () => pubacks,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
