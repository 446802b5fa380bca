// Agent.create: the device agent's composition root (docs/architecture.md, "Parts"). Named start
// steps (#start lists them: store, functions, invoker, deployer, embedded broker, trigger link,
// cloud link, metrics), each returning its undo to a Scope (src/scope.ts); close() first stops
// taking work and drains what is in flight, then closes the scope.
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LoadedFunction } from '../src/function/index.js'
import { readTrustedKeys } from '../src/bundle/index.js'
import { redactUrls } from '../src/redact.js'
import type { LogFn } from '../src/log-priority.js'
import { ErrorCodes, LambkinError } from '../src/errors.js'
import type { SandboxPool } from '../src/sandbox/index.js'
import type { DeviceConfig } from './config/index.js'
import { VERSION } from '../src/version.js'
import type { CloudLink } from './sync/index.js'
import type { EmbeddedBroker } from './links/broker/index.js'
import { Invoker, type InvocationObserver, type InvocationRecord, type InvokerOptions } from './invoke/invoker.js'
import { FunctionMetrics } from './metrics/index.js'
import { MqttLink } from './links/mqtt-link.js'
import { requestProps } from './links/request-response.js'
import { EmbeddedLink } from './links/embedded-link.js'
import { MqttTriggers } from './triggers/mqtt/routing.js'
import { ProcessedOnce } from './triggers/mqtt/processed-once.js'
import type { OnTriggerMessage, TriggerLink } from './links/trigger-link.js'
import { LevelOutboxStore } from './store/index.js'
import { systemClock, type Clock } from '../src/clock.js'
import { Deployer } from './deployer/index.js'
import { FunctionTable } from './invoke/function-table.js'
import { remoteInvoke } from './invoke/remote-invoke.js'
import { storeFaultReporter } from './store-faults.js'
import { logText } from '../src/log-text.js'
import { functionLogPrinter } from './function-log-lines.js'
import { LocalReload, watchFolder } from './watch/index.js'
import { startAgentMetrics } from './agent-metrics.js'
import { loadLocalFunctions } from './local-functions.js'
import { ensureDataDir } from '../src/data-dir.js'
import { Scope, type Undo } from '../src/scope.js'
import { makePrivate, privateLines } from '../src/private-files.js'
import { StartupEvents } from './startup-events.js'

/** The trigger link gauge (1 up, 0 down and retrying), served with the other metrics. */
export const LINK_UP_METRIC = 'trigger_link_up'
export const PUBLISHES_INFLIGHT_METRIC = 'publishes_inflight'

export interface AgentOptions {
  /** Where the agent reports what it does (load errors, sensor trouble, broker state); URL credentials are redacted. */
  log?: LogFn
  clock?: Clock
  /** Splits invocations between a canary and live ([0, 1) like Math.random, the default); tests pass a seeded one. */
  random?: () => number
}

/** Invocations per function and version (`lambkin_invocations_by_version_total`): results carry the version too. */
export const INVOCATIONS_BY_VERSION_METRIC = 'invocations_by_version_total'

export class Agent extends EventEmitter {
  readonly config: DeviceConfig
  brokerPort: number | undefined
  /** The embedded broker's URL for clients on this machine (set with brokerPort). */
  brokerUrl: string | undefined
  metricsPort: number | undefined
  /** The cloud link, when cloud.url is set. */
  cloudLink: CloudLink | undefined
  readonly metrics = new FunctionMetrics()
  /** What the start steps started, undone in reverse by close() (src/scope.ts). */
  readonly #scope: Scope
  /** 'invocation' and 'publish' events, held while the agent starts (startup-events.ts). */
  readonly #events = new StartupEvents(this)
  /** Told of every ended invocation, in order; the start steps append to it (InvokerOptions.observers). */
  readonly #observers: InvocationObserver[] = [this.#events.whileStarting]
  readonly #clock: Clock
  readonly #random: (() => number) | undefined
  #store: LevelOutboxStore | undefined
  #pool: SandboxPool | undefined
  /** Local functions loaded into the pool by #loadFunctions, for #startInvoker's table. */
  #loaded: LoadedFunction[] = []
  /** Function folders #loadFunctions could not load, by folder, for #watchFunctions. */
  #loadErrors = new Map<string, string>()
  #invoker: Invoker | undefined
  #mqttTriggers: MqttTriggers | undefined
  #broker: EmbeddedBroker | undefined
  #link: TriggerLink | undefined
  #table: FunctionTable | undefined
  #deployer: Deployer | undefined
  #closing: Promise<void> | undefined
  #log: LogFn = () => {}

