// Cloud.create: the cloud side's composition root (docs/architecture.md, "Cloud side"). Named
// start steps (#start lists them: keys, registry (LevelDB, or PostgreSQL with `db`), rollout
// engine and remote invoke, ingest, device channel (the embedded broker, or a client of an
// external one with `broker`: docs/scale-out.md), operator API), each returning its undo to a
// Scope (src/scope.ts) that close() runs in reverse: the API and the device channel go first.
import { ensureDataDir } from '../src/data-dir.js'
import { makePrivate, privateLines } from '../src/private-files.js'
import { ErrorCodes, errorMessage, LambkinError } from '../src/errors.js'
import { Scope } from '../src/scope.js'
import type { Undo } from '../src/scope.js'
import { CLOUD_DEFAULTS } from './cloud-options.js'
import type { CloudOptions, Resolved } from './cloud-options.js'
import { operatorToken } from './operator-token.js'
import { startApi } from './api/server.js'
import { apiExposureWarning } from './api/exposure.js'
import type { Api } from './api/server.js'
import { startCloudBroker } from './broker/cloud-broker.js'
import type { CloudBroker } from './broker/cloud-broker.js'
import type { PgCoordinator } from './coord/pg-coordinator.js'
import type { Rollouts } from './rollouts/engine.js'
import type { DeviceChannel, DeviceTraffic } from './broker/device-channel.js'
import { Ingest } from './ingest/ingest.js'
import { Takeovers } from './broker/takeovers.js'
import { RemoteInvoker } from './invoke/remote-invoke.js'
import { InvokeRelay } from './coord/invoke-relay.js'
import { LocalBus } from './coord/bus.js'
import { StoredNotes } from './coord/stored-notes.js'
import { allCredentials, DynsecCredentials, embeddedCredentials } from './broker/credentials.js'
import type { CredentialSink } from './broker/credentials.js'
import { DesiredPublisher, RolloutEngine } from './rollouts/index.js'
import type { DeviceLink } from './rollouts/index.js'
import { systemClock } from '../src/clock.js'
import type { Clock } from '../src/clock.js'
import { readTrustedKeys } from '../src/bundle/index.js'
import { LevelRegistry } from './registry/index.js'
import type { FaultEvent } from '../src/store-fault.js'
import { LastSeen } from './last-seen.js'
import type { Registry } from './registry/index.js'
import { logText } from '../src/log-text.js'
import { redactUrls } from '../src/redact.js'
import { cloudSigningKey } from './rollouts/signing-key.js'
import type { CloudSigningKey } from './rollouts/signing-key.js'

// Kept importable from here, where they were first defined.
export { CLOUD_DEFAULTS, operatorToken }
export type { CloudOptions }

/** Where device ages come from: this process's monotonic clock (last-seen.ts), or the database's (pg/seen.ts). */
type Seen = Pick<LastSeen, 'heard' | 'nowFor'>

export class Cloud {
  readonly dataDir: string
  readonly tokenFile: string
  /** What the start steps started, undone in reverse by close() (src/scope.ts). */
  readonly #scope: Scope
  readonly #log: (line: string) => void
  #closing: Promise<void> | undefined
  registry!: Registry
  /** The way to devices: the embedded broker, or the client of an external one. */
  channel!: DeviceChannel
  api!: Api
  ingest!: Ingest
  /** The rollout engine; with PostgreSQL, the instance-shared one (coord/shared-rollouts.ts). */
  rollouts!: Rollouts
  /** With PostgreSQL: the bus between instances and the rollouts' lock (coord/pg-coordinator.ts). */
  coordinator: PgCoordinator | undefined
  /** Where ingest hands a remote-invoke answer: this instance's waiter, else the bus (#startRollouts). */
  #invokeRelay: InvokeRelay | undefined
  /** Notes of records stored, to wake their followers on every instance (#startRollouts). */
  #storedNotes: StoredNotes | undefined
  invoker!: RemoteInvoker
  /** The key desired states are signed with, and the public file devices trust [W5]. */
  signing!: CloudSigningKey
  /** Where device ages come from: PostgreSQL's clock with `db` (#openRegistry), else this process's (#startBroker). */
  #seen: Seen | undefined
  /** Trusted bundle keys (#readKeys), for the API's deploy routes. */
  #trustedKeys: ReturnType<typeof readTrustedKeys> = new Map()
  #desired: DesiredPublisher | undefined
  #takeovers: Takeovers | undefined
  #lastSeen: Seen | undefined
  /** The device channel once #startChannel has it; until then a publish to a device waits for none. */
  #deviceChannel: DeviceChannel | undefined
  /** How the rollout engine, remote invoke and ingest reach devices: through the device channel started after them. */
  readonly #devices: DeviceLink = {
    publish: async (topic, payload, opts) => { await this.#deviceChannel?.publish(topic, payload, opts) },
    isConnected: (id) => this.#deviceChannel?.isConnected(id) ?? false
  }

