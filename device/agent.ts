// Agent.create: the device agent's composition root (docs/architecture.md, "Parts"). Ordered start steps
// (store, functions, sandboxes, embedded broker, trigger link, triggers, metrics), each undone
// in reverse by close(), which first stops taking work and drains what is in flight.
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadFunctionsDir } from '../src/function/index.js'
import type { LoadedFunction } from '../src/function/index.js'
import { readTrustedKeys } from '../src/bundle/index.js'
import { redactUrls } from '../src/redact.js'
import type { LogFn } from '../src/log-priority.js'
import { ErrorCodes, errorMessage, LambkinError } from '../src/errors.js'
import { SandboxPool, specOf } from '../src/sandbox/index.js'
import type { DeviceConfig } from './config/index.js'
import { VERSION } from '../src/version.js'
import type { CloudLink } from './sync/index.js'
import type { EmbeddedBroker } from './links/broker/index.js'
import { Invoker } from './invoke/invoker.js'
import type { InvocationRecord } from './invoke/invoker.js'
import { FunctionMetrics, startMetricsServer } from './metrics/index.js'
import type { MetricsServer } from './metrics/index.js'
import { MqttLink } from './links/mqtt-link.js'
import { requestProps } from './links/request-response.js'
import { EmbeddedLink } from './links/embedded-link.js'
import { MqttTriggers } from './triggers/mqtt/routing.js'
import { ProcessedOnce } from './triggers/mqtt/processed-once.js'
import type { OnTriggerMessage, TriggerLink } from './links/trigger-link.js'
import { LevelOutboxStore } from './store/index.js'
import { systemClock } from '../src/clock.js'
import type { Clock } from '../src/clock.js'
import { Deployer } from './deployer/index.js'
import { FunctionTable } from './invoke/function-table.js'
import { remoteInvoke } from './invoke/remote-invoke.js'
import { checkSomethingLoaded } from './nothing-loaded.js'
import { storeFaultReporter } from './store-faults.js'
import { logText } from '../src/log-text.js'
import { functionLogPrinter } from './function-log-lines.js'
import { LocalReload, watchFolder } from './watch/index.js'
import { ENDPOINT_FILE, endpointToken, removeEndpoint, writeEndpoint } from './metrics/agent-endpoint.js'
import { isLoopbackHost } from '../src/loopback.js'
import { ensureDataDir } from '../src/data-dir.js'
import { makePrivate, privateLines } from '../src/private-files.js'

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
  /** Undo steps, run in reverse by close(). */
  readonly #undo: Array<() => Promise<void> | void> = []
  #invoker: Invoker | undefined
  #link: TriggerLink | undefined
  #table: FunctionTable | undefined
  #deployer: Deployer | undefined
  #closing: Promise<void> | undefined
  #log: LogFn = () => {}

  private constructor (config: DeviceConfig) {
    super()
    this.config = config
  }

  static async create (config: DeviceConfig, opts: AgentOptions = {}): Promise<Agent> {
    const agent = new Agent(config)
    // Lines may quote a broker URL; its credentials never reach a log (issue 8).
    const sink = opts.log
    // Lines quote what devices, brokers and functions sent (topics, error messages): one line each, controls escaped.
    const log: LogFn = sink === undefined ? agent.#log : (line, priority) => { sink(logText(redactUrls(line)), priority) }
    agent.#log = log
    try {
      await agent.#start(log, opts.clock ?? systemClock, opts.random)
    } catch (err) {
      await agent.close()
      throw err
    }
    return agent
  }

  async #start (log: LogFn, clock: Clock, random: (() => number) | undefined): Promise<void> {
    const c = this.config
    // 1. The store: everything durable lives here, owner-only (src/private-files.ts).
    // A failed write faults it until it reopens itself (src/store-fault.ts); the agent goes on.
    ensureDataDir(c.dataDir, 'dataDir')
    for (const line of privateLines(c.dataDir, makePrivate(c.dataDir))) log(line)
    const store = await LevelOutboxStore.open({ dir: c.dataDir, quotaBytes: c.outbox.quotaBytes, syncIntervalMs: c.outbox.syncIntervalMs, ttlMs: c.outbox.ttlMs, clock, onFault: storeFaultReporter(this.metrics, log) })
    this.#undo.push(() => store.close())

    // 2. Functions: a broken folder is reported and skipped, never fatal.
    // A device fed only by deployments needs no folder of its own: with a cloud configured, a
    // missing folder means "no local functions", not a reason to stop.
    const { functions, errors } = c.cloud.url !== undefined && !existsSync(c.functionsDir)
      ? (log(`no functions folder at ${c.functionsDir}: running deployed functions only`), { functions: [], errors: [] })
      : await loadFunctionsDir(c.functionsDir, { layersDir: c.layersDir, caps: c.caps })
    // A syntax error's message carries its source line and a caret: each is a line of its own.
    for (const e of errors) for (const line of `function ${e.dir} not loaded: ${e.error.code}: ${e.error.message}`.split('\n')) log(line)

    // 3. Sandboxes.
    const pool = await SandboxPool.create({ workers: c.invocation.workers, queueDepth: c.invocation.queueDepth, deviceId: c.id })
    this.#undo.push(() => pool.close())
    const loaded: LoadedFunction[] = []
    for (const fn of functions) {
      try {
        await pool.load(specOf(fn))
        loaded.push(fn)
      } catch (err) {
        log(`function ${fn.manifest.name} not loaded: ${(err as { code?: string }).code ?? ''}: ${errorMessage(err)}`, 'err')
      }
    }

    checkSomethingLoaded({ loaded: loaded.length, failed: errors.length + functions.length - loaded.length, cloud: c.cloud.url !== undefined, functionsDir: c.functionsDir, log })

    let link: TriggerLink | undefined
    const invoker = this.#invoker = new Invoker({
      pool,
      store,
      metrics: this.metrics,
      maxConcurrent: c.invocation.maxConcurrent,
      queueDepth: c.invocation.queueDepth,
      sleep: (ms) => sleep(ms, undefined, { ref: false }),
      now: () => clock.now(),
      publish: (pubs) => {
        for (const p of pubs) {
          const payload = typeof p.payload === 'string' ? p.payload : JSON.stringify(p.payload)
          if (link !== undefined) link.send({ topic: p.topic, payload, qos: p.qos, retain: p.retain, ...requestProps(p), id: p.id, hop: p.hop, fn: p.fn })
          this.emit('publish', { topic: p.topic, payload })
        }
      },
      onInvocation: (rec: InvocationRecord) => this.emit('invocation', rec),
      maxHops: c.invocation.maxHops,
      log,
      random
    })
    // Marks of committed QoS 1 messages: one its broker sends again is not run again (DESIGN section 6).
    const once = await ProcessedOnce.load(store, log)
    const mqttTriggers = new MqttTriggers({ invoker, store, clock, log, metrics: this.metrics, once })
    const table = this.#table = new FunctionTable({ invoker, mqttTriggers, store, clock, metrics: this.metrics, log })
    for (const fn of loaded) {
      const key = `${fn.manifest.name}@${fn.version}`
      await table.setLocal(fn.manifest.name, { live: { key, manifest: fn.manifest, version: fn.version } })
    }

    // 3b. Deployed functions: the persisted active set, loaded from the bundle files; one
    // replaces a local function of the same name (device/deployer).
    const trusted = readTrustedKeys(c.trustedKeys)
    if (trusted.size === 0 && c.cloud.url !== undefined) log(`${ErrorCodes.KEY_UNTRUSTED}: no trusted keys (trustedKeys or --trust <file.pub>): every deployed bundle will be refused`)
    const deployer = this.#deployer = await Deployer.open({ deviceId: c.id, dataDir: c.dataDir, store, pool, invoker, table, metrics: this.metrics, clock, log, caps: c.caps, trusted, settings: { windowMs: c.deploy.healthWindowMs, maxErrorRate: c.deploy.maxErrorRate, minInvocations: c.deploy.minInvocations, fetchTimeoutMs: c.deploy.fetchTimeoutMs, retryMs: c.deploy.retryMs } })
    this.#undo.push(() => deployer.close())
    this.metrics.register(INVOCATIONS_BY_VERSION_METRIC, { type: 'counter', help: 'Invocations by function, version and outcome (ok or error).', labelNames: ['function', 'version', 'outcome'] })
    // Function log lines on the console, before the invocation's own line (listeners run in order).
    const printLogs = functionLogPrinter(c.functionLogs, log)
    if (printLogs !== undefined) this.on('invocation', (rec: InvocationRecord) => printLogs(rec.fn, rec.logs))
    this.on('invocation', (rec: InvocationRecord) => {
      if (rec.version !== undefined) this.metrics.inc(INVOCATIONS_BY_VERSION_METRIC, { function: rec.fn, version: rec.version, outcome: rec.ok ? 'ok' : 'error' })
      deployer.onInvocation(rec)
    })

    // 4. The embedded broker, which is also the trigger broker when none is configured.
    let broker: EmbeddedBroker | undefined
    if (c.brokerPort !== undefined) {
      // Imported only when asked for: aedes adds ~12 MiB of RSS to an agent that never uses it.
      const { startEmbeddedBroker } = await import('./links/broker/index.js')
      broker = await startEmbeddedBroker(c.brokerHost, c.brokerPort, { settings: c.broker, metrics: this.metrics, log })
      this.brokerPort = broker.port
      this.brokerUrl = broker.url
      this.#undo.push(() => broker?.close())
    }

    // 5. Triggers (the function table starts them; deployments change them later).
    const onMessage: OnTriggerMessage = (msg) => mqttTriggers.onMessage(msg)
    if (c.mqtt.url !== undefined || broker !== undefined) {
      // With only the embedded broker, messages are taken inside it and acknowledged to the
      // publisher after commit; with mqtt.url, through an MQTT client with a persistent session.
      // A trigger broker that is down does not stop the agent: the link keeps retrying, and
      // lambkin_trigger_link_up says where it stands.
      this.metrics.register(LINK_UP_METRIC, { type: 'gauge', help: 'Whether the trigger broker connection is up (1) or down and retrying (0).' })
      this.metrics.register(PUBLISHES_INFLIGHT_METRIC, { type: 'gauge', help: 'QoS 1 publishes handed to the trigger broker and not yet acknowledged; the rest wait in the outbox store.' })
      const onState = (up: boolean): void => { this.metrics.set(LINK_UP_METRIC, {}, up ? 1 : 0) }
      const onInflight = (n: number): void => { this.metrics.set(PUBLISHES_INFLIGHT_METRIC, {}, n) }
      onState(broker !== undefined && c.mqtt.url === undefined)
      onInflight(0)
      link = this.#link = c.mqtt.url !== undefined
        ? MqttLink.create({ url: c.mqtt.url, config: c.mqtt, log, onMessage, onState, onInflight, metrics: this.metrics }, store)
        : new EmbeddedLink(broker as EmbeddedBroker, store, onMessage, onInflight)
      this.#undo.push(() => link?.close())
      await table.start(link)
      const pending = (await store.stats()).pendingPublishes
      if (pending > 0) log(`${pending} QoS 1 publishes from before the last stop are waiting for the trigger broker; they are sent as it takes them`)
      await link.start()
    } else {
      await table.start(undefined)
    }
    this.#undo.push(() => mqttTriggers.close())

    // 5b. The local folder reloads by itself on change (device/watch/): validated, loaded
    // beside the running version, swapped, and watched by the deploy health gate.
    if (c.watch.functions && existsSync(c.functionsDir)) {
      const failed = new Map(errors.map((e) => [e.dir, `function ${e.dir} not loaded: ${e.error.code}: ${e.error.message}`]))
      const settings = { windowMs: c.deploy.healthWindowMs, maxErrorRate: c.deploy.maxErrorRate, minInvocations: c.deploy.minInvocations }
      const reload = new LocalReload({ functionsDir: c.functionsDir, layersDir: c.layersDir, caps: c.caps, pool, table, invoker, clock, settings, log }, { loaded, failed })
      this.on('invocation', (rec: InvocationRecord) => reload.onInvocation(rec))
      const watcher = watchFolder({ dir: c.functionsDir, debounceMs: c.watch.debounceMs, clock, log, onSettled: () => reload.reload() })
      this.#undo.push(async () => { watcher.close(); await reload.close() })
    }

    // 6. The cloud link: uploads the outbox (docs/wire.md). Started before the metrics
    // snapshots, so it closes after the last one is written and can still upload it. It connects in the background; a
    // cloud that is down never holds the agent back, records wait in the outbox.
    if (c.cloud.url !== undefined) {
      const { CloudLink } = await import('./sync/index.js')
      const k = c.cloud
      const read = (f: string | undefined): Buffer | undefined => f === undefined ? undefined : readFileSync(f)
      const cloud = this.cloudLink = await CloudLink.start({
        url: k.url as string,
        deviceId: c.id,
        secret: k.password ?? '',
        ca: read(k.caFile),
        cert: read(k.certFile),
        key: read(k.keyFile),
        rejectUnauthorized: k.rejectUnauthorized,
        keepaliveSec: k.keepaliveSec,
        store,
        clock,
        log,
        status: () => ({ agent: VERSION, metricsSnapshotMs: c.metricsSnapshotMs, functions: table.names().map((name) => ({ name, version: table.routeOf(name)?.live.version ?? '' })) }),
        heartbeatMs: k.heartbeatMs,
        batchRecords: k.batchRecords,
        window: 2,
        ackTimeoutMs: k.ackTimeoutMs,
        uploadBytesPerSec: k.uploadBytesPerSec,
        dailyUploadBytes: k.dailyUploadBytes,
        uploadLogs: k.uploadLogs,
        logExclude: [...k.logExclude],
        reconnectMinMs: k.reconnectMs,
        reconnectMaxMs: Math.max(k.reconnectMs, k.reconnectMaxMs),
        down: {
          desired: (f) => deployer.onDesired(f),
          bundle: (f) => deployer.onBundle(f),
          invoke: (f) => { void remoteInvoke({ invoker, clock, log, send: (r) => cloud.sendInvokeResult(r) }, f) },
          connected: () => deployer.onConnected()
        }
      })
      deployer.attach(cloud)
      this.on('invocation', () => cloud.notify())
      this.#undo.push(() => cloud.close())
    }

    // 7. Metrics: Prometheus on a port, deltas into the outbox. The store's lock is ours, so an
    // endpoint file left by an agent killed earlier names no one: it goes.
    try { removeEndpoint(c.dataDir) } catch {}
    if (c.metricsPort !== undefined) {
      const token = endpointToken()
      const server: MetricsServer = await startMetricsServer({ port: c.metricsPort, host: c.metricsHost, metrics: this.metrics, outbox: { store, token } })
      this.metricsPort = server.port
      this.#undo.push(() => server.close())
      // `lambkin outbox --data` finds the running agent here (agent-endpoint.ts), on loopback,
      // the only address the outbox route answers (a wildcard listener has it too).
      const host = isLoopbackHost(c.metricsHost) ? c.metricsHost : c.metricsHost === '0.0.0.0' ? '127.0.0.1' : c.metricsHost === '::' ? '::1' : undefined
      if (host !== undefined) {
        try {
          writeEndpoint(c.dataDir, { url: `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`, token, pid: process.pid })
          this.#undo.push(() => removeEndpoint(c.dataDir))
        } catch (err) {
          // A full card must not stop the agent over a convenience: lambkin outbox then says it cannot reach it.
          log(`lambkin outbox cannot read this agent's outbox while it runs: writing ${ENDPOINT_FILE} failed (${errorMessage(err)})`, 'warning')
        }
      }
    }
    const snapshot = async (): Promise<void> => {
      const delta = this.metrics.snapshotDelta()
      if (Object.keys(delta.functions ?? {}).length === 0) return
      await store.commit({ records: [{ kind: 'metric', time: clock.now(), data: delta }] }).catch((err: Error) => log(`metrics snapshot not stored: ${err.message}`, 'warning'))
    }
    const timer = setInterval(() => { void snapshot() }, c.metricsSnapshotMs)
    timer.unref()
    this.#undo.push(async () => { clearInterval(timer); await snapshot() })
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
      for (const undo of this.#undo.splice(0).reverse()) {
        try {
          await undo()
        } catch (err) {
          this.#log(`while closing: ${errorMessage(err)}`, 'warning')
        }
      }
    })()
    return this.#closing
  }
}