  private constructor (config: DeviceConfig, log: LogFn, opts: AgentOptions) {
    super()
    this.config = config
    this.#log = log
    this.#clock = opts.clock ?? systemClock
    this.#random = opts.random
    this.#scope = new Scope((line) => { log(line, 'warning') })
  }

  static async create (config: DeviceConfig, opts: AgentOptions = {}): Promise<Agent> {
    // Lines may quote a broker URL; its credentials never reach a log (src/redact.ts).
    const sink = opts.log
    // Lines quote what devices, brokers and functions sent (topics, error messages): one line each, controls escaped.
    const log: LogFn = sink === undefined ? () => {} : (line, priority) => { sink(logText(redactUrls(line)), priority) }
    const agent = new Agent(config, log, opts)
    try {
      await agent.#start()
    } catch (err) {
      await agent.close()
      throw err
    }
    return agent
  }

  /** The start steps, in order; close() undoes them in reverse (each step's comment says what it owns). */
  async #start (): Promise<void> {
    const s = this.#scope
    await s.step('store', () => this.#openStore())
    await s.step('sandboxes', () => this.#loadFunctions())
    await s.step('invoker', () => this.#startInvoker())
    await s.step('deployer', () => this.#openDeployer())
    await s.step('embedded broker', () => this.#startBroker())
    await s.step('trigger link', () => this.#startLinks())
    await s.step('folder watch', () => this.#watchFunctions())
    await s.step('cloud link', () => this.#startCloudLink())
    await s.step('metrics', () => this.#startMetrics())
    // Last, so the agent's own listeners hear of an invocation after its parts have.
    this.#events.started(this.#observers)
  }

  /**
   * 1. The store: everything durable lives here, owner-only (src/private-files.ts). A failed
   * write faults it until it reopens itself (src/store-fault.ts); the agent goes on.
   */
  async #openStore (): Promise<Undo> {
    const c = this.config
    ensureDataDir(c.dataDir, 'dataDir')
    for (const line of privateLines(c.dataDir, makePrivate(c.dataDir))) this.#log(line)
    const store = this.#store = await LevelOutboxStore.open({
      dir: c.dataDir,
      ...c.outbox,
      clock: this.#clock,
      onFault: storeFaultReporter(this.metrics, this.#log)
    })
    return () => store.close()
  }

  /**
   * 2. Local functions into the sandboxes (local-functions.ts): a broken folder is reported and
   * skipped, never fatal; with a cloud configured, a missing folder means no local functions.
   */
  async #loadFunctions (): Promise<Undo> {
    const { pool, loaded, loadErrors } = await loadLocalFunctions(this.config, this.#log)
    this.#pool = pool
    this.#loaded = loaded
    this.#loadErrors = loadErrors
    return () => pool.close()
  }

  /**
   * 3. The invoker, the MQTT trigger router and the function table, with the local functions
   * routed. Committed publishes go to the trigger link once #startLinks has one. Nothing to undo
   * here: the router closes with the link (#startLinks).
   */
  async #startInvoker (): Promise<undefined> {
    const c = this.config
    const store = this.#store as LevelOutboxStore
    const clock = this.#clock
    const invoker = this.#invoker = new Invoker({
      pool: this.#pool as SandboxPool,
      store,
      metrics: this.metrics,
      maxConcurrent: c.invocation.maxConcurrent,
      queueDepth: c.invocation.queueDepth,
      sleep: (ms) => sleep(ms, undefined, { ref: false }),
      now: () => clock.now(),
      publish: (pubs) => { this.#sendPublishes(pubs) },
      observers: this.#observers,
      maxHops: c.invocation.maxHops,
      log: this.#log,
      random: this.#random
    })
    // Marks of committed QoS 1 messages: one its broker sends again is not run again (DESIGN section 6).
    const once = await ProcessedOnce.load(store, this.#log)
    const mqttTriggers = this.#mqttTriggers = new MqttTriggers({ invoker, store, clock, log: this.#log, metrics: this.metrics, once })
    const table = this.#table = new FunctionTable({ invoker, mqttTriggers, store, clock, metrics: this.metrics, log: this.#log })
    for (const fn of this.#loaded) {
      const key = `${fn.manifest.name}@${fn.version}`
      await table.setLocal(fn.manifest.name, { live: { key, manifest: fn.manifest, version: fn.version } })
    }
    return undefined
  }

  /** Hands the invoker's committed publishes to the trigger link, and tells the agent's 'publish' listeners. */
  #sendPublishes (pubs: Parameters<InvokerOptions['publish']>[0]): void {
    for (const p of pubs) {
      const payload = typeof p.payload === 'string' ? p.payload : JSON.stringify(p.payload)
      this.#link?.send({ topic: p.topic, payload, qos: p.qos, retain: p.retain, ...requestProps(p), id: p.id, hop: p.hop, fn: p.fn })
      this.#events.emit('publish', { topic: p.topic, payload })
    }
  }

  /**
   * 4. Deployed functions: the persisted active set, loaded from the bundle files; one
   * replaces a local function of the same name (device/deployer). Its health gate and the
   * by-version counter observe every invocation.
   */
  async #openDeployer (): Promise<Undo> {
    const c = this.config
    const trusted = readTrustedKeys(c.trustedKeys)
    if (trusted.size === 0 && c.cloud.url !== undefined) this.#log(`${ErrorCodes.KEY_UNTRUSTED}: no trusted keys (trustedKeys or --trust <file.pub>): every deployed bundle will be refused`)
    const d = c.deploy
    const deployer = this.#deployer = await Deployer.open({
      deviceId: c.id,
      dataDir: c.dataDir,
      store: this.#store as LevelOutboxStore,
      pool: this.#pool as SandboxPool,
      invoker: this.#invoker as Invoker,
      table: this.#table as FunctionTable,
      metrics: this.metrics,
      clock: this.#clock,
      log: this.#log,
      caps: c.caps,
      trusted,
      settings: {
        windowMs: d.healthWindowMs, maxErrorRate: d.maxErrorRate, minInvocations: d.minInvocations, fetchTimeoutMs: d.fetchTimeoutMs, retryMs: d.retryMs
      }
    })
    this.metrics.register(INVOCATIONS_BY_VERSION_METRIC, { type: 'counter', help: 'Invocations by function, version and outcome (ok or error).', labelNames: ['function', 'version', 'outcome'] })
    // Function log lines on the console, before the invocation's own line (observers run in order).
    const printLogs = functionLogPrinter(c.functionLogs, this.#log)
    if (printLogs !== undefined) this.#observers.push((rec) => { printLogs(rec.fn, rec.logs) })
    this.#observers.push((rec) => {
      if (rec.version !== undefined) this.metrics.inc(INVOCATIONS_BY_VERSION_METRIC, { function: rec.fn, version: rec.version, outcome: rec.ok ? 'ok' : 'error' })
      deployer.onInvocation(rec)
    })
    return () => deployer.close()
  }

