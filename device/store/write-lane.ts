// One writer at a time, and group commit: jobs that arrive while a write is in flight wait,
// and consecutive coalescable ones (commits) then go to the runner together as one batch.

export interface LaneJob<J, R> {
  job: J
  coalesce: boolean
  resolve: (r: R) => void
  reject: (err: unknown) => void
}

/** Runs a group of jobs as one write; returns one result per job, or throws to fail them all. */
export type LaneRunner<J, R> = (jobs: J[]) => Promise<R[]>

export class WriteLane<J, R> {
  readonly #queue: Array<LaneJob<J, R>> = []
  readonly #run: LaneRunner<J, R>
  readonly #maxGroup: number
  #draining: Promise<void> | null = null

  constructor (run: LaneRunner<J, R>, maxGroup = 4096) {
    this.#run = run
    this.#maxGroup = maxGroup
  }

  push (job: J, coalesce: boolean): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ job, coalesce, resolve, reject })
      if (this.#draining === null) this.#draining = this.#drain()
    })
  }

  /** Resolves once every job pushed so far has settled. */
  async idle (): Promise<void> {
    while (this.#draining !== null) await this.#draining
  }

  async #drain (): Promise<void> {
    // Let the caller's synchronous burst of pushes land first, so even the first write groups them.
    await Promise.resolve()
    try {
      while (this.#queue.length > 0) {
        const group = this.#take()
        try {
          const results = await this.#run(group.map((g) => g.job))
          group.forEach((g, i) => { g.resolve(results[i] as R) })
        } catch (err) {
          for (const g of group) g.reject(err)
        }
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
