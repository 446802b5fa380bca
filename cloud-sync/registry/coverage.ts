// Seq ranges as a sorted list of disjoint [from, to] pairs: what a device has covered above
// its high-water mark (records or gaps that arrived out of order), and how far the mark can
// advance once a hole is filled [W4]. Kept in the device row, so ingest needs no reads for it.

export type Range = [number, number]

/** Merges `add` into the sorted disjoint `ranges` (touching ranges join). Returns a new list. */
export function addRanges (ranges: Range[], add: Range[]): Range[] {
  const all = [...ranges, ...add].sort((a, b) => a[0] - b[0])
  const out: Range[] = []
  for (const [from, to] of all) {
    const last = out[out.length - 1]
    if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to)
    else out.push([from, to])
  }
  return out
}

/** True when `seq` lies in one of the sorted disjoint `ranges`. */
export function covers (ranges: Range[], seq: number): boolean {
  let lo = 0
  let hi = ranges.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (seq < ranges[mid][0]) hi = mid - 1
    else if (seq > ranges[mid][1]) lo = mid + 1
    else return true
  }
  return false
}

/**
 * Advances the high-water `hw` over a range that starts at hw + 1, and drops what it passed.
 * Returns the new mark and the ranges still above it.
 */
export function advance (hw: number, ranges: Range[]): { hw: number, above: Range[] } {
  let mark = hw
  const above = ranges.filter(([, to]) => to > mark)
  while (above.length > 0 && above[0][0] <= mark + 1) {
    mark = Math.max(mark, above[0][1])
    above.shift()
  }
  return { hw: mark, above }
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