  private constructor (dataDir: string, tokenFile: string, log: (line: string) => void) {
    this.dataDir = dataDir
    this.tokenFile = tokenFile
    this.#log = log
    this.#scope = new Scope(log)
  }

  /** The embedded broker; throws LAMBKIN_CONFIG_INVALID when this cloud runs on an external one (see `channel`). */
  get broker (): CloudBroker {
    if (this.channel?.mode !== 'embedded') throw new LambkinError(ErrorCodes.CONFIG_INVALID, 'this cloud has no broker of its own: it is a client of an external one (--broker); use cloud.channel')
    return this.channel as CloudBroker
  }

  /** Starts everything; on a failed step undoes the ones before it and throws (LAMBKIN_CONFIG_INVALID, LAMBKIN_KEY_INVALID, LAMBKIN_STORE_ERROR). */
  static async create (opts: CloudOptions): Promise<Cloud> {
    const o: Resolved = { ...CLOUD_DEFAULTS, ...opts }
    if (o.broker !== undefined && !/^postgres(ql)?:\/\//.test(o.db?.url ?? '')) throw new LambkinError(ErrorCodes.CONFIG_INVALID, 'an external broker (--broker) needs the PostgreSQL registry (--db postgres://…): instances side by side share one registry, and the LevelDB one belongs to one process', { details: { key: 'broker' } })
    ensureDataDir(o.dataDir, '--data')
    // 1. The operator token: made once, kept with the data.
    const { token, file } = operatorToken(o.dataDir)
    // Lines quote what devices sent (ids, topics, reasons): one line each, controls escaped.
    const sink = o.log
    const log = sink === undefined ? (): void => {} : (line: string): void => { sink(logText(line)) }
    const cloud = new Cloud(o.dataDir, file, log)
    try {
      await cloud.#start(o, token)
    } catch (err) {
      await cloud.close()
      throw err
    }
    return cloud
  }

  /** The start steps, in order; close() undoes them in reverse (each step's comment says what it owns). */
  async #start (o: Resolved, token: string): Promise<void> {
    const clock = o.clock ?? systemClock
    const now = o.now ?? ((): number => clock.now())
    const s = this.#scope
    await s.step('keys', () => this.#readKeys(o))
    await s.step('registry', () => this.#openRegistry(o, clock))
    await s.step('rollouts', () => this.#startRollouts(o, clock, now))
    await s.step('ingest', () => this.#startIngest(o, now))
    await s.step('device channel', () => this.#startChannel(o, clock, now))
    await s.step('api', () => this.#startApi(o, token, now))
  }

  /**
   * 2. The data folder owner-only, also when an older version made it (src/private-files.ts);
   * the keys whose bundles this cloud takes (a bad file stops the start, naming it); the key
   * desired states are signed with (made on the first start), and its public half for devices.
   */
  #readKeys (o: Resolved): undefined {
    for (const line of privateLines(this.dataDir, makePrivate(this.dataDir))) this.#log(line)
    this.#trustedKeys = readTrustedKeys(o.trustedKeys ?? [])
    this.signing = cloudSigningKey(o.dataDir, o.signingKeyFile)
    return undefined
  }

  /**
   * 3. The registry: LevelDB, where a failed write faults it until it reopens itself
   * (level-guard.ts), or PostgreSQL (--db), where a database out of reach fails calls until it
   * answers (pg/db.ts). Either way uploads are not acked meanwhile. PostgreSQL ages devices on
   * its own clock (pg/seen.ts).
   */
  async #openRegistry (o: Resolved, clock: Clock): Promise<Undo> {
    let registry: Registry
    if (o.db === undefined) {
      registry = await LevelRegistry.open(o.dataDir, { clock, onFault: registryFaultLog(this.#log) })
    } else {
      const { PgRegistry } = await import('./registry/pg/index.js')
      const pg = await PgRegistry.open({ url: o.db.url, retentionDays: o.db.retentionDays, clock, log: this.#log })
      registry = pg
      this.#seen = pg.seen
    }
    this.registry = registry
    return () => registry.close()
  }

  /**
   * 4. Desired state, the rollout engine (resuming open rollouts) and remote invoke. They reach
   * devices through the channel started in #startChannel; until then a publish waits for the connect.
   */
  async #startRollouts (o: Resolved, clock: Clock, now: () => number): Promise<Undo> {
    const log = this.#log
    const desired = this.#desired = new DesiredPublisher(this.registry, this.#devices, now, this.signing.key)
    // With PostgreSQL, several instances may share the registry: one drives the rollouts (the one
    // holding their lock) and the bus carries what the others must hear (docs/scale-out.md).
    const engineOptions = { registry: this.registry, desired, isConnected: this.#devices.isConnected, clock, ...o.rollouts, log }
    let coord: PgCoordinator | undefined
    if (o.db !== undefined) {
      const { PgCoordinator } = await import('./coord/pg-coordinator.js')
      const started = coord = this.coordinator = await PgCoordinator.start({ url: o.db.url, log })
      this.#scope.defer('coordinator', () => started.close())
    }
    const rollouts = this.rollouts = coord === undefined
      ? await RolloutEngine.start(engineOptions)
      : await (await import('./coord/shared-rollouts.js')).SharedRollouts.start(engineOptions, coord)
    // Record followers (logs -f) and the dashboard are woken by notes of stores on any instance.
    const notes = this.#storedNotes = new StoredNotes({ bus: coord ?? new LocalBus(), slowPollMs: o.db?.followPollMs })
    const invoker = this.invoker = new RemoteInvoker(this.#devices, clock)
    // An answer taken here for a request waiting on another instance goes there through the bus.
    const relay = this.#invokeRelay = new InvokeRelay(invoker, coord)
    const offInvoke = relay.start()
    return async () => { offInvoke(); notes.close(); invoker.close(); await rollouts.close() }
  }

  /** 5. Ingest: stores what devices upload and answers them through the broker started next. */
  #startIngest (o: Resolved, now: () => number): undefined {
    const rollouts = this.rollouts
    this.ingest = new Ingest({
      registry: this.registry,
      now,
      log: this.#log,
      send: async (topic, payload) => { await this.#devices.publish(topic, payload, { qos: 1, retain: false }) },
      deploy: { onReported: async (id, r) => { await rollouts.onReported(id, r) }, onInvokeResult: (id, r) => { this.#invokeRelay?.onResult(id, r) } },
      onStored: (id) => { this.#storedNotes?.stored(id) },
      // An external broker does not say when one connection took over another; the devices' boots do.
      onTakeover: o.broker === undefined ? undefined : (id) => { this.#takeovers?.note(id) }
    })
    return undefined
  }

  /**
   * 6. The device channel: the embedded broker, or a client of the fleet's own (external,
   * docs/scale-out.md); takeovers of a device's open connection are counted, and when each
   * device was last heard from on the monotonic clock. A bare `now` (tests) is the only time
   * there is: ages follow it.
   */
  async #startChannel (o: Resolved, clock: Clock, now: () => number): Promise<Undo> {
    const { registry, ingest, rollouts } = this
    const log = this.#log
    const takeovers = this.#takeovers = new Takeovers({ registry, clock: o.now === undefined ? clock : { now }, log })
    const lastSeen = this.#lastSeen = this.#seen ?? new LastSeen(o.now === undefined ? clock : { now })
    const traffic: DeviceTraffic = {
      onUp: async (id, topic, payload) => { lastSeen.heard(id); await ingest.onUp(id, topic, payload) },
      onTakeover: (id) => takeovers.note(id),
      onConnect: (id) => {
        lastSeen.heard(id)
        void registry.touch(id, { lastSeen: now() }).catch(() => {})
        rollouts.onConnect(id).catch((err: unknown) => { log(`device ${id}: desired state not sent on connect: ${errorMessage(err)}`) })
      }
    }
    const channel = this.channel = this.#deviceChannel = o.broker === undefined
      ? await startCloudBroker({
        ...traffic,
        host: o.host,
        port: o.plain === false ? undefined : o.port,
        tls: o.tls,
        registry,
        maxConnections: o.maxConnections,
        maxPacketBytes: o.maxPacketBytes,
        keepaliveMaxSec: o.keepaliveMaxSec,
        clock: o.silenceClock ?? systemClock,
        log
      })
      : await (await import('./broker/external/index.js')).startExternalChannel({ ...traffic, ...o.broker, dataDir: o.dataDir, registry, lastSeen, log })
    return () => channel.close()
  }

  /** 7. The operator API (Fastify, api/server.ts); a host wider than loopback without TLS is warned about. */
  async #startApi (o: Resolved, token: string, now: () => number): Promise<Undo> {
    const { registry, channel, ingest, rollouts, invoker, signing } = this
    const notes = this.#storedNotes as StoredNotes
    const takeovers = this.#takeovers as Takeovers
    const desired = this.#desired as DesiredPublisher
    const trustedKeys = this.#trustedKeys
    const exposed = apiExposureWarning(o.apiHost, o.apiTls !== undefined)
    if (exposed !== undefined) this.#log(exposed)
    // Device credentials follow the registry: the embedded broker reads them there and only
    // cuts connections; an external Mosquitto (--broker-admin) keeps its own (broker/credentials.ts).
    let credentials: CredentialSink = embeddedCredentials((id) => { channel.disconnect(id) })
    if (o.brokerAdmin !== undefined) {
      // Loaded only here: the embedded cloud never loads MQTT.js.
      const { DynsecClient } = await import('./broker/dynsec.js')
      const admin = await DynsecClient.connect({ ...o.brokerAdmin, log: this.#log })
      this.#scope.defer('broker admin', () => admin.close())
      credentials = allCredentials(new DynsecCredentials(admin), credentials)
      this.#log(`lambkin cloud: device credentials are managed on the broker's dynamic security too (${redactUrls(o.brokerAdmin.url)})`)
    }
    const api = this.api = await startApi({
      host: o.apiHost,
      port: o.apiPort,
      tls: o.apiTls,
      requestTimeoutMs: o.apiRequestTimeoutMs,
      token,
      registry,
      now,
      credentials,
      isConnected: this.#devices.isConnected,
      cloudStats: () => ({
        storeFault: registry.storeFault?.() ?? null,
        connected: channel.connected().length,
        broker: channel.stats(),
        ...embeddedStats(channel),
        takeovers: takeovers.count,
        ingest: ingest.counters,
        deploy: {
          trustedKeys: trustedKeys.size,
          signingKeyId: signing.key.keyId,
          desiredPublishFailures: desired.failedPublishes,
          invokeResultsUnmatched: invoker.unmatched,
          invokeResultsRelayed: this.#invokeRelay?.relayed ?? 0
        }
      }),
      deploy: { registry, engine: rollouts, invoker, trustedKeys, now },
      lastSeen: this.#lastSeen as Seen,
      takeoversNow: takeovers.now,
      watchStores: (id) => notes.watch(id),
      // The embedded cloud on LevelDB is one process whose feed already polls at its pace.
      feedWake: this.coordinator === undefined ? undefined : notes
    })
    return () => api.close()
  }

  /** The one line `lambkin cloud` prints when up. */
  readyLine (): string {
    if (this.channel.mode === 'external') return `lambkin cloud ready: external broker ${this.channel.url}; api ${this.api.url}; operator token in ${this.tokenFile}`
    const tls = this.broker.tlsPort === undefined || this.broker.port === undefined ? '' : `, mqtts port ${this.broker.tlsPort}`
    return `lambkin cloud ready: broker ${this.broker.url}${tls}; api ${this.api.url}; operator token in ${this.tokenFile}`
  }

  /** Stops taking device traffic and requests, then closes in reverse start order. */
  close (): Promise<void> {
    this.#closing ??= (async () => {
      await this.#scope.close()
    })()
    return this.#closing
  }
}

/** The embedded broker's refusal and half-open counters for /v1/status (an external broker keeps its own). */
function embeddedStats (channel: DeviceChannel | undefined): Record<string, unknown> {
  if (channel?.mode !== 'embedded') return {}
  const b = channel as CloudBroker
  return { refused: b.refused, halfOpenClosed: b.silentClosed() }
}

/** The cloud's log lines about its registry's faults (src/store-fault.ts). */
function registryFaultLog (log: (line: string) => void): (e: FaultEvent) => void {
  return (e) => {
    if (e.type === 'tripped') log(`${ErrorCodes.STORE_FAULT}: the cloud registry failed a write (${e.state.message}); uploads are not acknowledged (devices keep their records) until it has been reopened and checked, tried again in a second and then less often. Free space on the data disk`)
    else if (e.type === 'retry-failed') log(`${ErrorCodes.STORE_FAULT}: reopening the cloud registry failed (${e.state.message}); trying again in ${Math.round(e.nextInMs / 1000)} s`)
    else log(`the cloud registry is reopened and checked after ${e.after.attempts} tries; uploads are acknowledged again${e.note === undefined ? '' : `. WARNING: ${e.note}`}`)
  }
}
