// The cloud as a plain MQTT 5 client of a broker the fleet already runs (docs/scale-out.md):
// no broker of its own. Device uploads arrive through the shared subscription
// `$share/lambkin-cloud/lambkin/v1/+/up/+` (MQTT 5 section 4.8.2), so each goes to one of the
// instances; each PUBACK leaves only after the upload's registry commit (src/mqtt/ack-hold.ts),
// on a persistent session kept across restarts (instance-id.ts), so an upload taken by an
// instance that died is sent again when it returns, and one its database could not take is
// sent again after a reconnect. Acks, desired state, bundles and invokes go out through the
// same client. An unreachable broker is retried for ever with a log line, never a crash.
import { readPemFlag } from '../../../src/small-file.js'
import mqtt from 'mqtt'
import type { IClientOptions, MqttClient } from 'mqtt'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { holdAcks } from '../../../src/mqtt/ack-hold.js'
import type { GateClient } from '../../../src/mqtt/ack-hold.js'
import { parseDeviceTopic, upFilter } from '../../../src/wire/index.js'
import type { DeviceChannel, DeviceTraffic } from '../device-channel.js'
import { parseBrokerUrl } from './broker-url.js'
import { Presence } from './presence.js'
import { EXTERNAL_BROKER_DEFAULTS } from './defaults.js'
import type { PresenceOptions } from './presence.js'

export { EXTERNAL_BROKER_DEFAULTS }

/** The shared subscription group every instance joins (docs/scale-out.md). */
export const SHARE_GROUP = 'lambkin-cloud'

export interface ExternalBrokerOptions extends DeviceTraffic {
  /** mqtt(s)://user:password@host:port (parse: broker-url.ts). */
  url: string
  /** This instance's client id (instance-id.ts). */
  clientId: string
  /** A PEM CA file for mqtts:// with a private CA. */
  caFile?: string
  presence: PresenceOptions
  log: (line: string) => void
  reconnectMs?: number
  connectTimeoutMs?: number
  sessionExpirySec?: number
  receiveMaximum?: number
}

export interface ExternalBroker extends DeviceChannel {
  readonly mode: 'external'
  readonly clientId: string
  /** Whether the client is connected to the broker now. */
  readonly up: boolean
}

/** Reason codes (MQTT 5 CONNACK; 3.1.1 return codes 4, 5) that mean the broker refuses these credentials. */
const REFUSED_CREDENTIALS = new Set([4, 5, 134, 135, 138])

/**
 * Connects, installs the gate and subscribes. Resolves once connected, or, when the broker
 * cannot be reached, after logging so (it keeps trying alone). Throws LAMBKIN_CONFIG_INVALID for
 * a bad URL or CA file, and when the broker refuses the credentials at start.
 */
