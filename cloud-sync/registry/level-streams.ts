// A device's outbox streams in the LevelDB registry [W4]: one row per (device, stream) with its
// high-water and counts, and the ranges it covers above the high-water, one key per range
// (coverage.ts), so a batch rewrites only the ranges it touched. Rows and ranges are cached
// after a successful write; a failed write forgets the device's cache, so nothing half-done is
// ever read back.
import { Coverage } from './coverage.js'
import type { Range, RangeChange } from './coverage.js'
import { KEYS, keyTail, ordKey } from './level-keys.js'
import { dec, enc } from './level-chunks.js'
import type { BatchOp, Sub } from './level-chunks.js'
import type { StreamRow } from './types.js'

export class StreamBook {
  readonly #rows: Sub
  readonly #ranges: Sub
  readonly #cache = new Map<string, StreamRow>()
  readonly #coverage = new Map<string, Coverage>()

  constructor (rows: Sub, ranges: Sub) {
    this.#rows = rows
    this.#ranges = ranges
  }

  /** A copy of the stream's row, or undefined when the device never sent it. */
  async get (device: string, id: string): Promise<StreamRow | undefined> {
    const key = KEYS.stream(device, id)
    let row = this.#cache.get(key)
    if (row === undefined) {
      const v = await this.#rows.get(key)
      if (v === undefined) return undefined
      row = dec<StreamRow>(v)
      this.#cache.set(key, row)
    }
    return structuredClone(row)
  }

  /** The device's streams, in the order first seen. */
  async list (device: string): Promise<StreamRow[]> {
    const out: StreamRow[] = []
    for await (const v of this.#rows.values(KEYS.prefix(device))) out.push(dec<StreamRow>(v))
    return out.sort((a, b) => a.ord - b.ord)
  }

  /** The stream's ranges above its high-water (the cached object: change it only through ingest). */
  async coverage (device: string, ord: number): Promise<Coverage> {
    const key = `${device}!${ord}`
    let c = this.#coverage.get(key)
    if (c === undefined) {
      const ranges: Range[] = []
      for await (const [k, v] of this.#ranges.iterator(KEYS.prefix(device, ordKey(ord)))) ranges.push([keyTail(k).seq, dec<number>(v)])
      c = new Coverage(ranges)
      this.#coverage.set(key, c)
    }
    return c
  }

  /** The write of a stream row. */
  rowOp (row: StreamRow): BatchOp {
    return { type: 'put', key: KEYS.stream(row.device, row.id), value: enc(row), sublevel: this.#rows }
  }

  /** The writes for what a coverage change did: one key per range removed or added. */
  rangeOps (device: string, ord: number, change: RangeChange): BatchOp[] {
    const ops: BatchOp[] = change.removed.map(([from]) => ({ type: 'del', key: KEYS.range(device, ord, from), sublevel: this.#ranges }))
    if (change.added !== undefined) ops.push({ type: 'put', key: KEYS.range(device, ord, change.added[0]), value: enc(change.added[1]), sublevel: this.#ranges })
    return ops
  }

  /** After a successful write: the row as written. */
  written (row: StreamRow): void {
    this.#cache.set(KEYS.stream(row.device, row.id), row)
  }

  /** After a failed write: read the device's streams from disk again. */
  forget (device: string): void {
    for (const key of [...this.#cache.keys()]) if (key.startsWith(`${device}!`)) this.#cache.delete(key)
    for (const key of [...this.#coverage.keys()]) if (key.startsWith(`${device}!`)) this.#coverage.delete(key)
  }
}
