// Which `down/ack` a board may act on [W4]. Two boards on one id share the topic (and, with one
// persistent session, each other's queued acks), so a board deletes records only on an ack for
// its own stream and for a batch it has in flight, never past that batch's last seq, and never
// past a batch of its own that the cloud has not taken (a refused one, a conflict). So nothing
// either board holds is acked away by an ack meant for the other.
import { randomBytes } from 'node:crypto'
import type { AckFrame } from '../../src/wire/index.js'

/** A batch sent and not yet settled: the seqs it covers, when it left, and what its ack said. */
export interface SentBatch {
  batchId: number
  from: number
  through: number
  at: number
  /** Set by a positive ack: the highest seq of this batch the cloud has (its high-water, capped). */
  upTo?: number
}

export type AckVerdict =
  /** Records up to `acked` may be deleted (it moved); the batches it settled are gone from flight. */
  | { kind: 'advanced', acked: number }
  /** Ours and positive, but nothing more may be deleted yet (an earlier batch is unsettled). */
  | { kind: 'held' }
  /** One of ours (or one the cloud could not read) was refused: resend from acked + 1. */
  | { kind: 'rejected', reason: string }
  /**
   * Not acted on: another stream's or another board's batch (`stream`, `batch`), a late ack of a
   * batch of this board's from an earlier flight (`stale`), or a cloud that knows no streams.
   */
  | { kind: 'foreign', why: 'stream' | 'batch' | 'stale' | 'old-cloud' }

/** Recent batch ids remembered to tell a late ack of ours from another board's (for the log only). */
const RECENT_IDS = 256

/** A batch id: 48 random bits, a safe integer, so two boards never pick the same one in practice. */
export function newBatchId (): number {
  return randomBytes(6).readUIntBE(0, 6)
}

export class AckBook {
  readonly #stream: string | undefined
  readonly #newId: () => number
  /** Batches in flight, in send order. */
  #inflight: SentBatch[] = []
  readonly #recent = new Set<number>()
  /** Every seq at or below this is stored in the cloud from this board's batches (deleted here). */
  acked = 0

  constructor (stream: string | undefined, newId: () => number = newBatchId) {
    this.#stream = stream
    this.#newId = newId
  }

  get inflight (): readonly SentBatch[] { return this.#inflight }

  /** An id for the next batch's frame. */
  nextId (): number {
    return this.#newId()
  }

  /** Records a batch leaving. */
  sent (batchId: number, from: number, through: number, at: number): void {
    this.#inflight.push({ batchId, from, through, at })
    this.#recent.add(batchId)
    if (this.#recent.size > RECENT_IDS) this.#recent.delete(this.#recent.values().next().value as number)
  }

  /** Forgets what is in flight (a reconnect, a timeout, a refusal): sending starts again at acked + 1. */
  restart (): void {
    this.#inflight = []
  }

  /** What an ack means for this board. Changes nothing for a foreign one. */
  judge (ack: AckFrame): AckVerdict {
    if (ack.stream !== this.#stream) {
      // An older cloud answers without stream and batch id: it keys by seq only, so a new
      // stream's seqs could be taken there for an old stream's. Nothing is deleted on its word.
      return { kind: 'foreign', why: ack.stream === undefined && ack.batchId === undefined ? 'old-cloud' : 'stream' }
    }
    if (ack.batchId === undefined) {
      if (ack.rejected !== undefined) return { kind: 'rejected', reason: ack.rejected }
      // The legacy stream and an older cloud: its ack covers what was sent, never more.
      const last = this.#inflight[this.#inflight.length - 1]
      if (last === undefined) return { kind: 'foreign', why: 'batch' }
      for (const b of this.#inflight) b.upTo = Math.min(ack.seq, b.through)
      return this.#settle()
    }
    const b = this.#inflight.find((x) => x.batchId === ack.batchId)
    if (b === undefined) return { kind: 'foreign', why: this.#recent.has(ack.batchId) ? 'stale' : 'batch' }
    if (ack.rejected !== undefined) return { kind: 'rejected', reason: ack.rejected }
    b.upTo = Math.min(ack.seq, b.through)
    return this.#settle()
  }

  /** Moves `acked` over the settled batches at the head of the flight. */
  #settle (): AckVerdict {
    const before = this.acked
    while (this.#inflight.length > 0) {
      const head = this.#inflight[0]
      if (head.upTo === undefined) break
      this.acked = Math.max(this.acked, head.upTo)
      // Partly taken (the cloud still lacks some of it): it stays until resent.
      if (head.upTo < head.through) break
      this.#inflight.shift()
    }
    return this.acked > before ? { kind: 'advanced', acked: this.acked } : { kind: 'held' }
  }
}
