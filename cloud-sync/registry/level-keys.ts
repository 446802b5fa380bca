// The LevelDB registry's key layout, in one place. Keys sort as a SQL index would: a device's
// rows by (device, stream ordinal, seq), where the ordinal numbers a device's outbox streams
// 1, 2, 3... in the order the cloud first saw them [W4]. Device ids, function names and kinds
// never hold `!` (W1), so `!` separates parts and `~` closes a prefix range.

/** Zero-padded so that keys sort numerically (seqs are safe integers, < 10^16). */
export const pad = (n: number): string => String(n).padStart(16, '0')
/** A stream's ordinal in keys: up to 10^8 streams per device. */
export const ordKey = (ord: number): string => String(ord).padStart(8, '0')

export const KEYS = Object.freeze({
  /** A stream row (sublevel `s`): (device, stream id). */
  stream: (device: string, stream: string): string => `${device}!${stream}`,
  /** A chunk of records (sublevel `c`), keyed by the last record seq it holds. */
  chunk: (device: string, ord: number, lastSeq: number): string => `${device}!${ordKey(ord)}!${pad(lastSeq)}`,
  /** An index entry (sublevels `f` by function, `k` by kind) pointing at a chunk. */
  index: (device: string, part: string, ord: number, lastSeq: number): string => `${device}!${part}!${ordKey(ord)}!${pad(lastSeq)}`,
  /** A declared gap (sublevel `g`), keyed by its first seq. */
  gap: (device: string, ord: number, from: number): string => `${device}!${ordKey(ord)}!${pad(from)}`,
  /** A range covered above a stream's high-water (sublevel `a`), keyed by its first seq. */
  range: (device: string, ord: number, from: number): string => `${device}!${ordKey(ord)}!${pad(from)}`,
  /** Everything of a device (`prefix`) or of one index part, as [gt, lt] bounds. */
  prefix: (...parts: string[]): { gt: string, lt: string } => ({ gt: `${parts.join('!')}!`, lt: `${parts.join('!')}!~` })
})

/** The (ordinal, seq) a chunk or index key ends with. */
export function keyTail (key: string): { ord: number, seq: number } {
  const seq = Number(key.slice(-16))
  const ord = Number(key.slice(-25, -17))
  return { ord, seq }
}
