// One writer at a time, and group commit: jobs that arrive while a write is in flight wait,
// and consecutive coalescable ones (commits) then go to the runner together as one batch.
// A lazy job (a removal nothing waits on to be durable) does not start a write by itself
// while the lane is idle: it rides with the next job pushed, or goes LAZY_MS later.

/** How long a lazy job pushed onto an idle lane waits for company, ms. */
export const LAZY_MS = 20

export interface LaneJob<J, R> {
  job: J
  coalesce: boolean
  /** A push(): its promise's settlers. A pushThen(): `done` instead. */
  resolve?: (r: R) => void
  reject?: (err: unknown) => void
  done?: LaneDone<R>
}

/** How a pushThen() job hears its outcome: `(undefined, result)` once written, `(err)` when its group failed. */
export type LaneDone<R> = (err: unknown, result?: R) => void

/** Runs a group of jobs as one write; returns one result per job, or throws to fail them all. */
export type LaneRunner<J, R> = (jobs: J[]) => Promise<R[]>

export class WriteLane<J, R> {
  readonly #queue: Array<LaneJob<J, R>> = []
  readonly #run: LaneRunner<J, R>
  readonly #maxGroup: number
  #draining: Promise<void> | null = null
  /** Armed while only lazy jobs wait on an idle lane. */
  #lazyTimer: ReturnType<typeof setTimeout> | undefined

  constructor (run: LaneRunner<J, R>, maxGroup = 4096) {
    this.#run = run
    this.#maxGroup = maxGroup
  }

  /**
   * Queues `job`; resolves with its result once its group is written. `lazy` (coalescable
   * jobs only): on an idle lane, wait up to LAZY_MS for another job to share the write.
   */
  push (job: J, coalesce: boolean, lazy = false): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ job, coalesce, resolve, reject })
      if (this.#draining !== null) return
      if (lazy && coalesce) {
        this.#lazyTimer ??= setTimeout(() => { this.#start() }, LAZY_MS)
        return
      }
      this.#start()
    })
  }

  /**
   * push() with the outcome told to `done` as its group settles, in the job's turn among the
   * group's, instead of a promise and a microtask per job (the relay path commits one job per
   * message: docs/performance.md, "The relay job"). Not lazy. A throw from `done` is not caught
   * as the group's failure: it is thrown again on its own, as a throw in a then() callback would be
   * left unhandled.
   */
  pushThen (job: J, coalesce: boolean, done: LaneDone<R>): void {
    this.#queue.push({ job, coalesce, done })
    if (this.#draining === null) this.#start()
  }

  /** Resolves once every job pushed so far has settled (lazy ones are written at once). */
  async idle (): Promise<void> {
    for (;;) {
      if (this.#draining === null && this.#queue.length > 0) this.#start()
      if (this.#draining === null) return
      await this.#draining
    }
  }

  #start (): void {
    clearTimeout(this.#lazyTimer)
    this.#lazyTimer = undefined
    if (this.#draining === null) this.#draining = this.#drain()
  }

  async #drain (): Promise<void> {
    // Let the caller's synchronous burst of pushes land first, so even the first write groups them.
    await Promise.resolve()
    try {
      while (this.#queue.length > 0) {
        const group = this.#take()
        let results: R[] | undefined
        let failure: unknown
        try {
          results = await this.#run(group.map((g) => g.job))
        } catch (err) {
          failure = err
        }
        for (let i = 0; i < group.length; i++) settle(group[i] as LaneJob<J, R>, results, i, failure)
      }
    } finally {
      this.#draining = null
    }
  }

  #take (): Array<LaneJob<J, R>> {
    const head = this.#queue.shift() as LaneJob<J, R>
    const group = [head]
    if (!head.coalesce) return group
    while (group.length < this.#maxGroup && this.#queue.length > 0 && this.#queue[0].coalesce) {
      group.push(this.#queue.shift() as LaneJob<J, R>)
    }
    return group
  }
}

/** Tells one job of a group its result (`results` given) or the group's `failure`. */
function settle<J, R> (g: LaneJob<J, R>, results: R[] | undefined, i: number, failure: unknown): void {
  if (g.done === undefined) {
    if (results !== undefined) g.resolve?.(results[i] as R)
    else g.reject?.(failure)
    return
  }
  try {
    if (results !== undefined) g.done(undefined, results[i])
    else g.done(failure)
  } catch (err) {
    // Not the group's failure (the other jobs are told as they were): thrown on its own.
    queueMicrotask(() => { throw err })
  }
}
