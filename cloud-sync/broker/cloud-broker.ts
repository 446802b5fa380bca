// The cloud's embedded MQTT broker (aedes) for devices: TCP and optionally TLS, device
// credentials checked against the registry, the ACLs of acl.ts, and every refusal counted.
// Devices meet the cloud only here, over the wire rules (docs/wire.md).
import { createHash, timingSafeEqual } from 'node:crypto'
import net from 'node:net'
import tls from 'node:tls'
import { Aedes } from 'aedes'
import type { Client } from 'aedes'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { isValidId } from '../../src/ids.js'
import { verifyStored } from '../../src/secrets.js'
import type { Registry } from '../registry/index.js'
import { checkParserShape, limitPacketSize, limitSubscribeFilters } from '../../src/mqtt/packet-limit.js'
import { disableNumberCache } from '../../src/mqtt/packet-cache.js'
import { resendAsMqttSays } from '../../src/mqtt/session-resend.js'
import { MAX_SUBSCRIPTIONS_PER_DEVICE, mayPublish, maySubscribe } from './acl.js'
import { SILENCE_DEFAULTS, SilenceWatch } from './silence.js'
import { systemClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import type { Refusal } from './acl.js'
import { Scope } from '../../src/scope.js'
import { readPemFlag } from '../../src/small-file.js'
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

/**
 * The embedded broker: a DeviceChannel whose onUp runs for every device publish that passed the
 * ACL, before aedes answers it; onTakeover when a device authenticated while a connection with
 * its id is open (MQTT-3.1.4-2).
 */
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

/** What the broker's hooks share about the devices connected now, and the refusals counted since start. */
interface Devices {
  readonly refused: Record<Refusal, number>
  readonly deviceOf: WeakMap<Client, string>
  /** The stored secret hash each client's password was checked against. */
  readonly hashOf: WeakMap<Client, string>
  readonly live: Map<string, Client>
  /** The topic filters each client's session holds, restored ones included (capped, acl.ts). */
  readonly filters: WeakMap<Client, Set<string>>
  /**
   * A device's secret, once verified against a given stored hash, is checked again with a
   * fast digest compare: scrypt costs ~40 ms of CPU, too much for a fleet reconnecting at once.
   */
  readonly verified: Map<string, { hash: string, digest: Buffer }>
}

const digest = (s: Buffer): Buffer => createHash('sha256').update(s).digest()

/**
 * Starts the broker; throws LAMBKIN_CONFIG_INVALID when a port cannot be bound, TLS files are
 * unreadable, or there is no listener at all. Steps: aedes with its hooks (authenticate,
 * authorizePublish, authorizeSubscribe, the device table), the silence watch, the listeners;
 * a failed step closes the ones before it (src/scope.ts).
 */
export async function startCloudBroker (o: CloudBrokerOptions): Promise<CloudBroker> {
  if (o.port === undefined && o.tls === undefined) throw new LambkinError(ErrorCodes.CONFIG_INVALID, 'the cloud broker has nothing to listen on: without the plain port (--no-plain) it needs --tls-port, --tls-cert and --tls-key', { details: { key: 'plain' } })
  const devices: Devices = {
    refused: { 'bad-credentials': 0, revoked: 0, 'client-id': 0, 'publish-acl': 0, 'subscribe-acl': 0, 'too-many-connections': 0, 'packet-too-large': 0, 'too-many-subscriptions': 0 },
    deviceOf: new WeakMap(),
    filters: new WeakMap(),
    hashOf: new WeakMap(),
    live: new Map(),
    verified: new Map()
  }
  const scope = new Scope(o.log ?? (() => {}))
  // Servers stop listening first; each one's close callback waits for its connections, which
  // closing aedes ends: the aedes undo (run last) waits for these too.
  const stopped: Array<Promise<void>> = []
  try {
    disableNumberCache()
    const broker = await Aedes.createBroker({ connectTimeout: 10_000 })
    scope.defer('aedes', async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await Promise.all(stopped)
    })
    checkParserShape(broker, 'maxPacketBytes')
    resendAsMqttSays(broker)
    broker.authenticate = authenticateDevice(o, devices)
    broker.authorizePublish = authorizeDevicePublish(o, devices)
    broker.authorizeSubscribe = authorizeDeviceSubscribe(devices)
    storeOnlyGranted(broker, devices)
    trackDevices(broker, o, devices)
    const silence = watchSilence(o, devices)
    scope.defer('silence watch', () => { silence.close() })
    // A device's packet is refused from its fixed header: one device sending 200 MB must not
    // make the cloud buffer it (aedes has no cap of its own).
    const handle = (stream: net.Socket): void => {
      silence.watch(stream)
      const client = broker.handle(stream)
      limitPacketSize(client, o.maxPacketBytes, () => { devices.refused['packet-too-large']++ })
      // A SUBSCRIBE the cap could never grant whole is refused whole (acl.ts).
      limitSubscribeFilters(client, MAX_SUBSCRIPTIONS_PER_DEVICE, (n) => { devices.refused['too-many-subscriptions'] += n })
    }
    const { port, tlsPort } = await listenAll(o, handle, scope, stopped)
    return deviceBroker(o, broker, devices, silence, { port, tlsPort }, scope)
  } catch (err) {
    // aedes runs timers from createBroker on; left open they would keep a failed start alive.
    await scope.close()
    throw err
  }
}

