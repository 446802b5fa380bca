// Packs a run of RawOutcomes into one message and unpacks it: numbers in one Float64Array and
// envelopes in a string array, because structured-cloning an object per call cost the worker
// about as much as the postMessage itself (0.5 us a result, against 0.27 us packed). The
// worker writes each result straight into the columns, with no object per call.
import type { RawFailure } from './classify.js'
import type { RawOutcome } from './protocol.js'

/** Numbers per result: id, polls, memoryBytes, memoryLimitBytes, durationMs, flags. */
const STRIDE = 6
const COLD_START = 1
const PLAIN = 2

export interface PackedResults {
  nums: Float64Array
  envelopes: Array<string | undefined>
  /** [index, failure] for the results that have one; most have none. */
  failures: Array<[number, RawFailure]>
}

export class ResultBatch {
  /** The numbers of the results so far, written in place: grown by doubling, copied out by take(). */
  #nums = new Float64Array(256 * STRIDE)
  #envelopes: Array<string | undefined> = []
  #failures: Array<[number, RawFailure]> = []

  get length (): number {
    return this.#envelopes.length
  }

  /** `plain`: `envelope` is only the result's JSON (see output-check.ts plainResult). */
  add (
    id: number,
    envelope: string | undefined,
    plain: boolean,
    failure: RawFailure | undefined,
    polls: number,
    memoryBytes: number,
    memoryLimitBytes: number,
    durationMs: number,
    coldStart: boolean
  ): void {
    const i = this.#envelopes.length
    if (failure !== undefined) this.#failures.push([i, failure])
    this.#envelopes.push(envelope)
    let n = this.#nums
    const o = i * STRIDE
    if (o + STRIDE > n.length) {
      n = new Float64Array(n.length * 2)
      n.set(this.#nums)
      this.#nums = n
    }
    n[o] = id
    n[o + 1] = polls
    n[o + 2] = memoryBytes
    n[o + 3] = memoryLimitBytes
    n[o + 4] = durationMs
    n[o + 5] = (coldStart ? COLD_START : 0) | (plain ? PLAIN : 0)
  }

  /**
   * The packed batch, leaving this one empty. Its numbers are an exact-size copy: a message
   * carries a typed array's whole buffer, not only the part in view.
   */
  take (): PackedResults {
    const out = { nums: this.#nums.slice(0, this.#envelopes.length * STRIDE), envelopes: this.#envelopes, failures: this.#failures }
    this.#envelopes = []
    this.#failures = []
    return out
  }
}

/**
 * Calls `each` with every RawOutcome of a packed batch, in order. The object handed over is
 * the same one each time, refilled: `each` reads it and must not keep it.
 */
export function unpackResults (p: PackedResults, each: (r: RawOutcome) => void): void {
  const failed = p.failures.length === 0 ? undefined : new Map(p.failures)
  const r: RawOutcome = {
    id: 0,
    envelope: undefined,
    plain: false,
    failure: undefined,
    polls: 0,
    memoryBytes: 0,
    memoryLimitBytes: 0,
    durationMs: 0,
    coldStart: false
  }
  const n = p.nums
  for (let i = 0; i < p.envelopes.length; i++) {
    const o = i * STRIDE
    const flags = n[o + 5]
    r.id = n[o]
    r.envelope = p.envelopes[i]
    r.plain = (flags & PLAIN) !== 0
    r.failure = failed?.get(i)
    r.polls = n[o + 1]
    r.memoryBytes = n[o + 2]
    r.memoryLimitBytes = n[o + 3]
    r.durationMs = n[o + 4]
    r.coldStart = (flags & COLD_START) !== 0
    each(r)
  }
}
