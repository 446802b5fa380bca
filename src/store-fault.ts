// The sticky-fault rule of lambkin's LevelDB stores, the agent's outbox and the cloud's
// registry (docs/architecture.md, "Durability"): after a write fails (a full card, an I/O
// error) LevelDB may hold a torn log tail that its next open drops, so anything written after
// that point could vanish on restart although it was acknowledged. So the first failed write
// trips the fault: from then on every write fails at once with LAMBKIN_STORE_FAULT, until the
// owner has closed, reopened and verified the database. The owner's `recover` does that;
// this file retries it with backoff on the injectable clock until it succeeds.
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes, LambkinError } from './errors.js'
import type { Clock } from './clock.js'

/** The first wait before a reopen is tried, ms; doubled after each failed try... */
export const RECOVER_FIRST_MS = 1000
/** ...up to this. */
export const RECOVER_MAX_MS = 60_000

/** What status, metrics and health show of a fault. */
export interface FaultState {
  /** STORE_FAULT: a failed write (this file); DB_UNAVAILABLE: the cloud's database cannot be reached (cloud-sync/registry/pg/availability.ts). */
  code: typeof ErrorCodes.STORE_FAULT | typeof ErrorCodes.DB_UNAVAILABLE
  /** Why: the failed write's message (or the last failed reopen's). */
  message: string
  /** When the fault tripped (wall clock, ms). */
  since: number
  /** Reopens tried so far. */
  attempts: number
}

export type FaultEvent =
  | { type: 'tripped', state: FaultState }
  | { type: 'retry-failed', state: FaultState, nextInMs: number }
  /** `note`: what the verification found amiss (the store goes on). */
  | { type: 'recovered', after: FaultState, note?: string }

export interface StoreFaultOptions {
  /** What the store is called in messages ("the outbox store in /data"). */
  what: string
  clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  /** Closes, reopens and verifies the database; rejects to be tried again later. Resolves with a note when it found something amiss. */
  recover: () => Promise<string | undefined>
  onEvent?: (e: FaultEvent) => void
}

export class StoreFault {
  readonly #o: StoreFaultOptions
  #state: FaultState | undefined
  #timer: unknown
  #closed = false
  /** Faults since this store opened. */
  #count = 0

  constructor (o: StoreFaultOptions) {
    this.#o = o
  }

  get faulted (): boolean { return this.#state !== undefined }
  get state (): FaultState | undefined { return this.#state === undefined ? undefined : { ...this.#state } }
  get count (): number { return this.#count }

  /** Throws LAMBKIN_STORE_FAULT while faulted. */
  check (): void {
    if (this.#state !== undefined) throw this.error()
  }

  error (): LambkinError {
    const s = this.#state as FaultState
    return new LambkinError(ErrorCodes.STORE_FAULT, `${this.#o.what} failed a write (${s.message}) and takes nothing more until it has been reopened and checked, which it retries by itself; free space on the disk or fix the I/O error`, { details: { since: s.since, attempts: s.attempts } })
  }

  /** Records a failed write; the first one trips the fault and schedules a reopen. */
  trip (err: unknown): void {
    if (this.#state !== undefined || this.#closed) return
    this.#count++
    this.#state = { code: ErrorCodes.STORE_FAULT, message: messageOf(err), since: this.#o.clock.now(), attempts: 0 }
    this.#o.onEvent?.({ type: 'tripped', state: { ...this.#state } })
    this.#arm()
  }

  /** Stops retrying (the store is closing). */
  close (): void {
    this.#closed = true
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm (): void {
    const s = this.#state
    if (s === undefined || this.#closed) return
    const wait = Math.min(RECOVER_MAX_MS, RECOVER_FIRST_MS * 2 ** s.attempts)
    this.#timer = this.#o.clock.setTimeout(async () => { this.#timer = undefined; await this.#attempt() }, wait)
    ;(this.#timer as { unref?: () => void } | null)?.unref?.()
  }

  async #attempt (): Promise<void> {
    const s = this.#state
    if (s === undefined || this.#closed) return
    s.attempts++
    let note: string | undefined
    try {
      note = await this.#o.recover()
    } catch (err) {
      if (this.#closed) return
      s.message = messageOf(err)
      this.#arm()
      this.#o.onEvent?.({ type: 'retry-failed', state: { ...s }, nextInMs: Math.min(RECOVER_MAX_MS, RECOVER_FIRST_MS * 2 ** s.attempts) })
      return
    }
    this.#state = undefined
    this.#o.onEvent?.(note === undefined ? { type: 'recovered', after: { ...s } } : { type: 'recovered', after: { ...s }, note })
  }
}

/** Bytes the disk must take before a reopen is tried: LevelDB's reopen writes a table of its log. */
export const PROBE_BYTES = 1024 * 1024

/**
 * Whether the disk under `dir` takes PROBE_BYTES again (written, fsynced, removed). Tried
 * before a reopen, so a database that still has no room is left open for reading rather
 * than closed and not opened again. Throws the file system's error (ENOSPC, EIO) if not.
 */
export function probeDisk (dir: string): void {
  const file = join(dir, '.lambkin-probe')
  try {
    const fd = openSync(file, 'w', 0o600)
    try {
      writeSync(fd, Buffer.alloc(PROBE_BYTES))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } finally {
    rmSync(file, { force: true })
  }
}

function messageOf (err: unknown): string {
  const e = err as { message?: string, cause?: { message?: string } }
  // level wraps LevelDB's own message ("IO error: ...: No space left on device") in its cause.
  return e.cause?.message ?? e.message ?? String(err)
}
