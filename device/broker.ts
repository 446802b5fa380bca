// The agent's embedded MQTT broker (aedes) for LAN sensors: `--broker-port`. It also becomes
// the trigger broker when no `mqtt.url` is configured.
import net from 'node:net'
import { Aedes } from 'aedes'
import { ErrorCodes, LambkinError } from '../src/errors.js'

export interface EmbeddedBroker {
  port: number
  url: string
  close: () => Promise<void>
}

export async function startEmbeddedBroker (host: string, port: number): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker()
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new LambkinError(ErrorCodes.CONFIG_INVALID, `the embedded broker cannot listen on ${host}:${port} (${err.code ?? err.message}); choose another brokerPort`, { cause: err, details: { key: 'brokerPort' } }))
    })
    server.listen(port, host, () => resolve())
  })
  const bound = (server.address() as net.AddressInfo).port
  return {
    port: bound,
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
