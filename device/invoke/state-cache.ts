// The invoker's copy of each function's ctx.state (invoker.ts): the latest state seen in an
// outcome, the one read from the store when none is known, and the reload after a state commit
// failed (docs/durability.md, "A commit that fails is not acknowledged").
import type { OutboxStore } from '../store/index.js'
import type { StateChain, ChainItem } from './state-chain.js'

/** A function's latest ctx.state, its version, and, once a call needed it, its JSON. */
export interface KnownState { value: unknown, version: number, json?: string }

export class StateCache {
  /** Calls sent while a version is the newest share its one stringify (KnownState.json). */
  readonly #state = new Map<string, KnownState>()
  /** Functions whose state must be reloaded after a failed commit, with the version to use. */
  readonly #reload = new Map<string, number>()
  /**
   * The one read of a function's state under way. Calls that find no state all wait on it, so
   * they go on in the order they came: a read each would let LevelDB answer them in any order,
   * and a function with concurrency 1 would run a burst of messages out of order (at start,
   * when a broker hands over what waited for the agent).
   */
  readonly #loads = new Map<string, Promise<void>>()

  constructor (private readonly store: Pick<OutboxStore, 'getState'>, private readonly chain: Pick<StateChain<ChainItem>, 'settled'>) {}

  /** `fn`'s state as the invoker knows it, or undefined when it must be read first (load()). */
  get (fn: string): KnownState | undefined {
    return this.#state.get(fn)
  }

  /** Takes a newer state an outcome carries (the caller checked that its epoch is current). */
  set (fn: string, value: unknown, version: number): void {
    this.#state.set(fn, { value, version })
  }

  /** Reads `fn`'s stored state, once for all the calls waiting for it; rejects with the store's error. */
  load (fn: string): Promise<void> {
    let load = this.#loads.get(fn)
    if (load === undefined) {
      load = (async () => {
        try {
          // After a failed commit the reloaded copy gets a version above any the sandbox holds,
          // so it is taken over the state the failed invocation produced, which was never stored.
          // The state commits already handed to the store settle first: the stored state is then the last committed one.
          await this.chain.settled(fn)
          const version = this.#reload.get(fn) ?? 0
          const value = (await this.store.getState(fn)) ?? {}
          if (!this.#state.has(fn)) this.#state.set(fn, { value, version })
          this.#reload.delete(fn)
        } finally {
          this.#loads.delete(fn)
        }
      })()
      this.#loads.set(fn, load)
    }
    return load
  }

  /**
   * A state commit of `fn` failed (its state was handed on in the sandboxes but never stored): the
   * next call reads the stored state again, with a version above any the sandboxes can reach from
   * the attempts already sent (at most `maxConcurrent`, each one version up, above `outcomeVersion`).
   */
  drop (fn: string, outcomeVersion: number, maxConcurrent: number): void {
    const highest = Math.max(this.#state.get(fn)?.version ?? 0, outcomeVersion, this.#reload.get(fn) ?? 0)
    this.#reload.set(fn, highest + 1 + maxConcurrent)
    this.#state.delete(fn)
  }
}
