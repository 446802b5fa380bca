// Small value checks for function.json: each one refuses with LAMBKIN_MANIFEST_INVALID naming
// the key path (`triggers[1].everyMs`) and the reason, so a user can find the line to fix.
import { ErrorCodes, LambkinError } from '../errors.js'
import { nearest } from '../did-you-mean.js'

type ManifestCode = typeof ErrorCodes.MANIFEST_INVALID | typeof ErrorCodes.LIMIT_EXCEEDS_CAP

export function bad (key: string, reason: string, extra: Record<string, unknown> = {}, code: ManifestCode = ErrorCodes.MANIFEST_INVALID): never {
  throw new LambkinError(code, `function.json "${key}" ${reason}`, { details: { key, reason, ...extra } })
}

/** A short, readable rendering of a bad value for an error message. */
export function show (v: unknown): string {
  if (v === undefined) return 'nothing'
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would show as null.
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

export function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** An object whose keys are all in `allowed`; a typo gets a suggestion instead of passing. */
export function object (v: unknown, key: string, allowed: readonly string[]): Record<string, unknown> {
  if (!isObject(v)) bad(key === '' ? '(root)' : key, `must be an object, got ${show(v)}`)
  for (const k of Object.keys(v)) {
    if (allowed.includes(k)) continue
    const near = nearest(k, allowed)
    const path = key === '' ? k : `${key}.${k}`
    bad(path, `is not a known key${near === undefined ? '' : ` (did you mean "${near}"?)`}; expected one of ${allowed.join(', ')}`)
  }
  return v
}

export function int (v: unknown, key: string, min: number, max: number, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(key, `must be an integer, got ${show(v)}`)
  if (v < min || v > max) bad(key, `must be between ${min} and ${max}, got ${v}`)
  return v
}

export function num (v: unknown, key: string, fallback: number, min = -Infinity): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(key, `must be a finite number, got ${show(v)}`)
  if (v < min) bad(key, `must be at least ${min}, got ${v}`)
  return v
}

export function str (v: unknown, key: string): string {
  if (typeof v !== 'string' || v.length === 0) bad(key, `must be a non-empty string, got ${show(v)}`)
  if (v.includes('\u0000')) bad(key, 'must not contain a NUL character')
  return v
}

export function array (v: unknown, key: string, what: string): unknown[] {
  if (!Array.isArray(v)) bad(key, `must be an array of ${what}, got ${show(v)}`)
  return v
}

/** The allowed key closest to a typo (edit distance <= 2), if any. */
