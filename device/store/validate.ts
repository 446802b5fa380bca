// Argument checks shared by every backend: what a caller may pass to commit/read/ack, with
// errors that name the bad field. Backends receive only values that passed these.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { MAX_TTL_MS } from './options.js'
import { RECORD_KINDS, isRecordKind } from './types.js'
import type { CommitUnit, ReadOptions, RecordKind } from './types.js'

export const MAX_READ_LIMIT = 100_000

function bad (field: string, message: string): LambkinError {
  return new LambkinError(ErrorCodes.STORE_ERROR, `outbox store: ${field} ${message}`, { details: { key: field } })
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== ''

function arrayField (unit: Record<string, unknown>, name: string): unknown[] {
  const v = unit[name]
  if (v === undefined) return []
  if (!Array.isArray(v)) throw bad(name, 'must be an array')
  return v
}

/**
 * Checks a commit unit's shape; throws LAMBKIN_STORE_ERROR naming the first bad field. Runs once
 * per commit (per relayed message): plain loops, and a field's name built only when it is bad.
 */
export function checkUnit (unit: unknown): asserts unit is CommitUnit {
  if (!isObject(unit)) throw bad('unit', 'must be an object { records?, state?, publishes?, meta? }')
  const records = arrayField(unit, 'records')
  for (let i = 0; i < records.length; i++) checkRecord(records[i], i)
  const state = arrayField(unit, 'state')
  for (let i = 0; i < state.length; i++) {
    const s = state[i]
    if (!isObject(s) || !nonEmpty(s.fn)) throw bad(`state[${i}].fn`, 'must be a non-empty function name')
  }
  const publishes = arrayField(unit, 'publishes')
  for (let i = 0; i < publishes.length; i++) checkPublish(publishes[i], i)
  const meta = arrayField(unit, 'meta')
  for (let i = 0; i < meta.length; i++) {
    const m = meta[i]
    if (!isObject(m) || !nonEmpty(m.key)) throw bad(`meta[${i}].key`, 'must be a non-empty string')
  }
}

function checkRecord (r: unknown, i: number): void {
  if (!isObject(r)) throw bad(`records[${i}]`, 'must be an object { kind, time, data, fn?, ttlMs? }')
  if (!isRecordKind(r.kind)) throw bad(`records[${i}].kind`, `must be one of ${RECORD_KINDS.join(', ')}, got ${String(r.kind)}`)
  if (r.fn !== undefined && !nonEmpty(r.fn)) throw bad(`records[${i}].fn`, 'must be a non-empty string when given')
  if (typeof r.time !== 'number' || !Number.isFinite(r.time)) throw bad(`records[${i}].time`, 'must be a finite number (ms since epoch)')
  if (r.ttlMs !== undefined && (typeof r.ttlMs !== 'number' || !Number.isInteger(r.ttlMs) || r.ttlMs < 0 || r.ttlMs > MAX_TTL_MS)) {
    throw bad(`records[${i}].ttlMs`, `must be an integer between 0 and ${MAX_TTL_MS} when given`)
  }
}

function checkPublish (p: unknown, i: number): void {
  if (!isObject(p)) throw bad(`publishes[${i}]`, 'must be an object { topic, payload, qos, retain }')
  if (!nonEmpty(p.topic) || /[+#\0]/.test(p.topic)) throw bad(`publishes[${i}].topic`, 'must be a non-empty topic without wildcards')
  if (typeof p.payload !== 'string' && !(p.payload instanceof Uint8Array)) throw bad(`publishes[${i}].payload`, 'must be a string or a Uint8Array')
  if (p.qos !== 0 && p.qos !== 1 && p.qos !== 2) throw bad(`publishes[${i}].qos`, 'must be 0, 1 or 2')
  if (typeof p.retain !== 'boolean') throw bad(`publishes[${i}].retain`, 'must be true or false')
  if (p.correlationData !== undefined && typeof p.correlationData !== 'string') throw bad(`publishes[${i}].correlationData`, 'must be base64 text')
  if (p.responseTopic !== undefined && (!nonEmpty(p.responseTopic) || /[+#\0]/.test(p.responseTopic))) {
    throw bad(`publishes[${i}].responseTopic`, 'must be a non-empty topic without wildcards')
  }
  if (p.hop !== undefined && (!isObject(p.hop) || !nonEmpty(p.hop.traceId) || !Number.isSafeInteger(p.hop.hop) || (p.hop.hop as number) < 0)) {
    throw bad(`publishes[${i}].hop`, 'must be { traceId: non-empty string, hop: non-negative integer } when given')
  }
  if (p.fn !== undefined && !nonEmpty(p.fn)) throw bad(`publishes[${i}].fn`, 'must be a non-empty string when given')
}

export function checkSeq (seq: unknown, field: string): asserts seq is number {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw bad(field, `must be a non-negative integer, got ${String(seq)}`)
}

export function checkSeqs (seqs: unknown): asserts seqs is number[] {
  if (!Array.isArray(seqs)) throw bad('seqs', 'must be an array of sequence numbers')
  seqs.forEach((s, i) => { checkSeq(s, `seqs[${i}]`) })
}

export function checkName (v: unknown, field: string): asserts v is string {
  if (!nonEmpty(v)) throw bad(field, 'must be a non-empty string')
}

export interface ResolvedRead { afterSeq: number, limit: number, kinds: RecordKind[] | null }

export function resolveRead (opts: unknown): ResolvedRead {
  if (opts === undefined) return { afterSeq: 0, limit: 1000, kinds: null }
  if (!isObject(opts)) throw bad('read options', 'must be an object { afterSeq?, limit?, kinds? }')
  const o = opts as ReadOptions
  const afterSeq = o.afterSeq ?? 0
  checkSeq(afterSeq, 'afterSeq')
  const limit = o.limit ?? 1000
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) {
    throw bad('limit', `must be an integer between 1 and ${MAX_READ_LIMIT}, got ${String(limit)}`)
  }
  let kinds: RecordKind[] | null = null
  if (o.kinds !== undefined) {
    if (!Array.isArray(o.kinds) || !o.kinds.every(isRecordKind)) throw bad('kinds', `must be an array of ${RECORD_KINDS.join(', ')}`)
    kinds = [...o.kinds]
  }
  return { afterSeq, limit, kinds }
}