/** The surface Cloud uses: URLs, counters, publish, disconnect, close. */
type Ports = { port: number | undefined, tlsPort: number | undefined }

function deviceBroker (o: CloudBrokerOptions, broker: Aedes, devices: Devices, silence: SilenceWatch, ports: Ports, scope: Scope): CloudBroker {
  const { port, tlsPort } = ports
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host
  const url = port === undefined ? `mqtts://${hostForUrl}:${String(tlsPort)}` : `mqtt://${hostForUrl}:${port}`
  return {
    mode: 'embedded',
    port,
    tlsPort,
    url,
    refused: devices.refused,
    silentClosed: () => silence.closed,
    connected: () => [...devices.live.keys()],
    stats: () => ({ mode: 'embedded', url }),
    isConnected: (deviceId) => devices.live.has(deviceId),
    publish: async (topic, payload, opts) => {
      await new Promise<void>((resolve, reject) => broker.publish({ cmd: 'publish', topic, payload, qos: opts.qos, retain: opts.retain, dup: false } as never, (err) => { if (err == null) resolve(); else reject(err) }))
    },
    disconnect: (deviceId) => {
      devices.verified.delete(deviceId)
      devices.live.get(deviceId)?.close()
    },
    close: async () => { await scope.close() }
  }
}

/** Closes a connection silent for 1.5x keepaliveMaxSec as half-open (silence.ts), naming its device. */
function watchSilence (o: CloudBrokerOptions, devices: Devices): SilenceWatch {
  return new SilenceWatch({
    keepaliveMaxSec: o.keepaliveMaxSec ?? SILENCE_DEFAULTS.keepaliveMaxSec,
    clock: o.clock ?? systemClock,
    onSilent: (socket, ms) => {
      const id = [...devices.live].find(([, c]) => (c as unknown as { conn?: unknown }).conn === socket)?.[0]
      o.log?.(`device ${id ?? '(not yet connected)'}: nothing arrived for ${Math.round(ms / 1000)} s; its connection is closed as half-open`)
    }
  })
}

/**
 * aedes' authenticate hook: the client id is the device id and the user name, the secret
 * matches the registry's hash, the device is not revoked, and the connection cap has room.
 */
function authenticateDevice (o: CloudBrokerOptions, devices: Devices): Aedes['authenticate'] {
  const { refused, live, verified, deviceOf, hashOf } = devices
  return (client, username, password, done) => {
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
    })().catch((err: unknown) => done(authError(`registry unavailable: ${errorMessage(err)}`, 3), null))
  }
}

/** aedes' authorizePublish hook: a device publishes only under its own up/ tree (acl.ts), handed to onUp before aedes answers. */
function authorizeDevicePublish (o: CloudBrokerOptions, devices: Devices): Aedes['authorizePublish'] {
  return (client, packet, callback) => {
    if (client === null) { callback(null); return }
    const id = devices.deviceOf.get(client)
    if (id === undefined || !mayPublish(id, packet.topic)) { devices.refused['publish-acl']++; callback(new Error('not authorized')); return }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    // A device's retained up/status and up/reported [W3][W5] are for the cloud, which stores
    // them in the registry; no one may subscribe to up/ (acl.ts), so aedes keeping a copy per
    // device in memory would only cost the fleet's memory. aedes lets this hook change the packet.
    packet.retain = false
    o.onUp(id, packet.topic, payload).then(() => callback(null), (err: Error) => callback(err))
  }
}

