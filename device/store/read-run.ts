// The record keys a read just walked, kept so that the acknowledgement of those records takes
// them off the books without walking the same keys in LevelDB a second time (level-plan.ts
// planAck). A drain reads each record once to send it and, before this, once more to ack it.
//
// A run is what one or more consecutive reads saw: every key in seqs [from, to], each key's
// seq, kind and stored size. It stands for the store only while nothing took records off the
// books since those reads (Ledger.removals unchanged): a quota drop, a delete or a TTL purge in
// between and the ack walks the keys as before. An ack that walked its keys does not count: it
// took every key up to its seq, which no later ack asks for (Ledger.removeAcked). Records are never added inside
// a run: seqs only grow, and a run ends at the books' last seq when its read began (records
// the books counted were written), so a batch still being written cannot leave a hole in it.
import { RECORD_KINDS } from './types.js'
import type { RecordKind } from './types.js'

/**
 * Entries a run holds at most (17 bytes each): a drain needs its window's batches, a few
 * thousand. A read past it starts a new run, or none; acks outside a run walk the keys.
 */
export const READ_RUN_MAX = 1 << 15

/** Entries the arrays start with, and go back to when a run starts over much smaller. */
const START = 1024

const KIND_INDEX: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(RECORD_KINDS.map((k, i) => [k, i])))

/** What an ack takes off the books per kind, from a run. */
export interface RunTake { count: number[], bytes: number[], n: number }

export class ReadRun {
  #seqs = new Float64Array(START)
  #kinds = new Uint8Array(START)
  #bytes = new Float64Array(START)
  /** Entries [#head, #len) are live. */
  #head = 0
  #len = 0
  /** Seqs [from, to] are covered (to < from: nothing is). */
  #from = 1
  #to = 0
  /** Ledger.removals when the run's reads began. */
  #removals = -1

  /** Forgets everything (the store was reopened, a write failed). */
  clear (): void {
    this.#head = this.#len = 0
    this.#from = 1
    this.#to = 0
    this.#removals = -1
  }

  /**
   * A finished read saw every key from seq `from` on, up to its last: `seqs`, `kinds` and
   * `bytes` (in seq order), with the books at `removals` and `lastSeq` when its iterator was
   * made; keys above `lastSeq` are left out. It extends the run when it starts inside it or
   * right after it with the books unchanged, else replaces it.
   */
  record (from: number, books: { removals: number, lastSeq: number }, seqs: number[], kinds: RecordKind[], bytes: number[]): void {
    const removals = books.removals
    let n = seqs.length
    while (n > 0 && seqs[n - 1] > books.lastSeq) n--
    if (n === 0 || seqs[0] < from) return
    if (removals === this.#removals && from >= this.#from && from <= this.#to + 1 && this.#len - this.#head + n <= READ_RUN_MAX) {
      // Entries at or above `from` were read again: the new read's stand.
      while (this.#len > this.#head && this.#seqs[this.#len - 1] >= from) this.#len--
    } else {
      this.#head = this.#len = 0
      this.#from = from
      this.#removals = removals
      if (n > READ_RUN_MAX) { this.clear(); return }
      // One large read (an operator paging through the outbox) does not keep its arrays.
      if (this.#seqs.length > START * 4 && n <= START) {
        ;[this.#seqs, this.#kinds, this.#bytes] = [new Float64Array(START), new Uint8Array(START), new Float64Array(START)]
      }
    }
    if (this.#len + n > this.#seqs.length) this.#grow(n)
    let last = from - 1
    for (let i = 0; i < n; i++) {
      if (seqs[i] <= last) { this.clear(); return }
      last = seqs[i]
      this.#seqs[this.#len] = last
      this.#kinds[this.#len] = KIND_INDEX[kinds[i]]
      this.#bytes[this.#len] = bytes[i]
      this.#len++
    }
    this.#to = last
  }

  /**
   * What the keys of seqs [from, to] come to per kind (index in RECORD_KINDS), and drops them
   * from the run; undefined (nothing changed) unless the run covers [from, to] and the books are
   * still at `removals`.
   */
  take (from: number, to: number, removals: number): RunTake | undefined {
    if (removals !== this.#removals || from < this.#from || to > this.#to || to < from) return undefined
    const count = RECORD_KINDS.map(() => 0)
    const bytes = RECORD_KINDS.map(() => 0)
    let i = this.#head
    while (i < this.#len && this.#seqs[i] < from) i++
    let n = 0
    for (; i < this.#len && this.#seqs[i] <= to; i++) {
      count[this.#kinds[i]]++
      bytes[this.#kinds[i]] += this.#bytes[i]
      n++
    }
    this.#head = i
    this.#from = to + 1
    if (this.#head === this.#len) this.#head = this.#len = 0
    return { count, bytes, n }
  }

  /** Room for `more` entries: the acked ones at the head go, and the arrays double as needed. */
  #grow (more: number): void {
    const live = this.#len - this.#head
    let cap = this.#seqs.length
    while (live + more > cap) cap *= 2
    const seqs = new Float64Array(cap)
    const kinds = new Uint8Array(cap)
    const bytes = new Float64Array(cap)
    seqs.set(this.#seqs.subarray(this.#head, this.#len))
    kinds.set(this.#kinds.subarray(this.#head, this.#len))
    bytes.set(this.#bytes.subarray(this.#head, this.#len))
    ;[this.#seqs, this.#kinds, this.#bytes] = [seqs, kinds, bytes]
    this.#head = 0
    this.#len = live
  }
}
