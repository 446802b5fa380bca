// A function's resource limits: defaults, the floors a sandbox needs, the device's caps, and
// the check of a manifest's `limits` against them (LAMBKIN_LIMIT_EXCEEDS_CAP above a cap).
import { ErrorCodes, LambkinError } from '../errors.js'
import { bad, int, object } from './check.js'

export interface Limits { memoryKiB: number, timeoutMs: number, instructions: number, concurrency: number, stackKiB: number }

export const LIMIT_DEFAULTS: Readonly<Limits> = Object.freeze({ memoryKiB: 32768, timeoutMs: 1000, instructions: 10_000_000, concurrency: 1, stackKiB: 64 })
export const LIMIT_CAPS: Readonly<Limits> = Object.freeze({ memoryKiB: 262144, timeoutMs: 900_000, instructions: 1e12, concurrency: 64, stackKiB: 512 })
/** A QuickJS wasm instance needs 16 MiB of memory to start, so no budget can be smaller. */
export const LIMIT_MINIMUMS: Readonly<Limits> = Object.freeze({ memoryKiB: 16384, timeoutMs: 1, instructions: 10_000, concurrency: 1, stackKiB: 16 })

const LIMIT_KEYS = Object.freeze(Object.keys(LIMIT_DEFAULTS) as Array<keyof Limits>)

/**
 * The device's caps: LIMIT_CAPS overridden by the given ones. A device may raise a cap (a
 * bigger board) or lower it, but never below the floor, where no function could run.
 */
export function resolveCaps (caps: Partial<Limits> = {}): Readonly<Limits> {
  const out = { ...LIMIT_CAPS }
  for (const k of LIMIT_KEYS) {
    const v = caps[k]
    if (v === undefined) continue
    if (!Number.isSafeInteger(v) || v < LIMIT_MINIMUMS[k]) {
      const reason = `must be an integer of at least ${LIMIT_MINIMUMS[k]}, got ${String(v)}`
      throw new LambkinError(ErrorCodes.CONFIG_INVALID, `device cap "caps.${k}" ${reason}`, { details: { key: `caps.${k}`, reason, value: v } })
    }
    out[k] = v
  }
  return Object.freeze(out)
}

/**
 * A manifest's `limits` with defaults filled. A default above a lowered device cap becomes the
 * cap: a manifest that asked for nothing should run on any device, not be refused for a number
 * it never wrote.
 */
export function validateLimits (raw: unknown, caps: Readonly<Limits>): Limits {
  const given = raw === undefined ? {} : object(raw, 'limits', LIMIT_KEYS)
  const out = { ...LIMIT_DEFAULTS }
  for (const k of LIMIT_KEYS) {
    const key = `limits.${k}`
    if (given[k] === undefined) {
      out[k] = Math.min(LIMIT_DEFAULTS[k], caps[k])
      continue
    }
    const n = int(given[k], key, -Infinity, Infinity)
    if (n < LIMIT_MINIMUMS[k]) bad(key, `must be at least ${LIMIT_MINIMUMS[k]}${k === 'memoryKiB' ? ' (16 MiB: a QuickJS wasm instance cannot start in less)' : ''}, got ${n}`, { value: n, min: LIMIT_MINIMUMS[k] })
    if (n > caps[k]) {
      bad(key, `is ${n}, above this device's cap of ${caps[k]}; lower it or raise the device's caps.${k}`, { value: n, cap: caps[k] }, ErrorCodes.LIMIT_EXCEEDS_CAP)
    }
    out[k] = n
  }
  return out
}
