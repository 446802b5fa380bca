// The cloud's embedded MQTT broker (aedes) for devices: TCP and optionally TLS, device
// credentials checked against the registry, the ACLs of acl.ts, and every refusal counted.
// Devices meet the cloud only here, over the wire rules (docs/wire.md).
import { readFileSync } from 'node:fs'
import { createHash, timingSafeEqual } from 'node:crypto'
import net from 'node:net'
import tls from 'node:tls'
import { Aedes } from 'aedes'
import type { Client } from 'aedes'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import { verifyStored } from '../../src/secrets.js'
import type { Registry } from '../registry/index.js'
import { checkParserShape, limitPacketSize } from '../../src/mqtt/packet-limit.js'
import { disableNumberCache } from '../../src/mqtt/packet-cache.js'
import { mayPublish, maySubscribe } from './acl.js'
import { SILENCE_DEFAULTS, SilenceWatch } from './silence.js'
import { systemClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import type { Refusal } from './acl.js'
import type { DeviceChannel, DeviceTraffic } from './device-channel.js'

export interface CloudBrokerOptions extends DeviceTraffic {
  host: string
  /** Plain MQTT over TCP; undefined: none (TLS only, `lambkin cloud --no-plain`). */
  port: number | undefined
  tls?: { port: number, certFile: string, keyFile: string }
  registry: Registry
  /** At most this many device connections at once; more are refused and counted. */
  maxConnections: number
  /** Largest MQTT packet a device may send (bytes); bigger ones close its connection before the payload is read. */
  maxPacketBytes: number
  /** A connection silent for 1.5x this long is closed as half-open (silence.ts); default SILENCE_DEFAULTS. */
  keepaliveMaxSec?: number
  clock?: Clock
  log?: (line: string) => void
}

/** The embedded broker: a DeviceChannel whose onUp runs for every device publish that passed the ACL, before aedes answers it; onTakeover when a device authenticated while a connection with its id is open (MQTT-3.1.4-2). */
export interface CloudBroker extends DeviceChannel {
  readonly mode: 'embedded'
  /** The plain MQTT port; undefined when the cloud runs TLS only. */
  port: number | undefined
  tlsPort?: number
  /** Where devices connect: mqtt://, or mqtts:// when the cloud runs TLS only. */
  url: string
  /** Refusals since start, by reason. */
  readonly refused: Record<Refusal, number>
  /** Connections closed since start because nothing arrived on them (half-open, silence.ts). */
  readonly silentClosed: () => number
}

function authError (message: string, returnCode: number): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode })
}

async function listen (server: net.Server, host: string, port: number, key: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const what = err.code === 'EADDRINUSE' ? `choose another --${key}` : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' ? 'check --host: it must be an address of this machine' : `check --host and --${key}`
      reject(new LambkinError(ErrorCodes.CONFIG_INVALID, `the cloud broker cannot listen on ${host}:${port} (${err.code ?? err.message}); ${what}`, { cause: err, details: { key } }))
    })
    server.listen(port, host, () => resolve())
  })
  return (server.address() as net.AddressInfo).port
}

