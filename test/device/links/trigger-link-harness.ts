// The world and harness the TriggerLink cases (trigger-link.case.ts) run in: a broker, the TCP
// relay on the connection whose PUBACKs the contract is about, an observer, and helpers to wait
// for and record what crosses it.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import { LevelOutboxStore } from '../../../device/store/index.js'
import type { OutboxStore } from '../../../device/store/index.js'
import type { OnTriggerMessage, SubscribeHooks, TriggerLink, TriggerMessage, TriggerSubscription } from '../../../device/links/trigger-link.js'
import { PUBACK, PUBLISH } from '../../helpers/tcp-relay.js'
import type { Direction, RelayedPacket, TcpRelay } from '../../helpers/tcp-relay.js'

/** One implementation's surroundings for one case: a broker, the relay, and how to make links. */
export interface LinkWorld {
  /** Where sensors publish trigger messages. */
  publisherUrl: string
  /** Where an observer sees what the link publishes (never through the relay). */
  observerUrl: string
  /** The relay on the connection whose PUBACKs the contract is about. */
  relay: TcpRelay
  /** The way the trigger message's PUBACK crosses the relay ('up': the link acknowledges its broker; 'down': the broker acknowledges a sensor). */
  ackDir: Direction
  /** A new link, not started. Every link of one world is the same agent: one client id, one session. */
  link: (store: OutboxStore, onMessage: OnTriggerMessage) => TriggerLink
  close: () => Promise<void>
}

/** The cases, by id; a runner's `differs` names ids with the reason the implementation differs. */
export type CaseId =
  | 'subscribe-before-start' | 'subscribe-after-start' | 'session-present' | 'ack-after-settle' | 'ack-one-connection' | 'puback-order'
  | 'rejected-redelivered' | 'blip-redelivery' | 'publish-after-reconnect' | 'publish-puback-lost' | 'publishes-from-before' | 'stop-accepting'

export const SUBS = new Map<string, TriggerSubscription>([['cases/#', { qos: 1, retainHandling: 0 }]])

export interface Deferred { promise: Promise<void>, resolve: () => void }
export function deferred (): Deferred {
  let resolve: () => void = () => {}
  const promise = new Promise<void>((_resolve) => { resolve = _resolve })
  return { promise, resolve }
}

/** Waits (real time, bounded) for what the link does by itself: a reconnect, a redelivery. */
export async function until (cond: () => boolean | Promise<boolean>, what: string, boundMs = 15_000): Promise<void> {
  const end = Date.now() + boundMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** The messages a link took on `cases/` topics (sentinels and publishes seen back are left out), and what onMessage answers. */
export function inbox (answer: (msg: TriggerMessage, n: number) => Promise<void> = async () => {}): { got: TriggerMessage[], onMessage: OnTriggerMessage } {
  const got: TriggerMessage[] = []
  return {
    got,
    onMessage: async (msg) => {
      if (!msg.topic.startsWith('cases/')) return
      got.push(msg)
      await answer(msg, got.length)
    }
  }
}

/** One case's world, store, clients and the packets seen on the relay; done() ends them all. */
export class Harness {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-link-case-'))
  readonly packets: RelayedPacket[] = []
  readonly #links: TriggerLink[] = []
  readonly #clients: MqttClient[] = []
  #sentinels = 0
  store!: OutboxStore

  constructor (readonly world: LinkWorld) {
    world.relay.filter = (p) => { this.packets.push(p) }
  }

  async open (): Promise<this> {
    this.store = await LevelOutboxStore.open({ dir: this.dir })
    return this
  }

  link (onMessage: OnTriggerMessage): TriggerLink {
    const l = this.world.link(this.store, onMessage)
    this.#links.push(l)
    return l
  }

  /** A sensor (MQTT 3.1.1, persistent session, quick to reconnect) subscribed to the sentinels. */
  async sensor (id = 'case-sensor'): Promise<MqttClient> {
    const c = await mqtt.connectAsync(this.world.publisherUrl, { clientId: id, clean: false, protocolVersion: 4, reconnectPeriod: 50 })
    this.#clients.push(c)
    await c.subscribeAsync('probe/#', { qos: 0 })
    return c
  }

  /** A client subscribed to `out/#` where the link's publishes land; what it got, in order. */
  async observer (): Promise<Array<{ topic: string, payload: string }>> {
    const c = await mqtt.connectAsync(this.world.observerUrl, { clientId: 'case-observer', protocolVersion: 4 })
    this.#clients.push(c)
    const got: Array<{ topic: string, payload: string }> = []
    c.on('message', (topic, payload) => { got.push({ topic, payload: payload.toString() }) })
    await c.subscribeAsync('out/#', { qos: 1 })
    return got
  }

  /** The PUBLISHes of `topic` towards the acknowledging side, each with the connection it crossed on. */
  published (topic: string): RelayedPacket[] {
    const towards: Direction = this.world.ackDir === 'up' ? 'down' : 'up'
    return this.packets.filter((p) => p.type === PUBLISH && p.dir === towards && p.topic === topic)
  }

  /** The PUBACKs that answered a PUBLISH of `topic` (same connection, same packet id). */
  acked (topic: string): RelayedPacket[] {
    const pubs = this.published(topic)
    return this.packets.filter((p) => p.type === PUBACK && p.dir === this.world.ackDir && pubs.some((q) => q.conn === p.conn && q.packetId === p.packetId))
  }

  /**
   * Resolves once a sentinel the link sent now crossed the relay in the PUBACK's direction on
   * every relayed connection that carries PUBACKs (the link's own, or each sensor's).
   */
  async flushed (link: TriggerLink, connections = 1): Promise<void> {
    const topic = `probe/${++this.#sentinels}`
    link.send({ topic, payload: 'sentinel', qos: 0, retain: false })
    const sentinels = (): RelayedPacket[] => this.packets.filter((p) => p.type === PUBLISH && p.dir === this.world.ackDir && p.topic === topic)
    const crossed = (): number => new Set(sentinels().map((p) => p.conn)).size
    await until(() => crossed() >= connections, `the sentinel ${topic} crossed the relay`)
  }

  async done (): Promise<void> {
    for (const l of this.#links) await l.close().catch(() => {})
    for (const c of this.#clients) await c.endAsync(true).catch(() => {})
    await this.store?.close()
    await this.world.close()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

export const recorder = (calls: string[]): SubscribeHooks => ({
  prepare: async (sessionPresent) => { calls.push(`prepare ${String(sessionPresent)}`) },
  done: async (granted, refused) => { calls.push(`done ${granted.join(',')} ${refused?.code ?? 'ok'}`) }
})
