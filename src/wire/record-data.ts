// What the data of a record (and of an invoke result) may hold [W2][W8]: what a JSON API can
// answer with. The cloud checks it when a frame arrives, so no later query over stored data
// can fail, and makes whatever it reads back safe, so data stored before this check cannot
// fail a query either. cbor-x decodes some CBOR into values JSON.stringify throws on (a 64-bit
// integer as a BigInt, the value-sharing tags 28/29 into circular objects) and others into
// objects a JSON API cannot show (Date, Set, Map, RegExp, Error, typed arrays, unknown tags).
//
// Allowed: null, booleans, numbers (NaN and the infinities answer as JSON null), strings, byte
// strings, arrays, maps; `undefined` (the agent's own records carry it for absent fields; JSON
// leaves it out). Map keys: cbor-x has made them strings already (a number, boolean or null key
// becomes its text, any other key is 'malformed', and a "__proto__" key arrives as "__proto_").
// A 64-bit integer within the safe range (2^53) is taken and answered as a plain number.
import { wireError } from './cbor.js'
import { errorMessage } from '../errors.js'

/**
 * Deepest nesting taken, counting the data itself as 1. cbor-x's decoder gives up near 2,200
 * levels (a RangeError, refused as 'malformed') and its encoder, the agent's, near 1,300 (a map
 * in a record in a frame), so a lambkin agent never sends more; 1000 leaves the read path room.
 */
export const DATA_MAX_DEPTH = 1000

/**
 * Why data was refused: the wire reason is `data-<reason>` (counted per reason by ingest).
 * `malformed`: embedded data (embedded-data.ts) that is not one well-formed CBOR item.
 */
export type DataReason = 'integer' | 'tag' | 'shared' | 'depth' | 'malformed'

export interface DataProblem { reason: DataReason, message: string }

/** The result of walking data once: a problem, or whether it holds BigInts to turn into numbers. */
interface Walked { problem?: DataProblem, bigints: boolean }

function isPlainObject (v: object): boolean {
  const p = Object.getPrototypeOf(v)
  return p === Object.prototype || p === null
}

function describe (v: object): string {
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name
  const tag = (v as { tag?: unknown }).tag
  return typeof tag === 'number' ? `CBOR tag ${tag}` : typeof name === 'string' ? `a ${name}` : 'an object of no plain type'
}

/**
 * Walks `value` without recursion (its depth is the input's): every object is visited once,
 * so a value made of shared references cannot make the walk, or a JSON encoder, run long.
 */
function walk (value: unknown, maxDepth: number): Walked {
  const seen = new Set<object>()
  const stack: Array<{ v: unknown, depth: number }> = [{ v: value, depth: 1 }]
  let bigints = false
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown, depth: number }
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        return { bigints, problem: { reason: 'integer', message: `holds the integer ${v}, beyond the ±2^53 a JSON number keeps exactly; send it as a string` } }
      }
      bigints = true
      continue
    }
    if (v === null || typeof v !== 'object') continue
    // A byte string (a typed array of another element type is a tag, below).
    if (v instanceof Uint8Array) continue
    if (depth > maxDepth) return { bigints, problem: { reason: 'depth', message: `nests deeper than ${maxDepth} levels` } }
    if (seen.has(v)) return { bigints, problem: { reason: 'shared', message: 'holds a value twice by reference (CBOR tags 28/29, or a cycle); send plain copies' } }
    seen.add(v)
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1 })
      continue
    }
    if (!isPlainObject(v)) return { bigints, problem: { reason: 'tag', message: `holds ${describe(v)}, which JSON cannot show; send plain maps, arrays, strings, numbers, booleans, null or bytes` } }
    for (const k of Object.keys(v)) stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1 })
  }
  return { bigints }
}

/** Why `value` cannot be taken as record data, or undefined when it can. */
export function dataProblem (value: unknown, maxDepth = DATA_MAX_DEPTH): DataProblem | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'bigint')) return undefined
  return walk(value, maxDepth).problem
}

/**
 * Throws LAMBKIN_WIRE_INVALID with reason `data-<reason>` naming `field` when `value` cannot
 * be taken [W2][W8]; the batch or result carrying it is refused and counted.
 */
export function checkData (value: unknown, field: string): void {
  const p = dataProblem(value)
  if (p !== undefined) throw wireError(`data-${p.reason}`, `${field} ${p.message}`)
}

/** What a read answers in place of stored data it cannot show: the reason, never a failed query. */
export interface UnreadableData { unreadable: string }

/**
 * Stored data as a JSON API can answer it: the value itself when it is fine (the common case,
 * no copy), a copy with safe BigInts as numbers, or an UnreadableData placeholder saying why.
 * Never throws.
 */
export function readableData (value: unknown): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'bigint')) return value
  let w: Walked
  try {
    w = walk(value, DATA_MAX_DEPTH)
  } catch (err) {
    return { unreadable: `data-invalid: ${errorMessage(err)}` } satisfies UnreadableData
  }
  if (w.problem !== undefined) return { unreadable: `data-${w.problem.reason}: the stored data ${w.problem.message}` } satisfies UnreadableData
  return w.bigints ? numbersFor(value) : value
}

/** A copy of checked data (acyclic, within DATA_MAX_DEPTH) with every BigInt as a number. */
function numbersFor (v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v
  if (Array.isArray(v)) return v.map(numbersFor)
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const k of Object.keys(v)) out[k] = numbersFor((v as Record<string, unknown>)[k])
  return out
}