export async function connectExternalBroker (opts: ExternalBrokerOptions): Promise<ExternalBroker> {
  const o = { ...EXTERNAL_BROKER_DEFAULTS, ...opts }
  const target = parseBrokerUrl(o.url)
  const ca = o.caFile === undefined ? undefined : readPemFlag(o.caFile, 'broker-ca')
  const options: IClientOptions = {
    protocolVersion: 5,
    clientId: o.clientId,
    username: target.username,
    password: target.password,
    clean: false,
    keepalive: EXTERNAL_BROKER_DEFAULTS.keepaliveSec,
    reconnectPeriod: o.reconnectMs,
    connectTimeout: o.connectTimeoutMs,
    properties: { sessionExpiryInterval: o.sessionExpirySec, receiveMaximum: o.receiveMaximum },
    manualConnect: true,
    // As the agent's links: no 8 MiB packet-id Buffer cache.
    writeCache: false,
    ...(ca === undefined ? {} : { ca })
  }
  const client: MqttClient = mqtt.connect(target.url, options)
  const presence = new Presence(o.presence)
  let closing = false
  let published = 0
  let publishFailures = 0
  let reconnects = 0
  let downSince: number | undefined = Date.now()
  let everUp = false
  let lastError = ''
  const counters = { uploads: 0, refusedTopics: 0, unknownDevices: 0 }
  const unknownLogged = new Map<string, number>()

  const gate = holdAcks(client as unknown as GateClient, {
    log: o.log,
    closing: () => closing,
    maxHeld: o.receiveMaximum,
    retryMaxMs: EXTERNAL_BROKER_DEFAULTS.redeliverMaxMs,
    onMessage: async (packet) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      // The device's id is the topic's [W1]: the broker's ACL lets a device publish only under
      // its own (Mosquitto's dynamic security, docs/scale-out.md). Anything else is dropped and counted.
      const t = parseDeviceTopic(packet.topic)
      if (t === undefined || t.direction !== 'up') { counters.refusedTopics++; return }
      counters.uploads++
      const said = presence.note(packet.topic, payload)
      try {
        await o.onUp(t.deviceId, packet.topic, payload)
      } catch (err) {
        // A device the broker lets in but the registry does not know can never be stored: it
        // is acknowledged and counted, or its uploads would come back for ever. Anything else
        // (the database out of reach) is left unacknowledged, to come again.
        if ((err as { code?: string }).code !== ErrorCodes.DEVICE_NOT_FOUND) throw err
        counters.unknownDevices++
        if ((unknownLogged.get(t.deviceId) ?? -Infinity) + 60_000 < Date.now()) {
          unknownLogged.set(t.deviceId, Date.now())
          o.log(`device ${t.deviceId}: the broker let it publish but it is not registered here (lambkin devices add ${t.deviceId}); its upload is dropped [W8]`)
        }
        return
      }
      if (said === 'online') o.onConnect?.(t.deviceId)
      else if (said === 'offline') o.onDisconnect?.(t.deviceId)
    }
  })

  const subscribe = (): void => {
    client.subscribe(upFilter(SHARE_GROUP), { qos: 1 }, (err, granted) => {
      // Nothing granted and no error: MQTT.js holds the subscription already and sent nothing
      // (a reconnect: the resumed session has it, or MQTT.js subscribes again itself).
      if (err == null && granted?.length === 0) return
      const code = granted?.[0]?.qos
      if (err != null || code === undefined || code > 2) o.log(`${ErrorCodes.SUBSCRIBE_REFUSED}: the broker refused the shared subscription ${upFilter(SHARE_GROUP)} (${err?.message ?? `reason code ${String(code)}`}): its ACL must let ${target.username ?? 'this client'} read lambkin/v1/+/up/+ and write lambkin/v1/+/down/+ (docs/scale-out.md)`)
    })
  }
  client.on('connect', (connack) => {
    if (downSince !== undefined && everUp) o.log(`the broker ${target.shown} answers again after ${Math.round((Date.now() - downSince) / 1000)} s; uploads are acknowledged again`)
    else if (!everUp) o.log(`connected to the broker ${target.shown} as ${o.clientId}; taking device uploads from ${upFilter(SHARE_GROUP)}${connack.sessionPresent ? ' (session resumed)' : ''}`)
    everUp = true
    downSince = undefined
    lastError = ''
    subscribe()
  })
  client.on('reconnect', () => { reconnects++ })
  client.on('error', (err) => {
    if (err.message === lastError) return
    lastError = err.message
    o.log(`${ErrorCodes.BROKER_UNAVAILABLE}: the broker ${target.shown}: ${err.message}; trying again every ${Math.round(o.reconnectMs / 1000)} s, uploads wait at the broker and on the devices`)
  })
  client.on('close', () => {
    if (closing || downSince !== undefined) return
    downSince = Date.now()
    o.log(`${ErrorCodes.BROKER_UNAVAILABLE}: the connection to the broker ${target.shown} is lost; uploads are not acknowledged until it is back (devices keep their records), reconnecting every ${Math.round(o.reconnectMs / 1000)} s`)
  })

  // The first attempt decides only one thing: credentials refused is a configuration error.
  const first = await new Promise<'up' | 'down' | Error>((resolve) => {
    const done = (r: 'up' | 'down' | Error): void => { client.off('connect', onUp); client.off('error', onErr); client.off('close', onClose); resolve(r) }
    const onUp = (): void => done('up')
    const onErr = (err: Error & { code?: number | string }): void => {
      if (typeof err.code === 'number' && REFUSED_CREDENTIALS.has(err.code)) done(new LambkinError(ErrorCodes.CONFIG_INVALID, `the broker ${target.shown} refused the cloud's credentials (${err.message}); check the user and password in --broker (LAMBKIN_BROKER_URL)`, { cause: err, details: { key: 'broker' } }))
      else done('down')
    }
    const onClose = (): void => done('down')
    client.on('connect', onUp)
    client.on('error', onErr)
    client.on('close', onClose)
    client.connect()
  })
  if (first instanceof Error) {
    closing = true
    await client.endAsync(true).catch(() => {})
    throw first
  }
  if (first === 'down' && lastError === '') o.log(`${ErrorCodes.BROKER_UNAVAILABLE}: the broker ${target.shown} cannot be reached yet; trying again every ${Math.round(o.reconnectMs / 1000)} s`)
  presence.start()

  return {
    mode: 'external',
    url: target.shown,
    clientId: o.clientId,
    get up () { return client.connected },
    connected: () => presence.connected(),
    isConnected: (id) => presence.isConnected(id),
    publish: async (topic, payload, p) => {
      // Handed to the session and not awaited (device-channel.ts): sent again after a reconnect
      // while this process lives; a lost one is made good by the device's own resend [W4].
      published++
      client.publish(topic, payload, { qos: p.qos, retain: p.retain }, (err) => { if (err != null) publishFailures++ })
    },
    disconnect: () => { /* the broker holds device connections: revocation there (docs/scale-out.md) */ },
    stats: () => ({ mode: 'external', url: target.shown, clientId: o.clientId, up: client.connected, downSince: downSince ?? null, reconnects, held: gate.held, notAcknowledged: gate.failed, uploads: counters.uploads, refusedTopics: counters.refusedTopics, unknownDevices: counters.unknownDevices, published, publishFailures, connected: presence.connected().length }),
    close: async () => {
      closing = true
      presence.close()
      // What is held settles first, so its PUBACKs leave; anything still open is sent again
      // to this session when it returns.
      for (let i = 0; i < 50 && gate.held > 0 && client.connected; i++) await new Promise((resolve) => setTimeout(resolve, 100))
      // Out of the group before going: an offline member's session keeps getting its share (sessionExpirySec).
      if (client.connected) {
        const left = client.unsubscribeAsync(upFilter(SHARE_GROUP)).catch(() => {})
        await Promise.race([left, new Promise((resolve) => setTimeout(resolve, 2000))])
      }
      await client.endAsync(!client.connected).catch(() => {})
    }
  }
}
