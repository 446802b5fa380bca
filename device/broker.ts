// The agent's embedded MQTT broker (aedes) for LAN sensors: `--broker-port`. It also becomes
// the trigger broker when no `mqtt.url` is configured.
import net from 'node:net'
import { Aedes } from 'aedes'
import { ErrorCodes, LambkinError } from '../src/errors.js'
import type { OnTriggerMessage } from './trigger-message.js'

export interface EmbeddedBroker {
  port: number
  url: string
  /**
   * Runs `hook` on every client publish before aedes answers it: a QoS 1 PUBACK leaves only
   * once the hook's promise settles, so the publisher keeps (and re-sends) what is not durable.
   */
  onPublish: (hook: OnTriggerMessage) => void
  /** Publishes from inside the agent; `done` runs once aedes has delivered or stored it. */
  publish: (topic: string, payload: Buffer, qos: 0 | 1, retain: boolean, done: (err?: Error) => void) => void
  close: () => Promise<void>
}

export async function startEmbeddedBroker (host: string, port: number): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker()
  const server = net.createServer(broker.handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // aedes runs timers from createBroker on: left open, they kept a failed start alive.
      broker.close()
      reject(new LambkinError(ErrorCodes.CONFIG_INVALID, `the embedded broker cannot listen on ${host}:${port} (${err.code ?? err.message}); choose another brokerPort`, { cause: err, details: { key: 'brokerPort' } }))
    })
    server.listen(port, host, () => resolve())
  })
  const bound = (server.address() as net.AddressInfo).port
  let hook: OnTriggerMessage | undefined
  broker.authorizePublish = (client, packet, callback) => {
    if (packet.topic.startsWith('$SYS')) { callback(new Error('$SYS topics are reserved')); return }
    if (client === null || hook === undefined) { callback(null); return }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    hook({ topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, userProperties: (packet as { properties?: { userProperties?: Record<string, string | string[]> } }).properties?.userProperties }).then(() => callback(null), (err: Error) => callback(err))
  }
  return {
    port: bound,
    onPublish: (h) => { hook = h },
    publish: (topic, payload, qos, retain, done) => {
      broker.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false, messageId: 0 } as never, (err?: Error) => done(err ?? undefined))
    },
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
