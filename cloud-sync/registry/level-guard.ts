// The sticky-fault rule (src/store-fault.ts) on the cloud registry's LevelDB. Every write the
// registry makes goes through the database's public put, del and batch (its sublevels call
// them too), so the guard wraps those three on our own Level instance: while faulted a write
// fails at once with LAMBKIN_STORE_FAULT, the first failed one trips the fault, and the
// recovery closes the database, opens it again with its sublevels, lets the registry check
// what it holds, and proves the disk takes a synced write before anything is taken again.
// Ingest then refuses uploads (no down/ack: devices keep their records) until it recovers.
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { StoreFault, probeDisk } from '../../src/store-fault.js'
import type { FaultEvent, FaultState } from '../../src/store-fault.js'
import type { Clock } from '../../src/clock.js'
import type { Level } from 'level'

type Db = Level<string, Uint8Array>
type Method = (...args: unknown[]) => Promise<unknown>
interface Reopenable { open: () => Promise<void> }

/** A root key no sublevel uses (their keys start with '!'): the probe write after a reopen. */
const PROBE_KEY = '~lambkin-probe'

export interface LevelGuardOptions {
  what: string
  clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>
  /** After a reopen: checks what the database holds against what was acknowledged; a note when something is amiss. */
  verify: () => Promise<string | undefined>
  onEvent?: (e: FaultEvent) => void
}

export class LevelGuard {
  readonly #db: Db
  readonly #fault: StoreFault
  readonly #opts: LevelGuardOptions
  readonly #original: { put: Method, del: Method, batch: Method }
  readonly #subs: Reopenable[] = []
  readonly #inflight = new Set<Promise<unknown>>()

  constructor (db: Db, opts: LevelGuardOptions) {
    this.#db = db
    this.#opts = opts
    this.#fault = new StoreFault({ what: opts.what, clock: opts.clock, recover: async () => await this.#recover(), onEvent: opts.onEvent })
    const d = db as unknown as Record<'put' | 'del' | 'batch' | 'sublevel', Method>
    this.#original = { put: d.put.bind(db), del: d.del.bind(db), batch: d.batch.bind(db) }
    for (const m of ['put', 'del', 'batch'] as const) {
      const write = this.#original[m]
      d[m] = (...args: unknown[]) => {
        // db.batch() with no operations makes a chained batch, whose write() is not used here.
        if (m === 'batch' && args.length === 0) return write(...args)
        return this.#write(() => write(...args))
      }
    }
    // Sublevels close with their database and must be opened again after it reopens.
    const sublevel = d.sublevel.bind(db) as unknown as (...a: unknown[]) => Reopenable
    ;(d as unknown as { sublevel: (...a: unknown[]) => Reopenable }).sublevel = (...args: unknown[]) => {
      const s = sublevel(...args)
      this.#subs.push(s)
      return s
    }
  }

  get faulted (): boolean { return this.#fault.faulted }
  get state (): FaultState | undefined { return this.#fault.state }

  /** Throws LAMBKIN_STORE_FAULT while faulted. */
  check (): void { this.#fault.check() }

  close (): void { this.#fault.close() }

  async #write (run: () => Promise<unknown>): Promise<unknown> {
    this.#fault.check()
    const p = run()
    this.#inflight.add(p)
    try {
      return await p
    } catch (err) {
      if (err instanceof LambkinError) throw err
      this.#fault.trip(err)
      throw new LambkinError(ErrorCodes.STORE_ERROR, `writing to ${this.#opts.what} failed: ${(err as { cause?: Error }).cause?.message ?? errorMessage(err)}`, { cause: err })
    } finally {
      this.#inflight.delete(p)
    }
  }

  async #recover (): Promise<string | undefined> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
    // Still no room: stay open for reading, and try later.
    probeDisk(this.#db.location)
    await this.#db.close().catch(() => {})
    await this.#db.open()
    try {
      for (const s of this.#subs) await s.open()
      const note = await this.#opts.verify()
      await this.#original.put(PROBE_KEY, new TextEncoder().encode(String(this.#opts.clock.now())), { sync: true })
      return note
    } catch (err) {
      await this.#db.close().catch(() => {})
      throw err
    }
  }
}
