// Turns outbox records into one `up/batch` frame [W4]: oldest first, contiguous from the
// first seq the cloud lacks, with every seq the device will never send declared as a gap.
import { embedData } from '../../src/wire/index.js'
import type { GapReason, WireGap } from '../../src/wire/index.js'
import type { EncodedRecord, OutboxRecord } from '../store/index.js'

/** A record as read from the outbox: its data as a value, or as the stored CBOR bytes (sent embedded). */
export type PlanRecord = OutboxRecord | EncodedRecord

export interface PlanOptions {
  /** The first seq the batch must cover (the cloud's high-water + 1, or the next unsent seq). */
  from: number
  maxRecords: number
  /** Budget for the records' stored sizes; the first record always goes, however large. */
  maxBytes: number
  /** Records not to upload (logs turned off); their seqs become `excluded` gaps. */
  exclude: (r: Pick<OutboxRecord, 'kind' | 'fn'>) => boolean
}

export interface Plan {
  records: Array<{ seq: number, kind: string, fn?: string, time: number, data: unknown }>
  gaps: WireGap[]
  /** The last seq the batch covers (records or gaps); undefined when there is nothing to send. */
  through: number | undefined
  bytes: number
}

/**
 * Plans one batch from `records` (seq order, as OutboxStore.read or readEncoded returns them,
 * all >= from).
 * Missing seqs between `from` and a record were removed by the outbox's quota or TTL:
 * declared `dropped`. Nothing after the last record is declared, since a seq above it may be
 * a commit still in flight.
 */
export function planBatch (records: PlanRecord[], o: PlanOptions): Plan {
  const plan: Plan = { records: [], gaps: [], through: undefined, bytes: 0 }
  let next = o.from
  const gap = (from: number, to: number, reason: GapReason): void => {
    const last = plan.gaps[plan.gaps.length - 1]
    if (last !== undefined && last.to + 1 === from && last.reason === reason) last.to = to
    else plan.gaps.push({ from, to, reason })
  }
  for (const r of records) {
    if (r.seq < next) continue
    if (plan.records.length >= o.maxRecords) break
    if (plan.records.length > 0 && plan.bytes + r.bytes > o.maxBytes) break
    if (r.seq > next) gap(next, r.seq - 1, 'dropped')
    if (o.exclude(r)) {
      gap(r.seq, r.seq, 'excluded')
    } else {
      // Stored bytes go as they are, as tag 24 (src/wire/embedded-data.ts) [W4].
      const data = 'dataCbor' in r ? embedData(r.dataCbor) : r.data
      const w: Plan['records'][number] = { seq: r.seq, kind: r.kind, time: r.time, data }
      if (r.fn !== undefined) w.fn = r.fn
      plan.records.push(w)
      plan.bytes += r.bytes
    }
    next = r.seq + 1
  }
  plan.through = next > o.from ? next - 1 : undefined
  return plan
}
