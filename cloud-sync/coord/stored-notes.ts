// Wakes whoever follows a device's records (logs -f: records with `after` and `wait`, and the
// dashboard's live feed) when an instance stored some (docs/scale-out.md, "Several instances").
// After each ingest commit that stored records the device's id is noted; notes are coalesced
// into one bus note per COALESCE_MS at most, listing every device stored meanwhile, so a busy
// fleet costs each instance a few notes a second however many devices upload. The bus is best
// effort: followers keep a poll, slow while notes flow, fast while the bus is down.
import { BUS_MAX_PAYLOAD } from './bus.js'
import type { BusTopic, CloudBus } from './bus.js'

/** Besides `stored`, the notes that say something the fleet view shows changed. */
const CHANGE_TOPICS: BusTopic[] = ['reported', 'connect', 'rollout']

export const STORED_NOTES_DEFAULTS = Object.freeze({
  /** The shortest time between two `stored` notes of one instance, ms: the first goes at once, later ones wait for the window. */
  coalesceMs: 50,
  /** A follower's poll while notes flow, ms: only a note lost on the way waits this long. */
  slowPollMs: 5000,
  /** A follower's poll while the bus is down (or with no bus), ms. */
  fastPollMs: 250
})

export interface StoredNotesOptions {
  /** Where the notes go; `up()` says whether they flow now. */
  bus: CloudBus & { up: () => boolean }
  coalesceMs?: number
  slowPollMs?: number
  fastPollMs?: number
}

/** One follower's view of one device's stores (or every device's, for `watch()` with no id). */
export interface StoreWatch {
  /**
   * Resolves when a store was noted since the watch was made or the last `next` resolved, at
   * once if one already was; else after at most `ms` or the poll period, whichever is shorter.
   */
  next: (ms: number) => Promise<void>
  close: () => void
}

export class StoredNotes {
  readonly #o: Required<StoredNotesOptions>
  readonly #pending = new Set<string>()
  /** Per device id (a Map: the ids are the devices' own names), the watches waiting on it; '' for every device. */
  readonly #watches = new Map<string, Set<() => void>>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #off: () => void

  constructor (o: StoredNotesOptions) {
    // An option given as undefined keeps its default.
    this.#o = { ...STORED_NOTES_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as Required<StoredNotesOptions>
    this.#off = this.#o.bus.subscribe('stored', (p) => {
      for (const id of p.split(' ')) if (id !== '') this.#wake(id)
    })
  }

  /** Ingest stored records of `device` (called after the commit). */
  stored (device: string): void {
    this.#pending.add(device)
    if (this.#timer === undefined) this.#flush()
  }

  /** Watches `device`'s stores, or every device's when undefined. */
  watch (device?: string): StoreWatch {
    const key = device ?? ''
    let noted = false
    let resolve: (() => void) | undefined
    const cb = (): void => { noted = true; resolve?.() }
    const set = this.#watches.get(key) ?? new Set()
    set.add(cb)
    this.#watches.set(key, set)
    return {
      next: async (ms) => {
        if (!noted) {
          const period = this.#o.bus.up() ? this.#o.slowPollMs : this.#o.fastPollMs
          let timer: ReturnType<typeof setTimeout> | undefined
          await new Promise<void>((_resolve) => {
            resolve = _resolve
            timer = setTimeout(_resolve, Math.max(0, Math.min(ms, period)))
          })
          clearTimeout(timer)
          resolve = undefined
        }
        noted = false
      },
      close: () => {
        set.delete(cb)
        if (set.size === 0 && this.#watches.get(key) === set) this.#watches.delete(key)
        resolve?.()
      }
    }
  }

  close (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#off()
  }

  /**
   * Calls `cb` whenever an instance noted a change the dashboard's fleet view shows: records
   * stored, a report, a device connected, a rollout changed. Returns the unsubscribe.
   */
  listen (cb: () => void): () => void {
    const set = this.#watches.get('') ?? new Set()
    set.add(cb)
    this.#watches.set('', set)
    const offs = CHANGE_TOPICS.map((t) => this.#o.bus.subscribe(t, cb))
    return () => { set.delete(cb); for (const off of offs) off() }
  }

  /** Whether notes flow now. */
  up (): boolean { return this.#o.bus.up() }

  /** A note the bus cannot take (it is down) still wakes this instance's own followers. */
  #send (note: string): void {
    if (!this.#o.bus.publish('stored', note)) for (const id of note.split(' ')) this.#wake(id)
  }

  #wake (id: string): void {
    for (const key of [id, '']) for (const cb of [...(this.#watches.get(key) ?? [])]) cb()
  }

  /** Sends what is pending (as many notes as BUS_MAX_PAYLOAD needs), then holds the next for coalesceMs. */
  #flush (): void {
    this.#timer = undefined
    if (this.#pending.size === 0) return
    let note = ''
    for (const id of this.#pending) {
      if (note !== '' && Buffer.byteLength(note) + 1 + Buffer.byteLength(id) > BUS_MAX_PAYLOAD) {
        this.#send(note)
        note = ''
      }
      note = note === '' ? id : `${note} ${id}`
    }
    this.#send(note)
    this.#pending.clear()
    this.#timer = setTimeout(() => { this.#flush() }, this.#o.coalesceMs)
    this.#timer.unref?.()
  }
}
