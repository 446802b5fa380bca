// A TCP relay on loopback between an MQTT client and its broker, for link faults: it forwards
// whole MQTT packets (src/mqtt/split-packets.ts) both ways, lets a test watch them and drop
// some (the PUBACKs of a link that is going bad), and cut every connection at once. New
// connections after a cut are relayed as before, so the client reconnects through it. It can
// also hand the bytes on in small pieces, and cut each connection after so many bytes down.
import net from 'node:net'
import { splitPackets } from '../../src/mqtt/split-packets.js'

/** `up`: client to broker; `down`: broker to client. */
export type Direction = 'up' | 'down'

/** MQTT control packet types (MQTT 3.1.1 section 2.2.1). */
export const PUBLISH = 3
export const PUBACK = 4

export interface RelayedPacket {
  /** Which relayed connection it is on, counted from 1. */
  conn: number
  dir: Direction
  type: number
  /** Set on a PUBLISH sent again (MQTT 3.1.1 section 3.3.1.1). */
  dup: boolean
  /** A PUBLISH's topic. */
  topic?: string
  /** A QoS 1 PUBLISH's or a PUBACK's packet id. */
  packetId?: number
  bytes: Buffer
}

/** Where the variable header starts: after the control byte and the 1-4 byte remaining length. */
function headerEnd (b: Buffer): number {
  let i = 1
  while (i < 5 && (b[i] & 0x80) !== 0) i++
  return i + 1
}

function describe (conn: number, dir: Direction, bytes: Buffer): RelayedPacket {
  const type = bytes[0] >> 4
  const p: RelayedPacket = { conn, dir, type, dup: false, bytes }
  const at = headerEnd(bytes)
  if (type === PUBLISH) {
    p.dup = (bytes[0] & 0x08) !== 0
    const n = bytes.readUInt16BE(at)
    p.topic = bytes.subarray(at + 2, at + 2 + n).toString('utf8')
    if (((bytes[0] >> 1) & 3) > 0) p.packetId = bytes.readUInt16BE(at + 2 + n)
  } else if (type === PUBACK) {
    p.packetId = bytes.readUInt16BE(at)
  }
  return p
}

export interface TcpRelay {
  port: number
  url: string
  /** Sees every packet before it is forwarded; returning false drops it. */
  filter: ((p: RelayedPacket) => boolean | void) | undefined
  /** Closes every relayed connection now (both ends), as a link blip does. */
  cut: () => void
  /** While true, a new connection is closed as soon as it is accepted: the broker is out of reach. */
  refuse: boolean
  /**
   * When set, bytes going `dir` leave in pieces of the size it returns (at least 1), one piece
   * per event-loop turn with Nagle off, so the receiver reads them in that many chunks or few more.
   */
  shape: ((dir: Direction) => number) | undefined
  /** When set, each connection is cut once this many bytes went down (broker to client), mid-packet if it lands there. */
  cutDownAfter: number | undefined
  /** Connections relayed so far. */
  readonly connections: number
  close: () => Promise<void>
}

export async function startRelay (target: { host?: string, port: number }): Promise<TcpRelay> {
  const pairs = new Set<[net.Socket, net.Socket]>()
  let connections = 0
  const relay: TcpRelay = {
    port: 0,
    url: '',
    filter: undefined,
    shape: undefined,
    cutDownAfter: undefined,
    refuse: false,
    cut: () => {
      for (const [a, b] of pairs) { a.destroy(); b.destroy() }
      pairs.clear()
    },
    get connections () { return connections },
    close: async () => {
      relay.cut()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  const pipe = (conn: number, from: net.Socket, to: net.Socket, dir: Direction, end: () => void): void => {
    let rest = Buffer.alloc(0)
    // Shaped or counted bytes wait here, in order, and leave piece by piece.
    const queue: Buffer[] = []
    let sent = 0
    let draining = false
    const drain = (): void => {
      const head = queue[0]
      if (head === undefined || to.destroyed) { draining = false; return }
      let piece = head.subarray(0, Math.max(1, relay.shape?.(dir) ?? head.length))
      const limit = dir === 'down' ? relay.cutDownAfter : undefined
      if (limit !== undefined && sent + piece.length >= limit) {
        piece = piece.subarray(0, limit - sent)
        queue.length = 0
        draining = false
        to.write(piece, end)
        return
      }
      sent += piece.length
      if (piece.length === head.length) queue.shift()
      else queue[0] = head.subarray(piece.length)
      to.write(piece)
      setImmediate(drain)
    }
    from.on('data', (chunk: Buffer) => {
      const split = splitPackets(rest.length === 0 ? chunk : Buffer.concat([rest, chunk]))
      rest = Buffer.from(split.rest)
      for (const bytes of split.packets) {
        if (relay.filter?.(describe(conn, dir, bytes)) === false) continue
        if (to.destroyed) continue
        if (queue.length === 0 && relay.shape === undefined && (dir === 'up' || relay.cutDownAfter === undefined)) {
          to.write(bytes)
          sent += bytes.length
          continue
        }
        queue.push(bytes)
        if (!draining) { draining = true; drain() }
      }
    })
  }
  const server = net.createServer((client) => {
    if (relay.refuse) { client.destroy(); return }
    const conn = ++connections
    const upstream = net.connect(target.port, target.host ?? '127.0.0.1')
    const pair: [net.Socket, net.Socket] = [client, upstream]
    pairs.add(pair)
    const end = (): void => { client.destroy(); upstream.destroy(); pairs.delete(pair) }
    for (const s of pair) { s.on('error', end); s.on('close', end); s.setNoDelay(true) }
    pipe(conn, client, upstream, 'up', end)
    pipe(conn, upstream, client, 'down', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  relay.port = (server.address() as net.AddressInfo).port
  relay.url = `mqtt://127.0.0.1:${relay.port}`
  return relay
}
