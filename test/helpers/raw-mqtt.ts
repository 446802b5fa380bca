// A raw MQTT 3.1.1 client written with mqtt-packet, for field tests of broker resends
// (src/mqtt/session-resend.ts): it acknowledges only what it is told to, can stop reading its
// socket (a slow consumer), and checks what a session got over all its connections.
import net from 'node:net'
import { Aedes } from 'aedes'
import mqttPacket from 'mqtt-packet'
import type { IPublishPacket, Packet } from 'mqtt-packet'
import { resendAsMqttSays } from '../../src/mqtt/session-resend.js'

/** One raw connection: every packet it got, in order. */
export interface Raw {
  socket: net.Socket
  got: Packet[]
  send: (p: Packet) => void
  /** Cuts the connection (no DISCONNECT). */
  close: () => void
  /** Sends DISCONNECT and resolves once the broker closed the connection: it has let the client go. */
  leave: () => Promise<void>
  publishes: () => IPublishPacket[]
  /** Resolves once `ok()` holds, checked after each packet; rejects after `ms` (default 15 s) naming `what`. */
  until: (ok: () => boolean, what: string, ms?: number) => Promise<void>
  /** Resolves once the socket closed. */
  closed: Promise<void>
}

export interface RawOptions {
  clean?: boolean
  username?: string
  password?: Buffer
  /** Which PUBLISHes to acknowledge (QoS 1: PUBACK; QoS 2: PUBREC, then PUBCOMP for its PUBREL). Default: none. */
  ack?: (p: IPublishPacket) => boolean
  /** Answer a PUBREL with PUBCOMP (default true). */
  complete?: boolean
  /** Resolve before the CONNACK (default false: wait for it). */
  noWait?: boolean
}

export async function connectRaw (port: number, clientId: string, o: RawOptions = {}): Promise<Raw> {
  const socket = net.connect(port, '127.0.0.1')
  const parser = mqttPacket.parser()
  const got: Packet[] = []
  let waiters: Array<() => void> = []
  const closed = new Promise<void>((resolve) => socket.once('close', () => { resolve(); for (const w of waiters.splice(0)) w() }))
  socket.on('error', () => {})
  socket.on('data', (d) => parser.parse(d))
  const raw: Raw = {
    socket,
    got,
    closed,
    send: (p) => { if (!socket.destroyed) socket.write(mqttPacket.generate(p)) },
    close: () => { socket.destroy() },
    leave: async () => {
      raw.send({ cmd: 'disconnect' })
      await closed
    },
    publishes: () => got.filter((p): p is IPublishPacket => p.cmd === 'publish'),
    until: async (ok, what, ms = 15_000) => {
      // The timer's own flag, not Date.now(): a timer can fire a millisecond before the wall
      // clock says `ms` passed, and a loop that then waited again for a packet that never came hung.
      let late = false
      const timer = setTimeout(() => { late = true; for (const w of waiters.splice(0)) w() }, ms)
      try {
        while (!ok()) {
          if (late) throw new Error(`${clientId}: no ${what} within ${ms} ms; got ${got.map(show).join(', ')}`)
          await new Promise<void>((resolve) => waiters.push(resolve))
        }
      } finally { clearTimeout(timer) }
    }
  }
  parser.on('packet', (p: Packet) => {
    got.push(p)
    if (p.cmd === 'publish' && p.qos > 0 && o.ack?.(p) === true) raw.send({ cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: p.messageId })
    if (p.cmd === 'pubrel' && o.complete !== false) raw.send({ cmd: 'pubcomp', messageId: p.messageId })
    const ws = waiters
    waiters = []
    for (const w of ws) w()
  })
  raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: o.clean ?? false, clientId, keepalive: 60, username: o.username, password: o.password })
  if (o.noWait !== true) await raw.until(() => got.some((p) => p.cmd === 'connack') || socket.destroyed, 'CONNACK')
  return raw
}

export const text = (p: IPublishPacket): string => String(p.payload)
export const show = (p: Packet): string => p.cmd === 'publish' ? `${p.topic}:${String(p.payload)}${p.dup ? '(dup)' : ''}` : p.cmd

/**
 * What one session got over its connections (`conns`, in connection order), checked against the
 * resend rules: a payload already received in this or an earlier connection comes again only
 * with DUP 1, and within one connection each topic's payloads come in increasing `seq` order.
 * Returns the problems found (empty when none) and every distinct payload received.
 */
export function checkSession (conns: Array<{ publishes: IPublishPacket[] }>, seq: (payload: string) => number): { problems: string[], seen: Set<string> } {
  const seen = new Set<string>()
  const problems: string[] = []
  conns.forEach((c, i) => {
    const last = new Map<string, number>()
    for (const p of c.publishes) {
      const body = text(p)
      const name = body.length > 40 ? `…${body.slice(-20)}` : body
      if (seen.has(body) && !p.dup) problems.push(`connection ${i}: ${p.topic} ${name} again without DUP`)
      const n = seq(body)
      const before = last.get(p.topic)
      if (before !== undefined && n <= before) problems.push(`connection ${i}: ${p.topic} ${name} after seq ${before}`)
      last.set(p.topic, n)
      seen.add(body)
    }
  })
  return { problems, seen }
}

/**
 * The topics of the QoS 1/2 PUBLISHes `broker` saw acknowledged by any client but `except`
 * (the test's publisher), and a wait until given ones all were.
 */
export function trackAcks (broker: Aedes, except = 'publisher'): { acked: Set<string>, ackedAll: (topics: string[]) => Promise<void> } {
  const acked = new Set<string>()
  let ackSeen = (): void => {}
  broker.on('ack', (packet, client) => {
    if (client?.id === except || packet === null || packet === undefined) return
    acked.add((packet as { topic: string }).topic)
    ackSeen()
  })
  return {
    acked,
    ackedAll: async (topics) => {
      while (!topics.every((t) => acked.has(t))) await new Promise<void>((resolve) => { ackSeen = resolve })
    }
  }
}

/** A plain aedes with lambkin's resend rules on a TCP port: the persistence can be inspected. */
export interface ResendBroker {
  broker: Aedes
  port: number
  /** Publishes as the broker (QoS 1 by default) and resolves once aedes routed and queued it. */
  publish: (topic: string, payload: string, qos?: 0 | 1 | 2, retain?: boolean) => Promise<void>
  /** Entries still in `clientId`'s outgoing queue (unacknowledged or unsent). */
  queued: (clientId: string) => Promise<number>
  close: () => Promise<void>
}

export async function startResendBroker (): Promise<ResendBroker> {
  const broker = await Aedes.createBroker()
  resendAsMqttSays(broker)
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const persistence = (broker as unknown as { persistence: { outgoingStream: (c: { id: string }) => AsyncIterable<unknown> } }).persistence
  return {
    broker,
    port: (server.address() as net.AddressInfo).port,
    publish: async (topic, payload, qos = 1, retain = false) => {
      await new Promise<void>((resolve) => broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false } as never, () => resolve()))
    },
    queued: async (clientId) => {
      let n = 0
      for await (const entry of persistence.outgoingStream({ id: clientId })) if (entry !== undefined) n++
      return n
    },
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
