// A TCP relay on loopback that can go silent: `freeze()` stops forwarding both ways but keeps
// every socket open, as a link that died without a FIN looks from either end (a board's power
// cut, a NAT that forgot the flow). Nothing is mocked: both ends are real.
import net from 'node:net'

export interface FreezeRelay {
  port: number
  url: string
  freeze: () => void
  close: () => Promise<void>
}

export async function freezeRelay (target: { host?: string, port: number }): Promise<FreezeRelay> {
  let frozen = false
  const sockets = new Set<net.Socket>()
  const server = net.createServer((a) => {
    const b = net.connect(target.port, target.host ?? '127.0.0.1')
    for (const s of [a, b]) { sockets.add(s); s.on('error', () => {}); s.once('close', () => sockets.delete(s)) }
    a.on('data', (d) => { if (!frozen) b.write(d) })
    b.on('data', (d) => { if (!frozen) a.write(d) })
  })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()) })
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    freeze: () => { frozen = true },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
