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

export function checkUnit (unit: unknown): asserts unit is CommitUnit {
  if (!isObject(unit)) throw bad('unit', 'must be an object { records?, state?, publishes?, meta? }')
  arrayField(unit, 'records').forEach((r, i) => {
    const f = `records[${i}]`
    if (!isObject(r)) throw bad(f, 'must be an object { kind, time, data, fn?, ttlMs? }')
    if (!isRecordKind(r.kind)) throw bad(`${f}.kind`, `must be one of ${RECORD_KINDS.join(', ')}, got ${String(r.kind)}`)
    if (r.fn !== undefined && !nonEmpty(r.fn)) throw bad(`${f}.fn`, 'must be a non-empty string when given')
    if (typeof r.time !== 'number' || !Number.isFinite(r.time)) throw bad(`${f}.time`, 'must be a finite number (ms since epoch)')
    if (r.ttlMs !== undefined && (typeof r.ttlMs !== 'number' || !Number.isInteger(r.ttlMs) || r.ttlMs < 0 || r.ttlMs > MAX_TTL_MS)) {
      throw bad(`${f}.ttlMs`, `must be an integer between 0 and ${MAX_TTL_MS} when given`)
    }
  })
  arrayField(unit, 'state').forEach((s, i) => {
    if (!isObject(s) || !nonEmpty(s.fn)) throw bad(`state[${i}].fn`, 'must be a non-empty function name')
  })
  arrayField(unit, 'publishes').forEach((p, i) => {
    const f = `publishes[${i}]`
    if (!isObject(p)) throw bad(f, 'must be an object { topic, payload, qos, retain }')
    if (!nonEmpty(p.topic) || /[+#\0]/.test(p.topic)) throw bad(`${f}.topic`, 'must be a non-empty topic without wildcards')
    if (typeof p.payload !== 'string' && !(p.payload instanceof Uint8Array)) throw bad(`${f}.payload`, 'must be a string or a Uint8Array')
    if (p.qos !== 0 && p.qos !== 1 && p.qos !== 2) throw bad(`${f}.qos`, 'must be 0, 1 or 2')
    if (typeof p.retain !== 'boolean') throw bad(`${f}.retain`, 'must be true or false')
    if (p.correlationData !== undefined && typeof p.correlationData !== 'string') throw bad(`${f}.correlationData`, 'must be base64 text')
    if (p.responseTopic !== undefined && (!nonEmpty(p.responseTopic) || /[+#\0]/.test(p.responseTopic))) throw bad(`${f}.responseTopic`, 'must be a non-empty topic without wildcards')
    if (p.hop !== undefined && (!isObject(p.hop) || !nonEmpty(p.hop.traceId) || !Number.isSafeInteger(p.hop.hop) || (p.hop.hop as number) < 0)) {
      throw bad(`${f}.hop`, 'must be { traceId: non-empty string, hop: non-negative integer } when given')
    }
    if (p.fn !== undefined && !nonEmpty(p.fn)) throw bad(`${f}.fn`, 'must be a non-empty string when given')
  })
  arrayField(unit, 'meta').forEach((m, i) => {
    if (!isObject(m) || !nonEmpty(m.key)) throw bad(`meta[${i}].key`, 'must be a non-empty string')
  })
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
