// Defaults and validation of the outbox store's options (one frozen object, clamped ranges).
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { RECORD_KINDS } from './types.js'
import { systemClock } from '../../src/clock.js'
import type { FaultEvent } from '../../src/store-fault.js'
import type { RecordKind, StoreClock } from './types.js'

export interface StoreOptions {
  /** The agent's data dir; the LevelDB lives in it. */
  dir: string
  /** Bytes of encoded records kept before the oldest low-priority ones are dropped. */
  quotaBytes: number
  /** Per-kind time to live, counted from the commit; absent or 0 means kept until acked. */
  ttlMs: Partial<Record<RecordKind, number>>
  /** How often written data is fsynced: a power cut loses at most this much. */
  syncIntervalMs: number
  /**
   * LevelDB's write buffer, KiB: its memtable, held in malloc until written out as a table file
   * (classic-level's `writeBufferSize`, LevelDB's default 4 MiB). Smaller takes RAM off the
   * agent's peak and makes more, smaller table files, so compactions write more to disk.
   */
  writeBufferKiB: number
  /** false: opening a dir with no store fails instead of creating one (the CLI viewer). */
  createIfMissing: boolean
  clock: StoreClock
  /** Told when a failed write trips the store's fault, each failed reopen, and the recovery (src/store-fault.ts). */
  onFault?: (e: FaultEvent) => void
}

export const SYSTEM_CLOCK: StoreClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => { clearTimeout(h as ReturnType<typeof setTimeout>) },
  monotonic: systemClock.monotonic,
  bootId: systemClock.bootId
})

export const STORE_DEFAULTS: Readonly<Omit<StoreOptions, 'dir'>> = Object.freeze({
  quotaBytes: 64 * 1024 * 1024,
  ttlMs: Object.freeze({}),
  syncIntervalMs: 200,
  writeBufferKiB: 4096,
  createIfMissing: true,
  clock: SYSTEM_CLOCK
})

/** The one source of these ranges: the agent's config schema takes them from here. */
export const MAX_TTL_MS = 10 * 365 * 86_400_000
/** Outbox quota, bytes. */
export const QUOTA_RANGE: readonly [number, number] = Object.freeze([1024, 2 ** 40]) as readonly [number, number]
/** fsync interval, ms: at least 10 (an fsync per write is what group commit avoids), at most a minute of exposure to a power cut. */
export const SYNC_RANGE: readonly [number, number] = Object.freeze([10, 60_000]) as readonly [number, number]
/** LevelDB write buffer, KiB: LevelDB itself takes nothing under 64 KiB; 64 MiB is more than any board has to spare. */
export const WRITE_BUFFER_KIB_RANGE: readonly [number, number] = Object.freeze([64, 65_536]) as readonly [number, number]

function bad (key: string, message: string): LambkinError {
  return new LambkinError(ErrorCodes.CONFIG_INVALID, `outbox store option "${key}" ${message}`, { details: { key } })
}

function intIn (key: string, v: unknown, [min, max]: readonly [number, number]): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(key, `must be an integer between ${min} and ${max}, got ${String(v)}`)
  }
}

export function resolveStoreOptions (opts: Partial<StoreOptions> & { dir: string }): StoreOptions {
  const o: StoreOptions = { ...STORE_DEFAULTS, ...opts }
  if (typeof o.dir !== 'string' || o.dir === '') throw bad('dir', 'must name the agent data directory')
  intIn('quotaBytes', o.quotaBytes, QUOTA_RANGE)
  intIn('syncIntervalMs', o.syncIntervalMs, SYNC_RANGE)
  intIn('writeBufferKiB', o.writeBufferKiB, WRITE_BUFFER_KIB_RANGE)
  if (typeof o.createIfMissing !== 'boolean') throw bad('createIfMissing', 'must be true or false')
  if (o.ttlMs === null || typeof o.ttlMs !== 'object') throw bad('ttlMs', 'must be an object of per-kind TTLs, e.g. { "log": 86400000 }')
  for (const [kind, ttl] of Object.entries(o.ttlMs)) {
    if (!(RECORD_KINDS as readonly string[]).includes(kind)) throw bad(`ttlMs.${kind}`, `is not a record kind (${RECORD_KINDS.join(', ')})`)
    if (ttl !== undefined) intIn(`ttlMs.${kind}`, ttl, [0, MAX_TTL_MS])
  }
  const c = o.clock
  if (c === null || typeof c !== 'object' || typeof c.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.clearTimeout !== 'function') {
    throw bad('clock', 'must have now(), setTimeout() and clearTimeout()')
  }
  return { ...o, ttlMs: { ...o.ttlMs } }
}