  /** 5. The embedded broker (brokerPort), which is also the trigger broker when none is configured. */
  async #startBroker (): Promise<Undo | undefined> {
    const c = this.config
    if (c.brokerPort === undefined) return undefined
    // Imported only when asked for: aedes adds ~12 MiB of RSS to an agent that never uses it.
    const { startEmbeddedBroker } = await import('./links/broker/index.js')
    const broker = this.#broker = await startEmbeddedBroker(c.brokerHost, c.brokerPort, { settings: c.broker, metrics: this.metrics, log: this.#log })
    this.brokerPort = broker.port
    this.brokerUrl = broker.url
    return () => broker.close()
  }

  /**
   * 6. The trigger link and the triggers (the function table starts them; deployments change
   * them later). With only the embedded broker, messages are taken inside it and acknowledged
   * to the publisher after commit; with mqtt.url, through an MQTT client with a persistent
   * session. A trigger broker that is down does not stop the agent: the link keeps retrying,
   * and lambkin_trigger_link_up says where it stands.
   */
  async #startLinks (): Promise<Undo> {
    const c = this.config
    const store = this.#store as LevelOutboxStore
    const table = this.#table as FunctionTable
    const mqttTriggers = this.#mqttTriggers as MqttTriggers
    const broker = this.#broker
    if (c.mqtt.url === undefined && broker === undefined) {
      await table.start(undefined)
      return () => mqttTriggers.close()
    }
    const onMessage: OnTriggerMessage = (msg) => mqttTriggers.onMessage(msg)
    this.metrics.register(LINK_UP_METRIC, { type: 'gauge', help: 'Whether the trigger broker connection is up (1) or down and retrying (0).' })
    this.metrics.register(PUBLISHES_INFLIGHT_METRIC, { type: 'gauge', help: 'QoS 1 publishes handed to the trigger broker and not yet acknowledged; the rest wait in the outbox store.' })
    const onState = (up: boolean): void => { this.metrics.set(LINK_UP_METRIC, {}, up ? 1 : 0) }
    const onInflight = (n: number): void => { this.metrics.set(PUBLISHES_INFLIGHT_METRIC, {}, n) }
    onState(broker !== undefined && c.mqtt.url === undefined)
    onInflight(0)
    const link = this.#link = c.mqtt.url !== undefined
      ? MqttLink.create({ url: c.mqtt.url, config: c.mqtt, log: this.#log, onMessage, onState, onInflight, metrics: this.metrics }, store)
      : new EmbeddedLink(broker as EmbeddedBroker, store, onMessage, onInflight)
    // Kept before the router's undo, so the link closes after the router.
    this.#scope.defer('trigger link', () => link.close())
    await table.start(link)
    const pending = (await store.stats()).pendingPublishes
    if (pending > 0) this.#log(`${pending} QoS 1 publishes from before the last stop are waiting for the trigger broker; they are sent as it takes them`)
    await link.start()
    return () => mqttTriggers.close()
  }

  /**
   * 6b. The local folder reloads by itself on change (device/watch/, `watch.functions`):
   * validated, loaded beside the running version, swapped, and watched by the deploy health gate.
   */
  async #watchFunctions (): Promise<Undo | undefined> {
    const c = this.config
    if (!c.watch.functions || !existsSync(c.functionsDir)) return undefined
    const settings = { windowMs: c.deploy.healthWindowMs, maxErrorRate: c.deploy.maxErrorRate, minInvocations: c.deploy.minInvocations }
    const reload = new LocalReload({
      functionsDir: c.functionsDir,
      layersDir: c.layersDir,
      caps: c.caps,
      pool: this.#pool as SandboxPool,
      table: this.#table as FunctionTable,
      invoker: this.#invoker as Invoker,
      clock: this.#clock,
      settings,
      log: this.#log,
      onChanged: () => { this.#deployer?.report() }
    }, { loaded: this.#loaded, failed: this.#loadErrors })
    this.#observers.push((rec) => { reload.onInvocation(rec) })
    const watcher = watchFolder({ dir: c.functionsDir, debounceMs: c.watch.debounceMs, clock: this.#clock, log: this.#log, onSettled: () => reload.reload() })
    return async () => { watcher.close(); await reload.close() }
  }

  /**
   * 7. The cloud link: uploads the outbox (docs/wire.md). Started before the metrics
   * snapshots, so it closes after the last one is written and can still upload it. It connects
   * in the background; a cloud that is down never holds the agent back, records wait in the
   * outbox. Every invocation nudges its uploader.
   */
  async #startCloudLink (): Promise<Undo | undefined> {
    const c = this.config
    if (c.cloud.url === undefined) return undefined
    const { CloudLink, cloudLinkSettings } = await import('./sync/index.js')
    const table = this.#table as FunctionTable
    const deployer = this.#deployer as Deployer
    const invoker = this.#invoker as Invoker
    const clock = this.#clock
    const log = this.#log
    const cloud = this.cloudLink = await CloudLink.start({
      ...cloudLinkSettings(c, c.cloud.url),
      store: this.#store as LevelOutboxStore,
      clock,
      log,
      status: () => ({ agent: VERSION, metricsSnapshotMs: c.metricsSnapshotMs, functions: table.names().map((name) => ({ name, version: table.routeOf(name)?.live.version ?? '' })) }),
      down: {
        desired: (f) => deployer.onDesired(f),
        bundle: (f) => deployer.onBundle(f),
        invoke: (f) => { void remoteInvoke({ invoker, clock, log, send: (r) => cloud.sendInvokeResult(r) }, f) },
        connected: () => deployer.onConnected()
      }
    })
    deployer.attach(cloud)
    this.#observers.push(() => { cloud.notify() })
    return () => cloud.close()
  }

  /**
   * 8. Metrics (agent-metrics.ts): Prometheus on a port (metricsPort), and deltas into the
   * outbox every metricsSnapshotMs; the last one is written as this step is undone.
   */
  async #startMetrics (): Promise<Undo> {
    const m = await startAgentMetrics({
      config: this.config,
      store: this.#store as LevelOutboxStore,
      metrics: this.metrics,
      clock: this.#clock,
      log: this.#log,
      defer: (name, undo) => { this.#scope.defer(name, undo) }
    })
    this.metricsPort = m.port
    return m.undo
  }

  /**
   * Runs one invocation of `fn` now, as `lambkin invoke` and remote invoke do (event.source
   * "invoke"), through the same invoker as triggers (canary split, retries, outbox commit).
   * Resolves with its record; rejects only when its results could not be stored.
   */
  async invoke (fn: string, event: Record<string, unknown> = {}): Promise<InvocationRecord> {
    if (this.#invoker === undefined) throw new LambkinError(ErrorCodes.CLOSED, 'the agent is not started')
    return await this.#invoker.run(fn, { ...event, source: 'invoke', time: Date.now() })
  }

  /** Names of the functions running now (local and deployed), sorted. */
  get functionNames (): string[] { return this.#table?.names() ?? [] }

  /**
   * The deployer (device/deployer): `active` (the persisted active set), `reportedFrame()`,
   * `idle()`, and events 'applied', 'refused', 'rolled-back', 'reported'.
   */
  get deployer (): Deployer | undefined { return this.#deployer }

  /** The function table: which version of each function runs now (`routeOf(name)`). */
  get functions (): FunctionTable | undefined { return this.#table }

  /** The trigger link, once started: an MqttLink (mqtt.url) or an EmbeddedLink. */
  get triggerLink (): TriggerLink | undefined { return this.#link }

  /** Stops taking work, drains in-flight invocations, then undoes the start steps in reverse. */
  close (): Promise<void> {
    this.#closing ??= (async () => {
      // Stop taking work first: new messages stay unacknowledged at the broker, pollers stop.
      this.#link?.stopAccepting()
      await this.#table?.stop()
      const drained = await this.#invoker?.drain(this.config.invocation.drainTimeoutMs)
      if (drained === false) this.#log(`gave up waiting for ${this.#invoker?.inflight ?? 0} invocations after ${this.config.invocation.drainTimeoutMs} ms`, 'warning')
      await this.#scope.close()
    })()
    return this.#closing
  }
}
