// Seq ranges as a sorted list of disjoint [from, to] pairs: what one outbox stream has covered
// above its high-water mark (records or gaps that arrived out of order), and how far the mark
// can advance once a hole is filled [W4]. Each change says which ranges it removed and which
// it added, so a backend keeps one key per range and a batch writes only what it changed:
// bookkeeping that does not grow with the number of holes.

export type Range = [number, number]

/** What one change did to the ranges: the ones gone (by `from`) and the one made, if any. */
export interface RangeChange { removed: Range[], added?: Range }

export class Coverage {
  /** Sorted by `from`, disjoint and never touching (touching ranges are joined). */
  readonly #ranges: Range[]

  constructor (ranges: Range[] = []) {
    this.#ranges = [...ranges].sort((a, b) => a[0] - b[0]).map(([a, b]) => [a, b])
  }

  get size (): number { return this.#ranges.length }

  /** A copy of the ranges, sorted. */
  list (): Range[] {
    return this.#ranges.map(([a, b]) => [a, b])
  }

  /** The index of the first range ending at or after `seq`. */
  #lower (seq: number): number {
    let lo = 0
    let hi = this.#ranges.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.#ranges[mid][1] < seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** True when `seq` lies in a range. */
  covers (seq: number): boolean {
    const r = this.#ranges[this.#lower(seq)]
    return r !== undefined && r[0] <= seq
  }

  /** The first range that overlaps [from, to], if any. */
  firstOverlap (from: number, to: number): Range | undefined {
    const r = this.#ranges[this.#lower(from)]
    return r !== undefined && r[0] <= to ? [r[0], r[1]] : undefined
  }

  /** Adds [from, to], joining every range it overlaps or touches. */
  add (from: number, to: number): RangeChange {
    let i = this.#lower(from - 1)
    const removed: Range[] = []
    let a = from
    let b = to
    const start = i
    while (i < this.#ranges.length && this.#ranges[i][0] <= to + 1) {
      const r = this.#ranges[i]
      removed.push([r[0], r[1]])
      a = Math.min(a, r[0])
      b = Math.max(b, r[1])
      i++
    }
    this.#ranges.splice(start, removed.length, [a, b])
    return { removed, added: [a, b] }
  }

  /** Moves the mark `hw` over the range that starts right after it, if any, and drops what it passed. */
  advance (hw: number): { hw: number, change: RangeChange } {
    const removed: Range[] = []
    let mark = hw
    while (this.#ranges.length > 0 && this.#ranges[0][0] <= mark + 1) {
      const r = this.#ranges.shift() as Range
      removed.push(r)
      mark = Math.max(mark, r[1])
    }
    return { hw: mark, change: { removed } }
  }
}

/** Splits sorted seqs into maximal runs of consecutive numbers. */
export function runsOf (seqs: number[]): Range[] {
  const out: Range[] = []
  for (const s of seqs) {
    const last = out[out.length - 1]
    if (last !== undefined && s === last[1] + 1) last[1] = s
    else out.push([s, s])
  }
  return out
}

/** Joins ranges that overlap or touch into a sorted disjoint list (a small, per-batch list). */
export function joinRanges (ranges: Range[]): Range[] {
  const out: Range[] = []
  for (const [from, to] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1]
    if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to)
    else out.push([from, to])
  }
  return out
}