/**
 * aedes' authorizeSubscribe hook: a device subscribes only to its own down/ tree (acl.ts).
 * Nothing from one device reaches another: devices publish only under their own up/ tree,
 * which no device may subscribe to; this also keeps a wildcard retained message from leaking.
 * A session holds at most MAX_SUBSCRIPTIONS_PER_DEVICE filters: aedes runs this hook for the
 * filters a resumed session restores too, so they count, and one device cannot grow the
 * broker's memory (kept after it leaves, clean: false) for the whole fleet.
 */
function authorizeDeviceSubscribe (devices: Devices): Aedes['authorizeSubscribe'] {
  return (client, sub, callback) => {
    const id = devices.deviceOf.get(client)
    if (id === undefined || !maySubscribe(id, sub.topic)) { devices.refused['subscribe-acl']++; callback(null, null); return }
    let held = devices.filters.get(client)
    if (held === undefined) devices.filters.set(client, held = new Set())
    if (!held.has(sub.topic)) {
      if (held.size >= MAX_SUBSCRIPTIONS_PER_DEVICE) { devices.refused['too-many-subscriptions']++; callback(null, null); return }
      held.add(sub.topic)
    }
    callback(null, sub)
  }
}

/**
 * aedes (1.2) stores, for each filter it granted, every filter of the SUBSCRIBE packet in a
 * persistent session, refused ones included, once per granted filter: one packet of 5,000
 * filters stored 5,000 filters 5,000 times (seconds of the event loop for the whole fleet)
 * and kept all of them past the cap and the ACL. Only the filters this client holds under the
 * cap (authorizeDeviceSubscribe) reach the session store.
 */
function storeOnlyGranted (broker: Aedes, devices: Devices): void {
  type Sub = { topic: string }
  const store = (broker as unknown as { persistence: { addSubscriptions: (client: Client, subs: Sub[]) => Promise<unknown> } }).persistence
  const add = store.addSubscriptions.bind(store)
  store.addSubscriptions = async (client, subs) => {
    const held = devices.filters.get(client)
    const granted = subs.filter((s) => held?.has(s.topic) === true)
    return granted.length === 0 ? client : await add(client, granted)
  }
}

/** Keeps the table of live device connections, telling onConnect and onDisconnect. */
function trackDevices (broker: Aedes, o: CloudBrokerOptions, devices: Devices): void {
  const { deviceOf, hashOf, live } = devices
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
  // An unsubscribed filter makes room under the cap (authorizeDeviceSubscribe).
  broker.on('unsubscribe', (filters, client) => {
    const held = devices.filters.get(client)
    for (const f of filters) held?.delete(f)
  })
  broker.on('clientDisconnect', (client) => {
    const id = deviceOf.get(client)
    if (id === undefined || live.get(id) !== client) return
    live.delete(id)
    o.onDisconnect?.(id)
  })
}

/** Listens on the plain port and the TLS port, as configured; each server's undo stops it listening. */
async function listenAll (o: CloudBrokerOptions, handle: (stream: net.Socket) => void, scope: Scope, stopped: Array<Promise<void>>): Promise<Ports> {
  const stopOnClose = (server: net.Server): void => {
    scope.defer('listener', () => {
      if (server.listening) stopped.push(new Promise<void>((resolve) => server.close(() => resolve())))
    })
  }
  let port: number | undefined
  let tlsPort: number | undefined
  if (o.port !== undefined) {
    const server = net.createServer(handle)
    stopOnClose(server)
    port = await listen(server, o.host, o.port, 'port')
  }
  if (o.tls !== undefined) {
    let secure: tls.Server
    const cert = readPemFlag(o.tls.certFile, 'tls-cert')
    const key = readPemFlag(o.tls.keyFile, 'tls-key')
    try {
      secure = tls.createServer({ cert, key }, handle)
    } catch (err) {
      throw new LambkinError(ErrorCodes.CONFIG_INVALID, `the TLS certificate or key cannot be used: ${errorMessage(err)}; check --tls-cert and --tls-key (PEM files)`, { cause: err, details: { key: 'tls' } })
    }
    stopOnClose(secure)
    tlsPort = await listen(secure, o.host, o.tls.port, 'tls-port')
  }
  return { port, tlsPort }
}
