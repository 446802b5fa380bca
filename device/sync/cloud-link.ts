// The device's cloud link (docs/wire.md): one MQTT connection with client id = device id and a
// persistent session; a retained `online` status on connect and a retained `offline` will
// [W3]; heartbeats; and uploads of outbox records (uploader.ts), where a record leaves the
// outbox only when the cloud's down/ack for this board's own stream and batch covers it [W4].
// Reconnects back off with jitter; a cloud that is down never stops the agent, records wait in
// the outbox; a session that keeps being taken over is logged (takeover-watch.ts).
// Deployment frames [W5]-[W7] pass through here too (down-frames.ts): the only file that talks
// MQTT to the cloud.
import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import type { IClientOptions, MqttClient } from 'mqtt'
import { decodeFrame, downFilter, downTopic, encodeFrame, parseAck, upTopic } from '../../src/wire/index.js'
import type { OutboxStore } from '../store/index.js'
import { META_KEYS } from '../store/meta-keys.js'
import { ageClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import { redactUrls } from '../../src/redact.js'
import { dispatchDown } from './down-frames.js'
import type { CloudDownHandlers } from './down-frames.js'
import type { InvokeResultFrame, ReportedFrame } from '../../src/wire/index.js'
import { UploadBudget } from './upload-budget.js'
import { reconnectDelay } from './backoff.js'
import { TakeoverWatch } from './takeover-watch.js'
import { Uploader } from './uploader.js'
import type { UploadCounters } from './uploader.js'
import { endWithin } from '../links/mqtt-end.js'
import { errorMessage } from '../../src/errors.js'
import { mqttClientLog } from '../../src/mqtt/client-log.js'
import { cloudErrorLine } from './connect-refusal.js'

export { CONFLICT_MAX_BACKOFF_MS } from './uploader.js'

export interface CloudLinkOptions {
  url: string
  deviceId: string
  secret: string
  /** TLS: a CA to trust, and a client certificate with its key (PEM). */
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  rejectUnauthorized?: boolean
  /** MQTT keep-alive, s. */
  keepaliveSec?: number
  store: OutboxStore
  clock: Clock
  log: (line: string) => void
  /** What the retained `online` status says [W3]. */
  status: () => { agent: string, functions: Array<{ name: string, version: string }>, metricsSnapshotMs?: number }
  heartbeatMs: number
  /** Records per batch (capped by BATCH_LIMITS.maxRecords). */
  batchRecords: number
  /** Batches sent and not yet acknowledged at once. */
  window: number
  /** A batch not acknowledged within this is sent again (from the cloud's high-water). */
  ackTimeoutMs: number
  uploadBytesPerSec: number
  dailyUploadBytes: number
  /** Log records are not uploaded when false, or for the functions listed in logExclude. */
  uploadLogs: boolean
  logExclude: string[]
  /** Reconnect backoff bounds, ms; each wait is a random share of its step (backoff.ts). */
  reconnectMinMs: number
  reconnectMaxMs: number
  random?: () => number
  /**
   * Receivers of the deployment frames [W5]-[W7], each frame already validated; a frame that
   * breaks a rule is counted in counters.refused and dropped [W8]. Settable later with handle().
   */
  down?: CloudDownHandlers
}

export type CloudLinkState = 'connecting' | 'online' | 'offline' | 'closed'

/** What the link did since start (metrics and `lambkin status` read it). */
export interface CloudLinkCounters extends UploadCounters {
  connects: number
  /** Down frames dropped because they broke a wire rule (malformed, too large, bad field) [W8]. */
  refused: number
  /** Connections the cloud closed soon after they were made (takeover-watch.ts). */
  takeovers: number
}

const DAY_META = META_KEYS.uploadDay

/**
 * The shortest gap between heartbeats brought forward by acks, ms: while a backlog drains, the
 * cloud's view of it (`lambkin status`) is at most this old, at one small frame a second.
 */
export const BACKLOG_BEAT_MS = 1000

export class CloudLink {
  readonly counters: CloudLinkCounters = {
    batchesSent: 0,
    recordsSent: 0,
    bytesSent: 0,
    acked: 0,
    rejected: 0,
    resent: 0,
    connects: 0,
    refused: 0,
    conflicts: 0,
    foreignAcks: 0,
    recordsEmbedded: 0,
    takeovers: 0
  }

  readonly #o: CloudLinkOptions
  readonly #client: MqttClient
  readonly #budget: UploadBudget
  #state: CloudLinkState = 'connecting'
  readonly #uploader: Uploader
  readonly #takeovers = new TakeoverWatch()
  /** Sent in each `online` status: another boot's `online` on this id tells the cloud two clients share it (docs/wire.md). */
  readonly #boot = randomBytes(8).toString('hex')
  #heartbeat: unknown
  #reconnectTimer: unknown
  /**
   * Ms on the clock that never jumps, for when the last heartbeat went and the next is due, and
   * how long a connection lasted before the cloud closed it (takeovers): a wall clock stepped
   * back would otherwise put the last beat hours ahead and push the next one out by as much,
   * and count a long connection as a short one (docs/durability.md, "A clock step").
   */
  readonly #elapsed: () => number
  #lastBeatAt = -Infinity
  #nextBeatAt = Infinity
  #attempt = 0
  #lastError = ''
  #down: CloudDownHandlers

  private constructor (o: CloudLinkOptions, budget: UploadBudget) {
    this.#o = o
    this.#elapsed = ageClock(o.clock).monotonic
    this.#down = { ...o.down }
    this.#budget = budget
    const options: IClientOptions = {
      clientId: o.deviceId,
      username: o.deviceId,
      password: o.secret,
      clean: false,
      keepalive: o.keepaliveSec ?? Math.max(5, Math.ceil(o.heartbeatMs / 1000) * 2),
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      will: { topic: upTopic(o.deviceId, 'status'), payload: encodeFrame({ state: 'offline' }), qos: 1, retain: true },
      manualConnect: true,
      // As the trigger link's (device/links/mqtt-link.ts): no 8 MiB packet-id Buffer cache,
      // and MQTT.js's debug logging only when DEBUG is set.
      writeCache: false,
      log: mqttClientLog(),
      // Pings every keepalive rather than a timer reset per PUBACK (as the trigger link's).
      reschedulePings: false
    }
    this.#client = mqtt.connect(o.url, options)
    this.#uploader = new Uploader({
      ...o,
      budget,
      counters: this.counters,
      note: (line) => this.#note(line),
      canSend: () => this.#state === 'online' && this.#client.connected,
      publish: (frame) => {
        this.#client.publish(upTopic(o.deviceId, 'batch'), frame, { qos: 1 })
      }
    })
    this.#client.on('connect', () => {
      void this.#onConnect()
    })
    this.#client.on('message', (topic, payload) => {
      void this.#onMessage(topic, payload)
    })
    this.#client.on('error', (err) => this.#note(cloudErrorLine(err, o.deviceId)))
    this.#client.on('close', () => this.#onClose())
  }

  /** Starts connecting in the background and returns at once: the agent never waits for the cloud. */
  static async start (o: CloudLinkOptions): Promise<CloudLink> {
    const saved = (await o.store.getMeta(DAY_META)) as { day: string; bytes: number } | undefined
    const clocks = { now: () => o.clock.now(), elapsed: ageClock(o.clock).monotonic }
    const budget = new UploadBudget({ bytesPerSec: o.uploadBytesPerSec, dailyBytes: o.dailyUploadBytes, ...clocks, today: saved })
    const link = new CloudLink(o, budget)
    link.#client.connect()
    return link
  }

  get state (): CloudLinkState {
    return this.#state
  }

  get sentToday (): number {
    return this.#budget.sentToday
  }

  /** True while connected to the cloud broker. */
  get online (): boolean {
    return this.#state === 'online' && this.#client.connected
  }

  /** Sets (or replaces) the receivers of deployment frames [W5]-[W7]; see CloudDownHandlers. */
  handle (handlers: CloudDownHandlers): void {
    this.#down = { ...this.#down, ...handlers }
  }

  /**
   * Publishes `up/reported`, retained at QoS 1 [W5]. Returns false (and sends nothing) when
   * offline: the deployer sends it again on the next connect (handlers.connected).
   */
  sendReported (frame: ReportedFrame): boolean {
    return this.#sendUp('reported', frame as unknown as Record<string, unknown>, true)
  }

  /** Publishes `up/fetch { sha256 }` at QoS 1 [W6]; false when offline. */
  sendFetch (sha256: string): boolean {
    return this.#sendUp('fetch', { sha256 }, false)
  }

  /** Publishes `up/invoke-result` at QoS 0 [W7] (the cloud waits for it only while connected); false when offline. */
  sendInvokeResult (frame: InvokeResultFrame): boolean {
    return this.#sendUp('invoke-result', frame as unknown as Record<string, unknown>, false, 0)
  }

  #sendUp (kind: 'reported' | 'fetch' | 'invoke-result', frame: Record<string, unknown>, retain: boolean, qos: 0 | 1 = 1): boolean {
    if (!this.online) return false
    this.#client.publish(upTopic(this.#o.deviceId, kind), encodeFrame(frame), { qos, retain }, (err) => {
      if (err !== undefined && err !== null) this.#note(`cloud: ${kind} not sent: ${err.message}`)
    })
    return true
  }

  /** New records were committed: upload them when the link and the budget allow. */
  notify (): void {
    void this.#uploader.pump()
  }

  async #onConnect (): Promise<void> {
    this.#attempt = 0
    this.#lastError = ''
    this.#state = 'online'
    this.counters.connects++
    this.#takeovers.connected(this.#elapsed())
    if (!this.#takeovers.flapping(this.#elapsed())) this.#o.log(`cloud: connected to ${redactUrls(this.#o.url)} as ${this.#o.deviceId}`)
    this.#uploader.connected()
    const c = this.#client
    try {
      await c.subscribeAsync(downFilter(this.#o.deviceId), { qos: 1 })
      await c.publishAsync(
        upTopic(this.#o.deviceId, 'status'),
        encodeFrame({ state: 'online', time: this.#o.clock.now(), heartbeatMs: this.#o.heartbeatMs, ...this.#o.status(), boot: this.#boot }),
        { qos: 1, retain: true }
      )
    } catch (err) {
      this.#note(`cloud: ${errorMessage(err)}`)
      return
    }
    this.#armHeartbeat(0)
    void this.#uploader.pump()
    this.#down.connected?.()
  }

  #onClose (): void {
    if (this.#state === 'closed') return
    if (this.#state === 'online') {
      const n = this.#takeovers.closed(this.#elapsed())
      // Two boards taking each other's session would log a pair of lines every second.
      if (n === undefined && !this.#takeovers.flapping(this.#elapsed())) this.#o.log('cloud: disconnected; records wait in the outbox')
      this.counters.takeovers = this.#takeovers.count
      if (n !== undefined) {
        this.#o.log(
          `cloud: the cloud closed this board's connection ${n} times in a short while, each soon after it connected: another board is probably connecting as ${this.#o.deviceId} (a cloned card?) and each connect takes over the other's session. Give each board its own id: lambkin devices add <new-id>, then a new config`
        )
      }
    }
    this.#state = 'offline'
    this.#o.clock.clearTimeout(this.#heartbeat)
    const wait = reconnectDelay(this.#attempt++, this.#o.reconnectMinMs, this.#o.reconnectMaxMs, this.#o.random ?? Math.random)
    this.#o.clock.clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = this.#o.clock.setTimeout(() => {
      if (this.#state !== 'closed') {
        this.#state = 'connecting'
        this.#client.reconnect()
      }
    }, wait)
  }

  async #onMessage (topic: string, payload: Buffer): Promise<void> {
    if (topic !== downTopic(this.#o.deviceId, 'ack')) {
      this.#onDeployFrame(topic, payload)
      return
    }
    let ack
    try {
      ack = parseAck(decodeFrame(payload, 4096))
    } catch (err) {
      this.#note(`cloud: ignored a malformed ack: ${errorMessage(err)} [W8]`)
      return
    }
    await this.#uploader.onAck(ack)
    // The backlog moved: the operator's view follows it within a second, not at the next heartbeat.
    this.#beatSoon()
  }

  /** Hands a desired / bundle / invoke frame to its handler; a frame breaking a rule is counted and dropped [W8]. */
  #onDeployFrame (topic: string, payload: Buffer): void {
    const problem = dispatchDown(topic, payload, this.#o.deviceId, this.#down)
    if (problem === undefined) return
    if (problem.refused) this.counters.refused++
    this.#note(`cloud: ${problem.message}`)
  }

  #armHeartbeat (ms: number): void {
    this.#o.clock.clearTimeout(this.#heartbeat)
    this.#nextBeatAt = this.#elapsed() + ms
    this.#heartbeat = this.#o.clock.setTimeout(async () => {
      if (this.#state !== 'online') return
      this.#lastBeatAt = this.#elapsed()
      this.#nextBeatAt = Infinity
      await this.#sendHeartbeat()
      this.#armHeartbeat(this.#o.heartbeatMs)
    }, ms)
  }

  /**
   * `up/heartbeat` with the outbox's backlog now (sent on connect, every heartbeatMs, soon after
   * acks move the backlog, and before a clean stop's offline status).
   */
  async #sendHeartbeat (): Promise<void> {
    try {
      const s = await this.#o.store.stats()
      // A faulted store is shown to the operator (lambkin status) until it has reopened.
      const storeFault = s.fault === undefined ? {} : { storeFault: { since: s.fault.since, message: s.fault.message } }
      this.#client.publish(
        upTopic(this.#o.deviceId, 'heartbeat'),
        encodeFrame({
          time: this.#o.clock.now(),
          backlog: { records: s.count, bytes: s.bytes },
          uploadedToday: this.#budget.sentToday,
          lastSeq: s.lastSeq,
          ...storeFault
        }),
        { qos: 0 }
      )
    } catch (err) {
      this.#note(`cloud: heartbeat not sent: ${errorMessage(err)}`)
    }
  }

  /** Brings the next heartbeat forward to at most BACKLOG_BEAT_MS after the last one. */
  #beatSoon (): void {
    if (this.#state !== 'online') return
    const now = this.#elapsed()
    const at = Math.max(now, this.#lastBeatAt + BACKLOG_BEAT_MS)
    if (at < this.#nextBeatAt) this.#armHeartbeat(at - now)
  }

  /** Logs a line once per distinct message, so a cloud that stays down does not flood the log. */
  #note (line: string): void {
    if (line === this.#lastError) return
    this.#lastError = line
    this.#o.log(line)
  }

  /**
   * When connected: uploads what the outbox still holds (the agent's last metric snapshot
   * among it) for up to `drainMs`, says `offline` (retained), then closes, each step bounded.
   * Safe to call twice.
   */
  async close (drainMs = 2000): Promise<void> {
    if (this.#state === 'closed') return
    if (this.#state === 'online' && this.#client.connected) {
      const end = Date.now() + drainMs
      void this.#uploader.pump()
      while (Date.now() < end && this.#state === 'online') {
        const left = await this.#o.store.stats().then(
          (s) => s.count,
          () => 0
        )
        if (left === 0) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    const wasOnline = this.#state === 'online' && this.#client.connected
    this.#state = 'closed'
    for (const t of [this.#heartbeat, this.#reconnectTimer]) this.#o.clock.clearTimeout(t)
    await this.#uploader.close()
    if (wasOnline) {
      // The backlog the operator sees while this board is away is the one it left with.
      await this.#sendHeartbeat()
      const said = this.#client.publishAsync(upTopic(this.#o.deviceId, 'status'), encodeFrame({ state: 'offline', time: this.#o.clock.now() }), {
        qos: 1,
        retain: true
      })
      await Promise.race([said.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())])
      await endWithin(this.#client, 2000)
    } else {
      await this.#client.endAsync(true)
    }
  }
}
