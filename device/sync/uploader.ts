// The cloud link's upload side [W4]: outbox records to `up/batch` frames, oldest first, within
// the window, the bandwidth and the daily budget; and `down/ack` back to deletes, only for
// this board's own stream and in-flight batches (ack-book.ts). A refused batch is sent again
// after what the cloud took from this board; a conflict waits longer each time and is logged
// once with the fix. cloud-link.ts owns the connection and hands frames both ways.
import { ErrorCodes, errorMessage } from '../../src/errors.js'
import { BATCH_LIMITS, encodeBatch } from '../../src/wire/index.js'
import type { AckFrame } from '../../src/wire/index.js'
import type { OutboxRecord, OutboxStore } from '../store/index.js'
import { META_KEYS } from '../store/meta-keys.js'
import { ageClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import { AckBook } from './ack-book.js'
import { planBatch } from './upload-plan.js'
import type { UploadBudget } from './upload-budget.js'

/** The longest wait between uploads while the cloud refuses them as a conflict, ms. */
export const CONFLICT_MAX_BACKOFF_MS = 600_000

/** What the uploader counts (part of the link's counters). */
export interface UploadCounters {
  batchesSent: number
  recordsSent: number
  bytesSent: number
  acked: number
  rejected: number
  resent: number
  /** Batches the cloud refused as a conflict: it holds other bytes under this stream's seqs [W4]. */
  conflicts: number
  /** Acks not acted on: another stream's, another board's, or an earlier flight's [W4]. */
  foreignAcks: number
  /** Records sent with their stored bytes embedded (tag 24) rather than decoded [W4]. */
  recordsEmbedded: number
}

export interface UploaderOptions {
  deviceId: string
  store: OutboxStore
  clock: Clock
  budget: UploadBudget
  counters: UploadCounters
  log: (line: string) => void
  /** Logs a line unless it is the same as the last one noted. */
  note: (line: string) => void
  /** True while the link can take a publish. */
  canSend: () => boolean
  /** Publishes one `up/batch` frame at QoS 1. */
  publish: (frame: Buffer) => void
  batchRecords: number
  window: number
  ackTimeoutMs: number
  uploadLogs: boolean
  logExclude: string[]
  reconnectMinMs: number
  reconnectMaxMs: number
}

const DAY_META = META_KEYS.uploadDay

/** Batches the cloud link keeps sent and not yet acknowledged at once (its window; link-settings.ts passes it). */
export const UPLOAD_WINDOW = 2

/**
 * A batch short of the batch size leaves at most this long after the previous batch, ms. Each
 * batch costs the store's write lane an fsync (only synced records leave) and, on its ack, a
 * delete of its range, and the agent's commits queue behind both: at a batch per ack round
 * trip (30-40 a second under a steady load) uploads held the lane most of the time and the
 * trigger's replies waited (docs/performance.md, "The relay job"). A full batch, or the first
 * after a quiet spell, leaves at once; the store's own sync interval is of the same order.
 */
export const UPLOAD_LINGER_MS = 200

export class Uploader {
  readonly #o: UploaderOptions
  /**
   * Ms on the clock that never jumps: ack timeouts and holds are intervals, which a wall clock
   * stepped back must not stretch by hours (docs/durability.md, "A clock step").
   */
  readonly #elapsed: () => number
  /** Batches in flight and how far the cloud has this board's records [W4]. */
  readonly #book: AckBook
  /** The last seq sent (records or gaps) on this connection. */
  #sentThrough = 0
  /** No batch leaves before this (a refusal's backoff). */
  #holdUntil = 0
  /** Conflicts in a row: the backoff doubles with each, and only the first is logged. */
  #conflictRun = 0
  /** When the last batch left (this.#elapsed()), for UPLOAD_LINGER_MS. */
  #lastSentAt = -Infinity
  #batchRecords: number
  #pumping = false
  #again = false
  #timer: unknown
  #closed = false
  #dailySavedAt = -Infinity
  #dailySaving = false
  /**
   * Records go with their stored bytes embedded (tag 24) once an ack on this connection said
   * the cloud takes them, until a batch of them is refused as `data-tag` (an older cloud
   * instance behind the same broker): then decoded records until the next connection [W4].
   */
  #embed = false
  #embedRefused = false

  constructor (o: UploaderOptions) {
    this.#o = o
    this.#elapsed = ageClock(o.clock).monotonic
    this.#book = new AckBook(o.store.streamId)
    this.#batchRecords = Math.min(o.batchRecords, BATCH_LIMITS.maxRecords)
  }

  /** A new connection: whatever was in flight is sent again after what the cloud took. */
  connected (): void {
    this.#embed = false
    this.#embedRefused = false
    this.#book.restart()
    this.#sentThrough = this.#book.acked
  }

  /** Uploads what fits now; safe to call at any time (new records, a timer, an ack). */
  async pump (): Promise<void> {
    if (this.#closed) return
    if (this.#pumping) { this.#again = true; return }
    this.#pumping = true
    try {
      do {
        this.#again = false
        await this.#sendWhatFits()
      } while (this.#again)
    } catch (err) {
      this.#o.note(`cloud: upload paused: ${errorMessage(err)}`)
      this.#arm(this.#o.reconnectMinMs)
    } finally {
      this.#pumping = false
    }
  }

  /** Acts on a `down/ack`: deletes what it covers of this board's own batches, or sends again. */
  async onAck (ack: AckFrame): Promise<void> {
    if (ack.embedded === true && !this.#embedRefused) this.#embed = true
    const verdict = this.#book.judge(ack)
    if (verdict.kind === 'foreign') {
      this.#o.counters.foreignAcks++
      if (verdict.why === 'stream') this.#o.note(`cloud: ignored an ack for another outbox stream (${ack.stream ?? 'legacy'}); if another board uses the id ${this.#o.deviceId}, give each board its own id [W4]`)
      if (verdict.why === 'old-cloud') this.#o.note('cloud: the cloud answers without outbox streams (an older lambkin cloud?); nothing is deleted on its acks, records wait in the outbox until it is upgraded [W4]')
      return
    }
    if (verdict.kind === 'rejected') {
      this.#refused(ack.seq, verdict.reason)
      return
    }
    if (this.#conflictRun > 0) this.#o.log('cloud: the cloud takes this board\'s records again; the conflict is over')
    this.#conflictRun = 0
    // The next batch is read while the acknowledged ones are deleted: it lies above them, and
    // the window the ack freed is the drain's pace.
    void this.pump()
    if (verdict.kind === 'advanced') {
      this.#o.counters.acked = verdict.acked
      try {
        await this.#o.store.ackThrough(verdict.acked)
      } catch (err) {
        this.#o.note(`cloud: acknowledged records could not be removed from the outbox: ${errorMessage(err)}`)
      }
    }
  }

  /** Stops the timers and keeps today's upload count. */
  async close (): Promise<void> {
    this.#closed = true
    this.#o.clock.clearTimeout(this.#timer)
    await this.#o.store.commit({ meta: [{ key: DAY_META, value: { day: this.#o.budget.day, bytes: this.#o.budget.sentToday } }] }).catch(() => {})
  }

  /**
   * A batch of this board's was refused. Nothing is deleted, and sending starts again after
   * what the cloud took from this board, never from the cloud's high-water, which may hold
   * another board's records [W4]. A conflict waits longer each time and is logged once.
   */
  #refused (cloudSeq: number, reason: string): void {
    const c = this.#o.counters
    c.rejected++
    if (reason === 'too-large') this.#batchRecords = Math.max(1, Math.floor(this.#batchRecords / 2))
    if (reason === 'data-tag' && this.#embed) {
      this.#embed = false
      this.#embedRefused = true
      this.#o.log('cloud: the cloud refused records sent as embedded CBOR (tag 24; an older cloud instance?); sending them decoded until the next connection [W4]')
    }
    if (reason !== 'conflict') {
      this.#o.log(`cloud: the cloud refused a batch (${reason}); sending again from seq ${this.#book.acked + 1}`)
      this.#resend(Math.min(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** Math.min(c.rejected, 10)))
      return
    }
    c.conflicts++
    const wait = Math.min(CONFLICT_MAX_BACKOFF_MS, Math.max(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** Math.min(this.#conflictRun, 20)))
    if (this.#conflictRun++ === 0) {
      this.#o.log(`cloud: ${ErrorCodes.STREAM_CONFLICT}: the cloud holds other records under this device id and outbox stream ${this.#o.store.streamId ?? 'legacy'} (in seqs ${this.#book.acked + 1} to ${this.#sentThrough}; the cloud has up to ${cloudSeq}): another board is using the id ${this.#o.deviceId} (a cloned card?). Nothing is deleted here; records wait in the outbox and uploads are tried again, up to every ${Math.round(CONFLICT_MAX_BACKOFF_MS / 60_000)} min. Give this board its own id: lambkin devices add <new-id> on the cloud, then a new config [W4]`)
    }
    this.#resend(wait)
  }

  /** Goes back to sending after what the cloud took from this board, in `delayMs`. */
  #resend (delayMs: number): void {
    this.#o.counters.resent++
    this.#book.restart()
    this.#sentThrough = this.#book.acked
    this.#holdUntil = this.#elapsed() + delayMs
    this.#arm(delayMs)
  }

  async #sendWhatFits (): Promise<void> {
    const now = this.#elapsed()
    if (now < this.#holdUntil) { this.#arm(this.#holdUntil - now); return }
    const oldest = this.#book.inflight[0]
    if (oldest !== undefined && now - oldest.at > this.#o.ackTimeoutMs) {
      this.#o.log(`cloud: no ack for ${this.#o.ackTimeoutMs} ms; sending again from seq ${this.#book.acked + 1}`)
      this.#resend(0)
    }
    const c = this.#o.counters
    while (this.#o.canSend() && this.#book.inflight.length < this.#o.window) {
      if (await this.#lingering(now)) return
      const range = { afterSeq: this.#sentThrough, limit: this.#batchRecords }
      const embed = this.#embed
      const records = embed ? await this.#o.store.readEncoded(range) : await this.#o.store.read(range)
      const from = this.#sentThrough + 1
      const planOf = (maxRecords: number): ReturnType<typeof planBatch> =>
        planBatch(records, { from, maxRecords, maxBytes: BATCH_LIMITS.maxBytes / 2, exclude: this.#excluded })
      let plan = planOf(this.#batchRecords)
      let through = plan.through
      if (through === undefined) { this.#arm(1000); return }
      // Only what is on the disk leaves: a power cut must not take back seqs the cloud holds,
      // or the board would hand them out again with other records (a conflict) [W4].
      if (through > (await this.#o.store.stats()).syncedSeq) await this.#o.store.flush()
      const stream = this.#o.store.streamId
      const batchId = this.#book.nextId()
      const frameOf = (p: typeof plan): Buffer => encodeBatch({ stream, batchId, records: p.records, gaps: p.gaps })
      let frame = frameOf(plan)
      // Cut to what today's cap still takes: a backlog larger than a whole day's cap would
      // otherwise wait for a day that takes all of it, which never comes.
      const room = this.#o.budget.dailyRoom()
      const over = (bytes: number): boolean => room > 0 && bytes > room
      for (let max = Math.floor(plan.records.length / 2); max >= 1 && over(frame.byteLength); max = Math.floor(max / 2)) {
        plan = planOf(max)
        frame = frameOf(plan)
        // A plan of fewer records from the same seq covers at least its first one.
        through = plan.through ?? through
      }
      const wait = this.#o.budget.waitMs(frame.byteLength)
      if (wait > 0) { this.#arm(Math.min(wait, 60_000)); return }
      this.#o.budget.spend(frame.byteLength)
      this.#book.sent(batchId, this.#sentThrough + 1, through, now)
      this.#sentThrough = through
      this.#lastSentAt = now
      c.batchesSent++
      c.recordsSent += plan.records.length
      if (embed) c.recordsEmbedded += plan.records.length
      c.bytesSent += frame.byteLength
      this.#o.publish(frame)
      this.#saveDay(now)
    }
    if (this.#book.inflight.length > 0) this.#arm(this.#o.ackTimeoutMs)
  }

  /**
   * True, with the timer armed for the rest of the wait, while a batch would leave short of the
   * batch size within UPLOAD_LINGER_MS of the previous one (a backlog of a full batch or more
   * leaves at once).
   */
  async #lingering (now: number): Promise<boolean> {
    const left = this.#lastSentAt + UPLOAD_LINGER_MS - now
    if (left <= 0) return false
    if ((await this.#o.store.stats()).lastSeq - this.#sentThrough >= this.#batchRecords) return false
    this.#arm(left)
    return true
  }

  /**
   * Keeps today's upload count in the store, at most once a second and off the send path, so a
   * restart does not reset a metered link's daily cap (a crash may forget the last second).
   */
  #saveDay (now: number): void {
    if (this.#dailySaving || now - this.#dailySavedAt < 1000) return
    this.#dailySaving = true
    this.#dailySavedAt = now
    this.#o.store.commit({ meta: [{ key: DAY_META, value: { day: this.#o.budget.day, bytes: this.#o.budget.sentToday } }] })
      .catch((err: Error) => this.#o.note(`cloud: upload count not stored: ${err.message}`))
      .finally(() => { this.#dailySaving = false })
  }

  readonly #excluded = (r: Pick<OutboxRecord, 'kind' | 'fn'>): boolean =>
    r.kind === 'log' && (!this.#o.uploadLogs || (r.fn !== undefined && this.#o.logExclude.includes(r.fn)))

  #arm (ms: number): void {
    if (this.#closed) return
    this.#o.clock.clearTimeout(this.#timer)
    this.#timer = this.#o.clock.setTimeout(() => { this.#timer = undefined; void this.pump() }, ms)
  }
}
