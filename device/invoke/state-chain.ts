// The order of a function's commits when its calls change ctx.state (invoker.ts; docs/durability.md,
// "A commit that fails is not acknowledged"). A sandbox instance hands the state one call produced
// to the call queued behind it before the first call's commit is written, so a later call's state
// may hold a change that is never stored. Per function, a commit waits only until the state commit
// before it holds its place in the store's write queue (commit()'s `queued`): from there the store
// writes them in order and fails the ones queued after a failed one, so the group commit is kept.
// A state commit refused before it was queued (over the quota, or a store with no queue) is waited
// for until it settles. A failed state commit starts a new epoch: an outcome from an attempt sent
// to the sandbox in an older epoch is not written but fails too (its trigger message comes again),
// whether it changed the state or only read it, since that state may never have existed.
// A function none of whose outcomes changed its state takes none of this: its commits go at once.

/** One outcome to write: the epoch its attempt was sent in, and whether it carries a new ctx.state. */
export interface ChainItem {
  epoch: number
  changesState: boolean
}

/**
 * A state commit's handle: called with no argument once the store queued it, and with `true`
 * once it settled (after StateChain.failed() when it failed). Either call may come first, each
 * counts once.
 */
export type Release = (settled?: boolean) => void

interface Lane<T> {
  epoch: number
  /** A state commit is neither queued by the store nor settled yet: the commits after it wait. */
  held: boolean
  draining: boolean
  waiting: T[]
  /** State commits handed to the store and not yet settled. */
  inStore: number
  /** Resolved once inStore is 0 (settled()). */
  idle: Array<() => void>
}

export class StateChain<T extends ChainItem> {
  readonly #lanes = new Map<string, Lane<T>>()
  readonly #write: (item: T, release: Release | undefined) => void
  readonly #stale: (item: T) => void

  /**
   * `write` starts an item's commit; a state commit gets its Release, which the writer passes to
   * the store as `queued` and calls with `true` once the commit settled. `stale` answers instead of
   * writing when a state commit of the function failed after the item's attempt was sent.
   */
  constructor (write: (item: T, release: Release | undefined) => void, stale: (item: T) => void) {
    this.#write = write
    this.#stale = stale
  }

  /** The epoch of `fn` now: what an attempt sent to the sandbox now records. */
  epoch (fn: string): number {
    return this.#lanes.get(fn)?.epoch ?? 0
  }

  /** True when a state commit of `fn` failed after an attempt of epoch `epoch` was sent. */
  stale (fn: string, epoch: number): boolean {
    return epoch < this.epoch(fn)
  }

  /** A state commit of `fn` failed: every attempt sent before now may have run on its state. */
  failed (fn: string): void {
    this.#lane(fn).epoch++
  }

  /** Resolves once every state commit of `fn` handed to the store so far has settled; undefined if none is pending. */
  settled (fn: string): Promise<void> | undefined {
    const lane = this.#lanes.get(fn)
    if (lane === undefined || lane.inStore === 0) return undefined
    return new Promise((resolve) => { lane.idle.push(resolve) })
  }

  /** Writes `item`, an outcome of `fn`, in its turn. Nothing of the function pending: at once. */
  commit (fn: string, item: T): void {
    let lane = this.#lanes.get(fn)
    if (lane === undefined) {
      // The relay path: a function that never changed its state.
      if (!item.changesState) {
        this.#write(item, undefined)
        return
      }
      lane = this.#lane(fn)
    }
    if (lane.held || lane.waiting.length > 0) lane.waiting.push(item)
    else this.#go(lane, item)
  }

  #lane (fn: string): Lane<T> {
    let lane = this.#lanes.get(fn)
    if (lane === undefined) {
      lane = { epoch: 0, held: false, draining: false, waiting: [], inStore: 0, idle: [] }
      this.#lanes.set(fn, lane)
    }
    return lane
  }

  #go (lane: Lane<T>, item: T): void {
    if (item.epoch < lane.epoch) {
      this.#stale(item)
      return
    }
    if (!item.changesState) {
      this.#write(item, undefined)
      return
    }
    lane.held = true
    lane.inStore++
    let queued = false
    let done = false
    this.#write(item, (settled = false) => {
      if (!queued) {
        queued = true
        lane.held = false
        this.#drain(lane)
      }
      if (settled && !done) {
        done = true
        if (--lane.inStore === 0) for (const resolve of lane.idle.splice(0)) resolve()
      }
    })
  }

  /** Writes the waiting items in order until one holds the lane; not re-entered (a store may release at once). */
  #drain (lane: Lane<T>): void {
    if (lane.draining) return
    lane.draining = true
    try {
      while (!lane.held && lane.waiting.length > 0) this.#go(lane, lane.waiting.shift() as T)
    } finally {
      lane.draining = false
    }
  }
}
