// The device's cloud link (docs/wire.md): one MQTT connection with client id = device id and a
// persistent session; a retained `online` status on connect and a retained `offline` will
// [W3]; heartbeats; and uploads of outbox records in CBOR batches, oldest first, where a
// record leaves the outbox only when the cloud's down/ack for this board's own stream and batch
// covers it (ack-book.ts) [W4]. Reconnects back off with jitter; a cloud that is down never
// stops the agent, records wait in the outbox.
// Deployment frames [W5]-[W7] pass through here too (down-frames.ts): the only file that talks
// MQTT to the cloud.
import mqtt from 'mqtt'
import type { IClientOptions, MqttClient } from 'mqtt'
import { ErrorCodes } from '../../src/errors.js'
import { BATCH_LIMITS, decodeFrame, downFilter, downTopic, encodeFrame, parseAck, upTopic } from '../../src/wire/index.js'
import type { OutboxRecord, OutboxStore } from '../store/index.js'
import { META_KEYS } from '../store/meta-keys.js'
import type { Clock } from '../triggers/index.js'
import { redactUrls } from '../../src/redact.js'
import { planBatch } from './upload-plan.js'
import { dispatchDown } from './down-frames.js'
import type { CloudDownHandlers } from './down-frames.js'
import type { InvokeResultFrame, ReportedFrame } from '../../src/wire/index.js'
import { UploadBudget } from './upload-budget.js'
import { AckBook } from './ack-book.js'
import { TakeoverWatch } from './takeover-watch.js'

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
  status: () => { agent: string, functions: Array<{ name: string, version: string }> }
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
  /** Reconnect backoff bounds, ms; each wait is jittered to 50-100% of its step. */
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
export interface CloudLinkCounters {
  batchesSent: number
  recordsSent: number
  bytesSent: number
  acked: number
  rejected: number
  resent: number
  connects: number
  /** Down frames dropped because they broke a wire rule (malformed, too large, bad field) [W8]. */
  refused: number
  /** Batches the cloud refused as a conflict: it holds other bytes under this stream's seqs [W4]. */
  conflicts: number
  /** Acks not acted on: another stream's, another board's, or an earlier flight's [W4]. */
  foreignAcks: number
  /** Connections the cloud closed soon after they were made (takeover-watch.ts). */
  takeovers: number
}

const DAY_META = META_KEYS.uploadDay
/** The longest wait between uploads while the cloud refuses them as a conflict, ms. */
export const CONFLICT_MAX_BACKOFF_MS = 600_000

export class CloudLink {
  readonly counters: CloudLinkCounters = { batchesSent: 0, recordsSent: 0, bytesSent: 0, acked: 0, rejected: 0, resent: 0, connects: 0, refused: 0, conflicts: 0, foreignAcks: 0, takeovers: 0 }
  readonly #o: CloudLinkOptions
  readonly #client: MqttClient
  readonly #budget: UploadBudget
  #state: CloudLinkState = 'connecting'
  /** Batches in flight and how far the cloud has this board's records [W4]. */
  readonly #book: AckBook
  readonly #takeovers = new TakeoverWatch()
  /** The last seq sent (records or gaps) on this connection. */
  #sentThrough = 0
  /** No batch leaves before this (a refusal's backoff). */
  #holdUntil = 0
  /** Conflicts in a row: the backoff doubles with each, and only the first is logged. */
  #conflictRun = 0
  #pumping = false
  #again = false
  #timer: unknown
  #heartbeat: unknown
  #reconnectTimer: unknown
  #attempt = 0
  #batchRecords: number
  #lastError = ''
  #dailySavedAt = -Infinity
  #dailySaving = false
  #down: CloudDownHandlers

