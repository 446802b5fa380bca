// Records and batches for the registry contract's cases (abstract-suite.ts and its parts).
import type { IngestBatch, IngestResult, Registry, StoredRecord } from '../../../cloud-sync/registry/index.js'
import type { WireGap } from '../../../src/wire/index.js'

export type Rec = Omit<StoredRecord, 'device' | 'receivedAt' | 'stream'>
export const rec = (seq: number, fn = 'f', kind: Rec['kind'] = 'result'): Rec => ({ seq, kind, fn, time: 1_700_000_000_000 + seq, data: { n: seq } })
export const range = (a: number, b: number, fn?: string): Rec[] => Array.from({ length: b - a + 1 }, (_, i) => rec(a + i, fn))
/** One batch of `records` and `gaps` (of the legacy stream unless `extra.stream` says). */
export const ingest = async (reg: Registry, device: string, records: Rec[], gaps: WireGap[], at: number, extra: Omit<IngestBatch, 'records' | 'gaps'> = {}): Promise<IngestResult> =>
  await reg.ingest(device, { records, gaps, ...extra }, at)
/** Two outbox stream ids (STREAM_ID_PATTERN). */
export const A = 'a1a1a1a1a1a1a1a1'
export const B = 'b2b2b2b2b2b2b2b2'