/** Starts the broker; throws LAMBKIN_CONFIG_INVALID when a port cannot be bound, TLS files are unreadable, or there is no listener at all. */
export async function startCloudBroker (o: CloudBrokerOptions): Promise<CloudBroker> {
  if (o.port === undefined && o.tls === undefined) throw new LambkinError(ErrorCodes.CONFIG_INVALID, 'the cloud broker has nothing to listen on: without the plain port (--no-plain) it needs --tls-port, --tls-cert and --tls-key', { details: { key: 'plain' } })
  const refused: Record<Refusal, number> = { 'bad-credentials': 0, revoked: 0, 'client-id': 0, 'publish-acl': 0, 'subscribe-acl': 0, 'too-many-connections': 0, 'packet-too-large': 0 }
  const deviceOf = new WeakMap<Client, string>()
  /** The stored secret hash each client's password was checked against. */
  const hashOf = new WeakMap<Client, string>()
  const live = new Map<string, Client>()
  // A device's secret, once verified against a given stored hash, is checked again with a
  // fast digest compare: scrypt costs ~40 ms of CPU, too much for a fleet reconnecting at once.
  const verified = new Map<string, { hash: string, digest: Buffer }>()
  const digest = (s: Buffer): Buffer => createHash('sha256').update(s).digest()

  disableNumberCache()
  const broker = await Aedes.createBroker({ connectTimeout: 10_000 })
  checkParserShape(broker, 'maxPacketBytes')
  // A device's packet is refused from its fixed header: one device sending 200 MB must not
  // make the cloud buffer it (aedes has no cap of its own).
  const silence = new SilenceWatch({
    keepaliveMaxSec: o.keepaliveMaxSec ?? SILENCE_DEFAULTS.keepaliveMaxSec,
    clock: o.clock ?? systemClock,
    onSilent: (socket, ms) => {
      const id = [...live].find(([, c]) => (c as unknown as { conn?: unknown }).conn === socket)?.[0]
      o.log?.(`device ${id ?? '(not yet connected)'}: nothing arrived for ${Math.round(ms / 1000)} s; its connection is closed as half-open`)
    }
  })
  const handle = (stream: net.Socket): void => {
    silence.watch(stream)
    limitPacketSize(broker.handle(stream), o.maxPacketBytes, () => { refused['packet-too-large']++ })
  }
  broker.authenticate = (client, username, password, done) => {
    void (async () => {
      const id = client.id
      if (username !== id || !isValidId(id)) { refused['client-id']++; done(authError(`client id must equal the device id (${String(username)})`, 2), null); return }
      if (live.size >= o.maxConnections && !live.has(id)) { refused['too-many-connections']++; done(authError('too many connections', 3), null); return }
      const row = await o.registry.getDevice(id)
      if (row === undefined || password === undefined) { refused['bad-credentials']++; done(authError('bad device id or secret', 4), null); return }
      if (row.revokedAt !== undefined) { refused.revoked++; done(authError('device revoked', 5), null); return }
      const cached = verified.get(id)
      const ok = cached !== undefined && cached.hash === row.secretHash
        ? timingSafeEqual(cached.digest, digest(password))
        : await verifyStored(password, row.secretHash)
      if (!ok) { refused['bad-credentials']++; done(authError('bad device id or secret', 4), null); return }
      // The secret may have been rotated (or the device revoked) while scrypt ran: the old
      // secret must not get in after `lambkin devices rotate` answered.
      const now = await o.registry.getDevice(id)
      if (now?.secretHash !== row.secretHash || now.revokedAt !== undefined) { refused['bad-credentials']++; done(authError('bad device id or secret', 4), null); return }
      verified.set(id, { hash: row.secretHash, digest: digest(password) })
      deviceOf.set(client, id)
      // aedes has no takeover event: its registerClient closes the open client after this.
      if (live.has(id)) o.onTakeover?.(id)
      hashOf.set(client, row.secretHash)
      done(null, true)
    })().catch((err: Error) => done(authError(`registry unavailable: ${err.message}`, 3), null))
  }
  broker.authorizePublish = (client, packet, callback) => {
    if (client === null) { callback(null); return }
    const id = deviceOf.get(client)
    if (id === undefined || !mayPublish(id, packet.topic)) { refused['publish-acl']++; callback(new Error('not authorized')); return }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    // A device's retained up/status and up/reported [W3][W5] are for the cloud, which stores
    // them in the registry; no one may subscribe to up/ (acl.ts), so aedes keeping a copy per
    // device in memory would only cost the fleet's memory. aedes lets this hook change the packet.
    packet.retain = false
    o.onUp(id, packet.topic, payload).then(() => callback(null), (err: Error) => callback(err))
  }
  broker.authorizeSubscribe = (client, sub, callback) => {
    const id = deviceOf.get(client)
    if (id === undefined || !maySubscribe(id, sub.topic)) { refused['subscribe-acl']++; callback(null, null); return }
    callback(null, sub)
  }
  // Nothing from one device reaches another: devices publish only under their own up/ tree,
  // which no device may subscribe to; this also keeps a wildcard retained message from leaking.
  broker.on('clientReady', (client) => {
    const id = deviceOf.get(client)
    if (id === undefined) return
    live.set(id, client)
    o.onConnect?.(id)
    // A rotation or revocation that landed between this client's check and now (disconnect()
    // found no live client to close): close it here, so an old secret never stays connected.
    void o.registry.getDevice(id).then((row) => {
      if (row?.secretHash !== hashOf.get(client) || row?.revokedAt !== undefined) client.close()
    }, () => {})
  })
  broker.on('clientDisconnect', (client) => {
    const id = deviceOf.get(client)
    if (id === undefined || live.get(id) !== client) return
    live.delete(id)
    o.onDisconnect?.(id)
  })

  const servers: net.Server[] = []
  let port: number | undefined
  let tlsPort: number | undefined
  try {
    if (o.port !== undefined) {
      const server = net.createServer(handle)
      servers.push(server)
      port = await listen(server, o.host, o.port, 'port')
    }
    if (o.tls !== undefined) {
      let secure: tls.Server
      try {
        secure = tls.createServer({ cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) }, handle)
      } catch (err) {
        throw new LambkinError(ErrorCodes.CONFIG_INVALID, `the TLS certificate or key cannot be used: ${errorMessage(err)}; check --tls-cert and --tls-key (PEM files)`, { cause: err, details: { key: 'tls' } })
      }
      servers.push(secure)
      tlsPort = await listen(secure, o.host, o.tls.port, 'tls-port')
    }
  } catch (err) {
    // aedes runs timers from createBroker on; left open they would keep a failed start alive.
    for (const s of servers) if (s.listening) s.close()
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    throw err
  }
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host
  return {
    mode: 'embedded',
    port,
    tlsPort,
    url: port === undefined ? `mqtts://${hostForUrl}:${String(tlsPort)}` : `mqtt://${hostForUrl}:${port}`,
    refused,
    silentClosed: () => silence.closed,
    connected: () => [...live.keys()],
    stats: () => ({ mode: 'embedded', url: port === undefined ? `mqtts://${hostForUrl}:${String(tlsPort)}` : `mqtt://${hostForUrl}:${port}` }),
    isConnected: (deviceId) => live.has(deviceId),
    publish: async (topic, payload, opts) => {
      await new Promise<void>((resolve, reject) => broker.publish({ cmd: 'publish', topic, payload, qos: opts.qos, retain: opts.retain, dup: false } as never, (err) => { if (err == null) resolve(); else reject(err) }))
    },
    disconnect: (deviceId) => {
      verified.delete(deviceId)
      live.get(deviceId)?.close()
    },
    close: async () => {
      // Stop listening first; a server's close callback waits for its connections, which
      // closing aedes ends.
      silence.close()
      const stopped = servers.map(async (s) => await new Promise<void>((resolve) => s.close(() => resolve())))
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await Promise.all(stopped)
    }
  }
}