  private constructor (o: CloudLinkOptions, budget: UploadBudget) {
    this.#o = o
    this.#book = new AckBook(o.store.streamId)
    this.#down = { ...o.down }
    this.#budget = budget
    this.#batchRecords = Math.min(o.batchRecords, BATCH_LIMITS.maxRecords)
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
      // As the trigger link's (device/links/mqtt-link.ts): no 8 MiB packet-id Buffer cache.
      writeCache: false
    }
    this.#client = mqtt.connect(o.url, options)
    this.#client.on('connect', () => { void this.#onConnect() })
    this.#client.on('message', (topic, payload) => { void this.#onMessage(topic, payload) })
    this.#client.on('error', (err) => this.#note(`cloud: ${err.message}`))
    this.#client.on('close', () => this.#onClose())
  }

  /** Starts connecting in the background and returns at once: the agent never waits for the cloud. */
  static async start (o: CloudLinkOptions): Promise<CloudLink> {
    const saved = await o.store.getMeta(DAY_META) as { day: string, bytes: number } | undefined
    const budget = new UploadBudget({ bytesPerSec: o.uploadBytesPerSec, dailyBytes: o.dailyUploadBytes, now: () => o.clock.now(), today: saved })
    const link = new CloudLink(o, budget)
    link.#client.connect()
    return link
  }

  get state (): CloudLinkState { return this.#state }
  get sentToday (): number { return this.#budget.sentToday }

  /** True while connected to the cloud broker. */
  get online (): boolean { return this.#state === 'online' && this.#client.connected }

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
    void this.#pump()
  }

  async #onConnect (): Promise<void> {
    this.#attempt = 0
    this.#lastError = ''
    this.#state = 'online'
    this.counters.connects++
    this.#takeovers.connected(this.#o.clock.now())
    if (!this.#takeovers.flapping(this.#o.clock.now())) this.#o.log(`cloud: connected to ${redactUrls(this.#o.url)} as ${this.#o.deviceId}`)
    // Whatever was in flight on the last connection is sent again after what the cloud took.
    this.#book.restart()
    this.#sentThrough = this.#book.acked
    const c = this.#client
    try {
      await c.subscribeAsync(downFilter(this.#o.deviceId), { qos: 1 })
      await c.publishAsync(upTopic(this.#o.deviceId, 'status'), encodeFrame({ state: 'online', time: this.#o.clock.now(), heartbeatMs: this.#o.heartbeatMs, ...this.#o.status() }), { qos: 1, retain: true })
    } catch (err) {
      this.#note(`cloud: ${(err as Error).message}`)
      return
    }
    this.#armHeartbeat(0)
    void this.#pump()
    this.#down.connected?.()
  }

  #onClose (): void {
    if (this.#state === 'closed') return
    if (this.#state === 'online') {
      const n = this.#takeovers.closed(this.#o.clock.now())
      // Two boards taking each other's session would log a pair of lines every second.
      if (n === undefined && !this.#takeovers.flapping(this.#o.clock.now())) this.#o.log('cloud: disconnected; records wait in the outbox')
      this.counters.takeovers = this.#takeovers.count
      if (n !== undefined) this.#o.log(`cloud: the cloud closed this board's connection ${n} times in a short while, each soon after it connected: another board is probably connecting as ${this.#o.deviceId} (a cloned card?) and each connect takes over the other's session. Give each board its own id: lambkin devices add <new-id>, then a new config`)
    }
    this.#state = 'offline'
    this.#o.clock.clearTimeout(this.#heartbeat)
    const step = Math.min(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** Math.min(this.#attempt++, 20))
    const wait = step * (0.5 + 0.5 * (this.#o.random ?? Math.random)())
    this.#o.clock.clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = this.#o.clock.setTimeout(() => { if (this.#state !== 'closed') { this.#state = 'connecting'; this.#client.reconnect() } }, wait)
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
      this.#note(`cloud: ignored a malformed ack: ${(err as Error).message} [W8]`)
      return
    }
    const verdict = this.#book.judge(ack)
    if (verdict.kind === 'foreign') {
      this.counters.foreignAcks++
      if (verdict.why === 'stream') this.#note(`cloud: ignored an ack for another outbox stream (${ack.stream ?? 'legacy'}); if another board uses the id ${this.#o.deviceId}, give each board its own id [W4]`)
      if (verdict.why === 'old-cloud') this.#note('cloud: the cloud answers without outbox streams (an older lambkin cloud?); nothing is deleted on its acks, records wait in the outbox until it is upgraded [W4]')
      return
    }
    if (verdict.kind === 'rejected') {
      this.#refused(ack.seq, verdict.reason)
      return
    }
    if (this.#conflictRun > 0) this.#o.log('cloud: the cloud takes this board\'s records again; the conflict is over')
    this.#conflictRun = 0
    if (verdict.kind === 'advanced') {
      this.counters.acked = verdict.acked
      try {
        await this.#o.store.ackThrough(verdict.acked)
      } catch (err) {
        this.#note(`cloud: acknowledged records could not be removed from the outbox: ${(err as Error).message}`)
      }
    }
    void this.#pump()
  }

  /**
   * A batch of this board's was refused. Nothing is deleted, and sending starts again after
   * what the cloud took from this board, never from the cloud's high-water, which may hold
   * another board's records [W4]. A conflict waits longer each time and is logged once.
   */
  #refused (cloudSeq: number, reason: string): void {
    this.counters.rejected++
    if (reason === 'too-large') this.#batchRecords = Math.max(1, Math.floor(this.#batchRecords / 2))
    if (reason !== 'conflict') {
      this.#o.log(`cloud: the cloud refused a batch (${reason}); sending again from seq ${this.#book.acked + 1}`)
      this.#resend(Math.min(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** Math.min(this.counters.rejected, 10)))
      return
    }
    this.counters.conflicts++
    const wait = Math.min(CONFLICT_MAX_BACKOFF_MS, Math.max(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** Math.min(this.#conflictRun, 20)))
    if (this.#conflictRun++ === 0) {
      this.#o.log(`cloud: ${ErrorCodes.STREAM_CONFLICT}: the cloud holds other records under this device id and outbox stream ${this.#o.store.streamId ?? 'legacy'} (in seqs ${this.#book.acked + 1} to ${this.#sentThrough}; the cloud has up to ${cloudSeq}): another board is using the id ${this.#o.deviceId} (a cloned card?). Nothing is deleted here; records wait in the outbox and uploads are tried again, up to every ${Math.round(CONFLICT_MAX_BACKOFF_MS / 60_000)} min. Give this board its own id: lambkin devices add <new-id> on the cloud, then a new config [W4]`)
    }
    this.#resend(wait)
  }

  /** Hands a desired / bundle / invoke frame to its handler; a frame breaking a rule is counted and dropped [W8]. */
  #onDeployFrame (topic: string, payload: Buffer): void {
    const problem = dispatchDown(topic, payload, this.#o.deviceId, this.#down)
    if (problem === undefined) return
    if (problem.refused) this.counters.refused++
    this.#note(`cloud: ${problem.message}`)
  }

  /** Goes back to sending after what the cloud took from this board, in `delayMs`. */
  #resend (delayMs: number): void {
    this.counters.resent++
    this.#book.restart()
    this.#sentThrough = this.#book.acked
    this.#holdUntil = this.#o.clock.now() + delayMs
    this.#arm(delayMs)
  }

  async #pump (): Promise<void> {
    if (this.#pumping) { this.#again = true; return }
    this.#pumping = true
    try {
      do {
        this.#again = false
        await this.#sendWhatFits()
      } while (this.#again)
    } catch (err) {
      this.#note(`cloud: upload paused: ${(err as Error).message}`)
      this.#arm(this.#o.reconnectMinMs)
    } finally {
      this.#pumping = false
    }
  }

  async #sendWhatFits (): Promise<void> {
    const now = this.#o.clock.now()
    if (now < this.#holdUntil) { this.#arm(this.#holdUntil - now); return }
    const oldest = this.#book.inflight[0]
    if (oldest !== undefined && now - oldest.at > this.#o.ackTimeoutMs) {
      this.#o.log(`cloud: no ack for ${this.#o.ackTimeoutMs} ms; sending again from seq ${this.#book.acked + 1}`)
      this.#resend(0)
    }
    while (this.#state === 'online' && this.#client.connected && this.#book.inflight.length < this.#o.window) {
      const records = await this.#o.store.read({ afterSeq: this.#sentThrough, limit: this.#batchRecords })
      const plan = planBatch(records, { from: this.#sentThrough + 1, maxRecords: this.#batchRecords, maxBytes: BATCH_LIMITS.maxBytes / 2, exclude: this.#excluded })
      if (plan.through === undefined) { this.#arm(1000); return }
      // Only what is on the disk leaves: a power cut must not take back seqs the cloud holds,
      // or the board would hand them out again with other records (a conflict) [W4].
      if (plan.through > (await this.#o.store.stats()).syncedSeq) await this.#o.store.flush()
      const stream = this.#o.store.streamId
      const batchId = this.#book.nextId()
      const frame = encodeFrame({ ...(stream === undefined ? {} : { stream }), batchId, records: plan.records, gaps: plan.gaps })
      const wait = this.#budget.waitMs(frame.byteLength)
      if (wait > 0) { this.#arm(Math.min(wait, 60_000)); return }
      this.#budget.spend(frame.byteLength)
      this.#book.sent(batchId, this.#sentThrough + 1, plan.through, now)
      this.#sentThrough = plan.through
      this.counters.batchesSent++
      this.counters.recordsSent += plan.records.length
      this.counters.bytesSent += frame.byteLength
      this.#client.publish(upTopic(this.#o.deviceId, 'batch'), frame, { qos: 1 })
      this.#saveDay(now)
    }
    if (this.#book.inflight.length > 0) this.#arm(this.#o.ackTimeoutMs)
  }

  /**
   * Keeps today's upload count in the store, at most once a second and off the send path, so a
   * restart does not reset a metered link's daily cap (a crash may forget the last second).
   */
  #saveDay (now: number): void {
    if (this.#dailySaving || now - this.#dailySavedAt < 1000) return
    this.#dailySaving = true
    this.#dailySavedAt = now
    this.#o.store.commit({ meta: [{ key: DAY_META, value: { day: this.#budget.day, bytes: this.#budget.sentToday } }] })
      .catch((err: Error) => this.#note(`cloud: upload count not stored: ${err.message}`))
      .finally(() => { this.#dailySaving = false })
  }

  readonly #excluded = (r: OutboxRecord): boolean =>
    r.kind === 'log' && (!this.#o.uploadLogs || (r.fn !== undefined && this.#o.logExclude.includes(r.fn)))

  #arm (ms: number): void {
    this.#o.clock.clearTimeout(this.#timer)
    this.#timer = this.#o.clock.setTimeout(() => { this.#timer = undefined; void this.#pump() }, ms)
  }

  #armHeartbeat (ms: number): void {
    this.#o.clock.clearTimeout(this.#heartbeat)
    this.#heartbeat = this.#o.clock.setTimeout(async () => {
      if (this.#state !== 'online') return
      try {
        const s = await this.#o.store.stats()
        this.#client.publish(upTopic(this.#o.deviceId, 'heartbeat'), encodeFrame({ time: this.#o.clock.now(), backlog: { records: s.count, bytes: s.bytes }, uploadedToday: this.#budget.sentToday, lastSeq: s.lastSeq }), { qos: 0 })
      } catch (err) {
        this.#note(`cloud: heartbeat not sent: ${(err as Error).message}`)
      }
      this.#armHeartbeat(this.#o.heartbeatMs)
    }, ms)
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
      void this.#pump()
      while (Date.now() < end && this.#state === 'online') {
        const left = await this.#o.store.stats().then((s) => s.count, () => 0)
        if (left === 0) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    const wasOnline = this.#state === 'online' && this.#client.connected
    this.#state = 'closed'
    for (const t of [this.#timer, this.#heartbeat, this.#reconnectTimer]) this.#o.clock.clearTimeout(t)
    await this.#o.store.commit({ meta: [{ key: DAY_META, value: { day: this.#budget.day, bytes: this.#budget.sentToday } }] }).catch(() => {})
    if (wasOnline) {
      const said = this.#client.publishAsync(upTopic(this.#o.deviceId, 'status'), encodeFrame({ state: 'offline', time: this.#o.clock.now() }), { qos: 1, retain: true })
      await Promise.race([said.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())])
      const ended = this.#client.endAsync(false)
      const ok = await Promise.race([ended.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref())])
      if (!ok) await this.#client.endAsync(true)
    } else {
      await this.#client.endAsync(true)
    }
  }
}
