// The order of a function's commits when its calls change ctx.state (invoker.ts; docs/durability.md,
// "A commit that fails is not acknowledged"). A sandbox instance hands the state one call produced
// to the call queued behind it before the first call's commit, so a later call's state may hold a
// change that is never stored. Per function: the commits of outcomes that changed the state are
// written one after another, every other outcome of the function waits for the state commit
// pending before it, and a failed state commit starts a new epoch: an outcome from an attempt
// sent to the sandbox in an older epoch is not written but fails too (its trigger message is
// redelivered), whether it changed the state or only read it, since that state may never exist.
// A function none of whose outcomes changed its state takes none of this: its commits go at once.

/** One function's lane: its epoch and the state commit the next ones wait for. */
interface Lane {
  epoch: number
  /** Settles (never rejects) once the latest state commit queued so far has settled. */
  tail: Promise<void> | undefined
}

const settled = (): void => {}

export class StateChain {
  readonly #lanes = new Map<string, Lane>()

  /** The epoch of `fn` now: what an attempt sent to the sandbox now records. */
  epoch (fn: string): number {
    return this.#lanes.get(fn)?.epoch ?? 0
  }

  /** True when a state commit of `fn` failed after an attempt of epoch `epoch` was sent. */
  stale (fn: string, epoch: number): boolean {
    return epoch < this.epoch(fn)
  }

  /**
   * A state commit of `fn` failed: every attempt sent before now may have run on its state.
   * Called before that commit's place in the chain settles, so the commits behind it see it.
   */
  failed (fn: string): void {
    const lane = this.#lanes.get(fn)
    if (lane === undefined) this.#lanes.set(fn, { epoch: 1, tail: undefined })
    else lane.epoch++
  }

  /**
   * Writes one outcome of `fn` (from an attempt of epoch `epoch`) in its turn: `write` starts the
   * commit and returns a promise that settles once the commit's outcome is handled (after
   * failed() for a failed state commit); `stale` answers instead of writing when an earlier state
   * commit failed after the attempt was sent. `changesState`: the outcome carries a new ctx.state,
   * and the commits after it wait for it. Nothing of the function pending: written at once.
   */
  commit (fn: string, epoch: number, changesState: boolean, write: () => Promise<unknown>, stale: () => void): void {
    let lane = this.#lanes.get(fn)
    if (lane?.tail === undefined && !changesState) {
      // The relay path: nothing of the function pending, so nothing to wait for.
      if (lane !== undefined && epoch < lane.epoch) stale()
      else void write()
      return
    }
    const go = (): Promise<unknown> | undefined => {
      if (this.stale(fn, epoch)) {
        stale()
        return undefined
      }
      return write()
    }
    if (lane === undefined) {
      lane = { epoch: 0, tail: undefined }
      this.#lanes.set(fn, lane)
    }
    const done = (lane.tail === undefined ? Promise.resolve(go()) : lane.tail.then(go)).then(settled, settled)
    if (!changesState) return
    const l = lane
    l.tail = done
    void done.then(() => { if (l.tail === done) l.tail = undefined })
  }
}
