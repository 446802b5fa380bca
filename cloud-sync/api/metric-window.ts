// One device's invocations and errors minute by minute over the last hour, from the metric
// snapshots it synced (device/metrics, kind 'delta'), read incrementally: only snapshots
// stored since the previous read. Minutes are the cloud's (when a snapshot was stored), so a
// board whose clock is wrong still counts in "errors in the last hour" (docs/dashboard.md).
import type { Registry, StoredRecord } from '../registry/index.js'

export const MINUTE_MS = 60_000
/** Minutes kept: the devices table's "last hour". */
export const WINDOW_MINUTES = 60
/** Snapshots read the first time a device is seen: an hour of them at one every 30 s. */
const FIRST_READ = 120
/** Snapshots per read after that (a device back from a long outage sends many at once). */
const READ_LIMIT = 5000

export interface MinuteFigures { invocations: number, errors: number }

const count = (n: unknown): number => typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0

/** The invocations and failed invocations one metric record holds, summed over its functions. */
export function snapshotFigures (r: StoredRecord): MinuteFigures | undefined {
  const snap = r.data as { kind?: unknown, functions?: unknown } | null
  if (snap === null || typeof snap !== 'object' || snap.kind !== 'delta' || snap.functions === null || typeof snap.functions !== 'object') return undefined
  const out = { invocations: 0, errors: 0 }
  for (const f of Object.values(snap.functions as Record<string, { invocations?: unknown, errors?: unknown }>)) {
    if (f === null || typeof f !== 'object') continue
    out.invocations += count(f.invocations)
    if (f.errors !== null && typeof f.errors === 'object') for (const n of Object.values(f.errors as Record<string, unknown>)) out.errors += count(n)
  }
  return out
}

export class MetricWindow {
  /** Minute index (ms / MINUTE_MS) -> figures. */
  readonly minutes = new Map<number, MinuteFigures>()
  /** The highest seq read, in the stream `#stream` [W4]; undefined before the first read. */
  #cursor: number | undefined
  #stream: string | undefined

  /**
   * Whether records may have arrived since the last read: the device's high-water moved past
   * the cursor, or it uploads from another outbox stream than the one read last.
   */
  stale (highWater: number, stream?: string): boolean {
    if (this.#cursor === undefined) return highWater > 0
    return (stream !== undefined && stream !== this.#stream) || highWater > this.#cursor
  }

  /**
   * Reads the snapshots stored since the last read. A snapshot stored below the cursor after it
   * moved (a batch arriving out of order) is not counted: this is a view, not the ledger.
   */
  async read (registry: Registry, device: string, highWater: number, stream?: string): Promise<void> {
    const first = this.#cursor === undefined
    const records = first
      ? (await registry.records(device, { kinds: ['metric'], limit: FIRST_READ })).reverse()
      : await registry.records(device, { kinds: ['metric'], afterSeq: this.#cursor, stream: this.#stream, limit: READ_LIMIT })
    let cursor = this.#cursor ?? 0
    for (const r of records) {
      // Records come in (stream first seen, seq) order: a new stream starts its seqs again.
      if (r.stream !== this.#stream) { this.#stream = r.stream; cursor = 0 }
      cursor = Math.max(cursor, r.seq)
      const f = snapshotFigures(r)
      if (f === undefined) continue
      const m = Math.floor(r.receivedAt / MINUTE_MS)
      const acc = this.minutes.get(m) ?? { invocations: 0, errors: 0 }
      acc.invocations += f.invocations
      acc.errors += f.errors
      this.minutes.set(m, acc)
    }
    // Every seq up to highWater is stored, so the next read can start there; after a full read
    // there may be more snapshots between the last one read and highWater.
    const current = stream === undefined || stream === this.#stream
    if (stream !== undefined && this.#stream === undefined) this.#stream = stream
    this.#cursor = (!first && records.length >= READ_LIMIT) || !current ? cursor : Math.max(cursor, highWater)
  }

  /** Drops minutes older than the window ending at `now`. */
  trim (now: number): void {
    const oldest = Math.floor(now / MINUTE_MS) - WINDOW_MINUTES + 1
    for (const m of this.minutes.keys()) if (m < oldest) this.minutes.delete(m)
  }

  /** Sums the minutes of the last `minutes` (the current one included) ending at `now`. */
  total (now: number, minutes = WINDOW_MINUTES): MinuteFigures {
    const oldest = Math.floor(now / MINUTE_MS) - minutes + 1
    const out = { invocations: 0, errors: 0 }
    for (const [m, f] of this.minutes) {
      if (m < oldest) continue
      out.invocations += f.invocations
      out.errors += f.errors
    }
    return out
  }
}
