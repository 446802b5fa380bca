// Bytes on the wire between devices and the cloud broker, by topic: a TCP relay in front of
// the broker that reads MQTT's framing (fixed header and remaining length, MQTT 3.1.1 section
// 2.2; PUBLISH topic, section 3.3.2) and adds each PUBLISH packet's whole size to its device
// and topic kind (`down/desired`, `up/reported`...). The relay copies bytes unchanged.
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { splitPackets } from '../../src/mqtt/split-packets.js'

export interface MqttMeter {
  url: string
  /** Bytes per device per kind ("down/desired"), whole PUBLISH packets, since the last reset. */
  bytes: Map<string, Map<string, number>>
  /** performance.now() of the last PUBLISH of each kind since the last reset. */
  lastAt: Map<string, number>
  reset: () => void
  close: () => Promise<void>
}

/** Hands each complete packet at the front of `buf` to `on`; returns the incomplete rest. */
function counted (buf: Buffer, on: (p: Buffer) => void): Buffer {
  const { packets, rest } = splitPackets(buf)
  for (const p of packets) on(p)
  return rest
}

/** `lambkin/v1/<device>/<up|down>/<kind>` -> [device, "up/kind"]; other topics are not counted. */
function kindOf (p: Buffer): [string, string] | undefined {
  let i = 1
  while ((p[i] & 0x80) !== 0) i++
  i++
  const topic = p.subarray(i + 2, i + 2 + p.readUInt16BE(i)).toString('utf8').split('/')
  return topic.length >= 5 ? [topic[2], `${topic[3]}/${topic.slice(4).join('/')}`] : undefined
}

export async function startMeter (target: { host: string, port: number }): Promise<MqttMeter> {
  const sockets = new Set<net.Socket>()
  const meter: MqttMeter = {
    url: '',
    bytes: new Map(),
    lastAt: new Map(),
    reset: () => { meter.bytes.clear(); meter.lastAt.clear() },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  const count = (p: Buffer): void => {
    if (p[0] >> 4 !== 3) return
    const k = kindOf(p)
    if (k === undefined) return
    const per = meter.bytes.get(k[0]) ?? new Map<string, number>()
    per.set(k[1], (per.get(k[1]) ?? 0) + p.length)
    meter.bytes.set(k[0], per)
    meter.lastAt.set(k[1], performance.now())
  }
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    sockets.add(client).add(upstream)
    const end = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    let up = Buffer.alloc(0)
    let down = Buffer.alloc(0)
    client.on('data', (d: Buffer) => { upstream.write(d); up = Buffer.from(counted(Buffer.concat([up, d]), count)) })
    upstream.on('data', (d: Buffer) => { client.write(d); down = Buffer.from(counted(Buffer.concat([down, d]), count)) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  meter.url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  return meter
}
