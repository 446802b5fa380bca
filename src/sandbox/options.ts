// Defaults and validation of the sandbox pool's options (one frozen object, clamped).
import { availableParallelism } from 'node:os'
import { ErrorCodes, LambkinError } from '../errors.js'
import type { IoCaps } from './types.js'

export const IO_CAP_DEFAULTS: Readonly<IoCaps> = Object.freeze({
  eventBytes: 256 * 1024,
  resultBytes: 1024 * 1024,
  stateBytes: 64 * 1024,
  logBytes: 64 * 1024,
  publishBytes: 128 * 1024,
  maxPublishes: 100,
  emitBytes: 256 * 1024,
  maxEmits: 100
})

export interface PoolOptions {
  /** Sandbox worker threads. */
  workers: number
  /** Warm wasm instances kept ready per memory cap in each worker. */
  spares: number
  /** Extra time past timeoutMs before the watchdog ends a thread that does not yield. */
  graceMs: number
  watchdogIntervalMs: number
  /** Calls waiting or running per function before LAMBKIN_THROTTLED. */
  queueDepth: number
  /** Calls sent ahead into a worker per concurrency slot (they run one at a time there). */
  inflightPerSlot: number
  /** Consecutive faults (timeouts, memory, stack, crashes) before a function is quarantined. */
  quarantineAfter: number
  quarantineBaseMs: number
  quarantineMaxMs: number
  workerHeapMiB: number
  deviceId: string
  caps: IoCaps
  now: () => number
}

export const POOL_DEFAULTS: Readonly<Omit<PoolOptions, 'caps'>> = Object.freeze({
  workers: Math.max(1, Math.min(2, availableParallelism())),
  spares: 2,
  graceMs: 250,
  watchdogIntervalMs: 25,
  queueDepth: 1000,
  inflightPerSlot: 512,
  quarantineAfter: 3,
  quarantineBaseMs: 1000,
  quarantineMaxMs: 5 * 60_000,
  workerHeapMiB: 128,
  deviceId: 'local',
  now: Date.now
})

const RANGES: Record<string, [number, number]> = {
  workers: [1, 64],
  spares: [0, 16],
  graceMs: [10, 60_000],
  watchdogIntervalMs: [5, 1000],
  queueDepth: [1, 1_000_000],
  inflightPerSlot: [1, 1024],
  quarantineAfter: [1, 1_000_000],
  quarantineBaseMs: [0, 3_600_000],
  quarantineMaxMs: [0, 86_400_000],
  workerHeapMiB: [16, 4096]
}

export function resolvePoolOptions (opts: Partial<PoolOptions> = {}): PoolOptions {
  const merged: PoolOptions = { ...POOL_DEFAULTS, ...opts, caps: { ...IO_CAP_DEFAULTS, ...opts.caps } }
  for (const [key, [min, max]] of Object.entries(RANGES)) {
    const v = (merged as unknown as Record<string, unknown>)[key]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new LambkinError(ErrorCodes.CONFIG_INVALID, `sandbox option "${key}" must be an integer between ${min} and ${max}, got ${String(v)}`, { details: { key } })
    }
  }
  for (const [key, v] of Object.entries(merged.caps)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new LambkinError(ErrorCodes.CONFIG_INVALID, `sandbox cap "caps.${key}" must be a positive integer, got ${String(v)}`, { details: { key: `caps.${key}` } })
    }
  }
  return merged
}
