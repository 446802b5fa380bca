// The agent's embedded MQTT broker (aedes) for LAN sensors: `--broker-port`. It also becomes
// the trigger broker when no `mqtt.url` is configured. Who may connect and what each user may
// do is in broker/access.ts; the per-packet size cap in src/mqtt/packet-limit.ts.
import net from 'node:net'
import { Aedes } from 'aedes'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { BrokerAccess } from './access.js'
import type { BrokerUser } from './access.js'
import { anonymousAllowed, exposureProblem, isLoopbackHost } from './exposure.js'
import { checkParserShape, limitPacketSize } from '../../../src/mqtt/packet-limit.js'
import { disableNumberCache } from '../../../src/mqtt/packet-cache.js'
import { resendAsMqttSays } from '../../../src/mqtt/session-resend.js'
import { Refusals } from './refusals.js'
import { DEVICE_DEFAULTS } from '../../config/defaults.js'
import type { FunctionMetrics } from '../../metrics/index.js'
import type { OnTriggerMessage } from '../trigger-link.js'

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

/** The `broker` config section (device/config/types.ts BrokerConfig), users read-only. */
export interface BrokerSettings {
  users: readonly BrokerUser[]
  allowAnonymous?: boolean
  maxPacketBytes: number
  maxConnections: number
  connectTimeoutMs: number
  maxKeepaliveSec: number
  /** Client publishes worked on at once, over all connections; more wait in arrival order (below). */
  maxTaken: number
}

export interface EmbeddedBrokerOptions {
  /** Unset keys take DEVICE_DEFAULTS.broker (no users: anonymous, loopback only). */
  settings?: Partial<BrokerSettings>
  /** Where `lambkin_broker_refused_total{reason}` is counted. */
  metrics?: Pick<FunctionMetrics, 'register' | 'inc'>
  log?: (line: string) => void
}

/**
 * Starts aedes on host:port (0 = ephemeral). Throws LAMBKIN_CONFIG_INVALID when the port
 * cannot be bound, or (key broker.users) when a host beyond loopback has no users and
 * allowAnonymous is not true.
 */
export async function startEmbeddedBroker (host: string, port: number, opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const s: BrokerSettings = { ...DEVICE_DEFAULTS.broker, ...opts.settings }
  const log = opts.log ?? (() => {})
  const problem = exposureProblem(host, s.users.length, s.allowAnonymous)
  if (problem !== undefined) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `config key "broker.users" ${problem}`, { details: { key: 'broker.users' } })
  const anonymous = anonymousAllowed(s.users.length, s.allowAnonymous)
  const refusals = new Refusals(opts.metrics, log)
  const access = new BrokerAccess({ users: s.users, allowAnonymous: anonymous, maxKeepaliveSec: s.maxKeepaliveSec, refusals })

  disableNumberCache()
  const broker = await Aedes.createBroker({ connectTimeout: s.connectTimeoutMs })
  checkParserShape(broker)
  broker.preConnect = (client, packet, cb) => access.preConnect(client, packet, cb)
  // After preConnect, which it wraps: resends with DUP and before new messages.
  resendAsMqttSays(broker)
  broker.authenticate = (client, username, password, done) => access.authenticate(client, username, password, done)
  broker.authorizeSubscribe = (client, sub, cb) => access.authorizeSubscribe(client, sub, cb)
  broker.on('clientDisconnect', (client) => access.disconnected(client))
  broker.on('connectionError', (_client, err) => {
    if (err.message === 'connect did not arrive in time') refusals.count('connect_timeout', `a connection sent no CONNECT within ${s.connectTimeoutMs} ms (broker.connectTimeoutMs)`)
  })
  const server = net.createServer((socket) => {
    const client = broker.handle(socket)
    limitPacketSize(client, s.maxPacketBytes, (bytes) => {
      refusals.count('packet_too_large', `${client.id ?? socket.remoteAddress ?? 'a client'} sent a ${bytes}-byte packet; the limit is broker.maxPacketBytes = ${s.maxPacketBytes}`)
    })
  })
  // Node closes sockets over maxConnections on accept and emits 'drop' for each.
  server.maxConnections = s.maxConnections
  server.on('drop', (d?: { remoteAddress?: string }) => refusals.count('connection_limit', `${d?.remoteAddress ?? 'a client'} over broker.maxConnections = ${s.maxConnections}`))
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // aedes runs timers from createBroker on: left open, they kept a failed start alive.
      broker.close()
      reject(new LambkinError(ErrorCodes.CONFIG_INVALID, `the embedded broker cannot listen on ${host}:${port} (${err.code ?? err.message}); choose another brokerPort`, { cause: err, details: { key: 'brokerPort' } }))
    })
    server.listen(port, host, () => resolve())
  }).catch(async (err: unknown) => {
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    throw err
  })
  const bound = (server.address() as net.AddressInfo).port
  if (anonymous && !isLoopbackHost(host)) {
    log(`WARNING: the embedded broker on ${host}:${bound} is OPEN: broker.allowAnonymous is true, so anyone who can reach this port can connect without a password, read every topic, publish retained messages and trigger functions. Add broker.users to close it.`)
  }
  let hook: OnTriggerMessage | undefined
  // aedes hands over every packet of one socket read at once and reads the next once all are
  // answered, so each sensor could put a whole read's worth (hundreds of QoS 1 messages) in
  // flight, each keeping ~6.5 KiB of promises, closures and records in the heap until
  // committed (docs/performance.md, "Where the bytes are"); past broker.maxTaken they wait
  // here as parsed packets instead.
  const gate = new HookGate(s.maxTaken)
  // Each sensor connection numbered, for processed once: a client object is one connection.
  const connections = new WeakMap<object, number>()
  let connected = 0
  broker.authorizePublish = (client, packet, callback) => {
    const denied = access.checkPublish(client, packet)
    if (denied !== undefined) { callback(denied); return }
    if (packet.topic.startsWith('$SYS')) { callback(new Error('$SYS topics are reserved')); return }
    if (client === null || hook === undefined) { callback(null); return }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    let connection = connections.get(client)
    if (connection === undefined) connections.set(client, connection = ++connected)
    // A sensor's QoS 1 publish keeps its packet id when sent again in a session it did not start clean.
    const origin = packet.qos === 1 && packet.messageId !== undefined && client.id !== undefined
      ? { session: `sensor ${client.id}`, connection, resumed: !client.clean, persistent: !client.clean, packetId: packet.messageId, dup: packet.dup === true }
      : undefined
    const msg = {
      topic: packet.topic,
      payload,
      qos: packet.qos,
      retain: packet.retain,
      userProperties: (packet as { properties?: { userProperties?: Record<string, string | string[]> } }).properties?.userProperties,
      origin
    }
    gate.run(() => (hook as OnTriggerMessage)(msg), callback)
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

/**
 * Runs at most `max` publish hooks at once; the rest wait in arrival order. Hooks that never
 * settle (a store that hangs) keep their places: once `max` of them hang, every later publish
 * waits with them, unacknowledged, as their commits would.
 */
class HookGate {
  readonly #max: number
  #running = 0
  readonly #waiting: Array<() => void> = []

  constructor (max: number) {
    this.#max = max
  }

  run (work: () => Promise<void>, callback: (err: Error | null) => void): void {
    if (this.#running >= this.#max) {
      this.#waiting.push(() => this.run(work, callback))
      return
    }
    this.#running++
    let p: Promise<void>
    try {
      p = work()
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(
      () => { this.#next(); callback(null) },
      (err: Error) => { this.#next(); callback(err) }
    )
  }

  #next (): void {
    this.#running--
    this.#waiting.shift()?.()
  }
}
