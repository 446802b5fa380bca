// The agent's function table: which version of each function runs and the triggers that fire
// it (MQTT routes, sensor pollers, schedules). Functions from the local folder are set at
// start; deployed ones are added, replaced and removed while the agent runs, and a deployed
// function hides a local one of the same name until it is removed (docs/architecture.md,
// "Deployer"). Triggers come from the live version's manifest.
import { ErrorCodes } from '../../src/errors.js'
import type { MqttTrigger, ScheduleTrigger, SensorTrigger } from '../../src/function/index.js'
import type { VersionRoute } from './aliases.js'
import type { Invoker } from './invoker.js'
import type { FunctionMetrics } from '../metrics/index.js'
import type { OutboxStore } from '../store/index.js'
import { META_KEYS } from '../store/meta-keys.js'
import { ScheduleRunner, SensorPoller } from '../triggers/index.js'
import type { Clock } from '../../src/clock.js'
import type { MqttTriggers, SubscribingLink } from '../triggers/mqtt/routing.js'

/** A sensor or schedule trigger, as the table starts and stops them. */
export type Poller = { start: () => Promise<void>, stop: () => Promise<void> | void }

export interface FunctionTableOptions {
  invoker: Invoker
  mqttTriggers: MqttTriggers
  store: OutboxStore
  clock: Clock
  metrics: FunctionMetrics
  log: (line: string) => void
}

interface Running { route: VersionRoute, pollers: Poller[] }

export class FunctionTable {
  readonly #o: FunctionTableOptions
  readonly #local = new Map<string, VersionRoute>()
  readonly #deployed = new Map<string, VersionRoute>()
  readonly #running = new Map<string, Running>()
  #link: SubscribingLink | undefined
  #started = false
  /** Changes run one at a time: a replace never interleaves with another's trigger restarts. */
  #lane: Promise<void> = Promise.resolve()

  constructor (o: FunctionTableOptions) {
    this.#o = o
  }

  /** Names of the functions that run now, sorted. */
  names (): string[] {
    return [...this.#running.keys()].sort()
  }

  /** The route a function runs on now, or undefined. */
  routeOf (name: string): VersionRoute | undefined {
    return this.#running.get(name)?.route
  }

  /** The local folder's version of `name`, if it has one. */
  localOf (name: string): VersionRoute | undefined {
    return this.#local.get(name)
  }

  /**
   * Sets (route given) or removes (undefined) a function from the local folder: at start, and
   * when the watched folder changes (device/watch/). A deployed function of that name still wins.
   */
  async setLocal (name: string, route: VersionRoute | undefined): Promise<void> {
    if (route === undefined) this.#local.delete(name)
    else this.#local.set(name, route)
    await this.#queue(name)
  }

  /** True while any route, running or local, names the sandbox key `key` (`name@version`). */
  uses (key: string): boolean {
    const names = new Set([...this.#running.keys(), ...this.#local.keys()])
    for (const n of names) {
      const r = this.#running.get(n)?.route
      const l = this.#local.get(n)
      if (r?.live.key === key || r?.canary?.key === key || l?.live.key === key) return true
    }
    return false
  }

  /** Adds, replaces (route given) or removes (undefined) a deployed function; a local one of that name returns on removal. */
  async setDeployed (name: string, route: VersionRoute | undefined): Promise<void> {
    if (route === undefined) this.#deployed.delete(name)
    else this.#deployed.set(name, route)
    await this.#queue(name)
  }

  /** Starts the triggers (pollers and, when there is a trigger link, MQTT subscriptions). */
  async start (link: SubscribingLink | undefined): Promise<void> {
    this.#link = link
    this.#started = true
    if (link !== undefined) {
      await this.#o.mqttTriggers.restore()
      await this.#o.mqttTriggers.subscribe(link)
    } else if (this.#o.mqttTriggers.filters().size > 0) {
      this.#o.log('functions have mqtt triggers but no trigger broker is configured (mqtt.url or brokerPort): they will not fire')
    }
    for (const r of this.#running.values()) for (const p of r.pollers) await p.start()
  }

  /** Stops every poller (close: no new work); MQTT routes stay until the trigger link closes. */
  async stop (): Promise<void> {
    this.#started = false
    await this.#lane
    await Promise.all([...this.#running.values()].flatMap((r) => r.pollers.map((p) => p.stop())))
  }

  #queue (name: string): Promise<void> {
    const next = this.#lane.then(() => this.#apply(name))
    this.#lane = next.catch(() => {})
    return next
  }

  async #apply (name: string): Promise<void> {
    const { invoker, mqttTriggers } = this.#o
    const want = this.#deployed.get(name) ?? this.#local.get(name)
    const had = this.#running.get(name)
    if (want === undefined) invoker.unregister(name)
    else invoker.route(name, want)
    // Triggers follow the live version's manifest; a new canary or weight keeps them running.
    if (had !== undefined && want !== undefined && had.route.live.key === want.live.key) {
      this.#running.set(name, { route: want, pollers: had.pollers })
      return
    }
    if (had !== undefined) {
      await Promise.all(had.pollers.map((p) => p.stop()))
      await mqttTriggers.remove(name)
      this.#running.delete(name)
    }
    if (want === undefined) {
      if (this.#started && this.#link !== undefined) await mqttTriggers.subscribe(this.#link)
      return
    }
    const pollers = this.#triggers(name, want)
    this.#running.set(name, { route: want, pollers })
    if (!this.#started) return
    if (this.#link !== undefined) {
      await mqttTriggers.restore(name)
      await mqttTriggers.subscribe(this.#link)
    }
    for (const p of pollers) await p.start()
  }

  #triggers (name: string, route: VersionRoute): Poller[] {
    const { invoker, clock, metrics, log, store } = this.#o
    const pollers: Poller[] = []
    const onEvent = async (ev: object): Promise<void> => { await invoker.run(name, { ...ev }) }
    // A faulted store is said once by the agent (store-faults.ts); each run it skips is counted.
    const onError = (err: { code: string, message: string }): void => { if (err.code !== ErrorCodes.STORE_FAULT) log(`${name}: ${err.code}: ${err.message}`) }
    route.live.manifest.triggers.forEach((t, i) => {
      if ('mqtt' in t) this.#o.mqttTriggers.add(name, t as MqttTrigger, i)
      else if ('sensor' in t) pollers.push(new SensorPoller(t as SensorTrigger, { clock, metrics, functionName: name, onEvent, onError }))
      else {
        pollers.push(new ScheduleRunner(t as ScheduleTrigger, {
          clock,
          key: `${name}#${i}`,
          metrics,
          functionName: name,
          onEvent,
          onError,
          store: {
            getLastRun: async (k) => await store.getMeta(META_KEYS.scheduleLastRun(k)) as number | undefined,
            setLastRun: async (k, time) => { await store.commit({ meta: [{ key: META_KEYS.scheduleLastRun(k), value: time }] }) }
          }
        }))
      }
    })
    return pollers
  }
}
