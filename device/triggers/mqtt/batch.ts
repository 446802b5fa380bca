// One batched MQTT trigger's records: kept in the store's meta before their messages are
// acknowledged, handed to the function by count (`batch.size`), by time (`batch.windowMs`) and
// by bytes (a batch's event stays under the sandbox's event cap, so a batch of records that
// each fit never becomes an event that cannot run).
import type { Clock } from '../../../src/clock.js'
import type { MetaWrite, OutboxStore } from '../../store/index.js'
import { deeper } from '../../links/hops.js'
import type { Hop } from '../../links/hops.js'
import { errorMessage } from '../../../src/errors.js'

/** One message in a batch's `records`: the payload part is `payload` or `payloadBase64`, as for a single event. */
export interface BatchRecord {
  topic: string
  payload?: unknown
  payloadBase64?: string
  qos: number
  retain?: boolean
  time: number
  responseTopic?: string
  correlationData?: string
}

export interface RecordBatchOptions {
  /** Store meta key holding the records not yet committed with a result. */
  key: string
  size: number
  windowMs: number
  /** Most bytes of records (as JSON, with their commas) in one batch's event. */
  maxBytes: number
  store: OutboxStore
  clock: Clock
  /** The function the batch is for (named in log lines). */
  fn: string
  log: (line: string) => void
  /** Runs the function on `records` and commits `meta()` with its outcome; rejects when the commit failed. */
  run: (records: BatchRecord[], meta: () => MetaWrite[], hop: Hop | undefined) => Promise<void>
}

export class RecordBatch {
  readonly #o: RecordBatchOptions
  #pending: BatchRecord[] = []
  #inflight: BatchRecord[] = []
  /** JSON bytes of each pending record, and their sum (plus one comma each). */
  readonly #sizes = new WeakMap<BatchRecord, number>()
  #pendingBytes = 0
  #timer: unknown
  #flushing: Promise<void> | undefined
  #closed = false
  /** The deepest hop [W9] among pending records; the batch runs at it. Not kept over restarts. */
  #hop: Hop | undefined

  constructor (opts: RecordBatchOptions) {
    this.#o = opts
  }

  /**
   * Adds a record whose JSON is `bytes` long; resolves once it is durable in the store's meta,
   * with `extra` meta written in the same commit (the message's processed-once mark).
   */
  async append (rec: BatchRecord, bytes: number, hop?: Hop, extra?: () => MetaWrite[]): Promise<void> {
    this.#push(rec, bytes)
    this.#hop = deeper(this.#hop, hop)
    try {
      await this.#o.store.commit({ meta: [{ key: this.#o.key, value: [...this.#inflight, ...this.#pending] }, ...(extra?.() ?? [])] })
    } catch (err) {
      // Not durable, so not acknowledged: the broker sends it again, and it must not be here twice.
      const i = this.#pending.indexOf(rec)
      if (i >= 0) {
        this.#pending.splice(i, 1)
        this.#pendingBytes -= bytes + 1
      }
      throw err
    }
    if (this.#full()) void this.#flush()
    else this.#arm()
  }

  /** Reloads records acknowledged before a restart and schedules their flush. */
  async restore (): Promise<void> {
    const saved = await this.#o.store.getMeta(this.#o.key)
    if (!Array.isArray(saved) || saved.length === 0) return
    for (const rec of saved as BatchRecord[]) this.#push(rec, Buffer.byteLength(JSON.stringify(rec)))
    if (this.#full()) void this.#flush()
    else this.#arm()
  }

  /** Stops the timer and waits for a running flush; pending records stay in the store. */
  async close (): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    if (this.#flushing !== undefined) await this.#flushing
  }

  #push (rec: BatchRecord, bytes: number): void {
    this.#pending.push(rec)
    this.#sizes.set(rec, bytes)
    this.#pendingBytes += bytes + 1
  }

  #full (): boolean {
    return this.#pending.length >= this.#o.size || this.#pendingBytes > this.#o.maxBytes
  }

  #arm (): void {
    if (this.#timer !== undefined || this.#closed) return
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined
      void this.#flush()
    }, this.#o.windowMs)
  }

  /** How many pending records the next batch takes: up to `size`, and under maxBytes (at least one). */
  #take (): number {
    let n = 0
    let bytes = 0
    while (n < this.#pending.length && n < this.#o.size) {
      const b = (this.#sizes.get(this.#pending[n]) ?? 0) + 1
      if (n > 0 && bytes + b > this.#o.maxBytes) break
      bytes += b
      n++
    }
    this.#pendingBytes -= bytes
    return n
  }

  async #flush (): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing
    if (this.#pending.length === 0 || this.#closed) return
    if (this.#timer !== undefined) { this.#o.clock.clearTimeout(this.#timer); this.#timer = undefined }
    const records = this.#pending.splice(0, this.#take())
    this.#inflight = records
    const hop = this.#hop
    this.#hop = undefined
    let failed = false
    this.#flushing = (async () => {
      // The meta write is built at commit time, so records appended meanwhile stay durable.
      try {
        await this.#o.run(records, () => [{ key: this.#o.key, value: [...this.#pending] }], hop)
      } catch (err) {
        // The commit failed, so the stored batch still holds these records: keep them first in
        // line and try again after the window (the store may work again by then).
        this.#pending.unshift(...records)
        this.#hop = deeper(this.#hop, hop)
        for (const rec of records) this.#pendingBytes += (this.#sizes.get(rec) ?? 0) + 1
        failed = true
        this.#o.log(`batch for ${this.#o.fn} not stored, retrying in ${this.#o.windowMs} ms: ${errorMessage(err)}`)
      }
      this.#inflight = []
    })()
    try {
      await this.#flushing
    } finally {
      this.#flushing = undefined
    }
    // After a failure wait for the window rather than retry at once: nothing loops hot.
    if (this.#full() && !failed) void this.#flush()
    else if (this.#pending.length > 0) this.#arm()
  }
}
