// Rollouts when several cloud instances share one PostgreSQL (docs/scale-out.md, "Several
// instances"): every instance answers the API, one drives. The instance holding the rollouts'
// lock (pg-coordinator.ts) runs the full engine, resumed from the registry each time it gains the
// lock (the rate counts from the row's createdAt and the devices already released, both stored,
// so the next leader keeps the same pace); the others run it with drive: false. What reaches a
// non-leader and matters to the leader goes over the cloud bus as ids: a rollout it stored,
// a cancel, a device's stored report, a device's connect; each stored change of a rollout is
// told to every instance, which wakes its followers (GET /v1/rollouts/:id?since&wait).
import type { ReportedFrame } from '../../src/wire/index.js'
import type { EngineOptions, Rollouts } from '../rollouts/engine.js'
import { RolloutEngine } from '../rollouts/engine.js'
import type { DeployRequest, RollbackRequest, RolloutView } from '../rollouts/types.js'
import type { PgCoordinator } from './pg-coordinator.js'

/** How long a cancel through a non-leading instance waits for the leader to store it, ms. */
const CANCEL_WAIT_MS = 5000

export type { Rollouts }

export class SharedRollouts implements Rollouts {
  readonly #o: EngineOptions
  readonly #coord: PgCoordinator
  readonly #listeners = new Map<string, Set<() => void>>()
  readonly #offs: Array<() => void> = []
  #engine: RolloutEngine
  /** Leadership changes, one at a time. */
  #swap: Promise<void> = Promise.resolve()
  #closed = false

  private constructor (o: EngineOptions, coord: PgCoordinator, engine: RolloutEngine) {
    this.#o = o
    this.#coord = coord
    this.#engine = engine
  }

  static async start (o: EngineOptions, coord: PgCoordinator): Promise<SharedRollouts> {
    const opts: EngineOptions = { ...o, onStored: (id) => { coord.publish('rollout', id, true) } }
    const s = new SharedRollouts(opts, coord, await RolloutEngine.start({ ...opts, drive: coord.leading }))
    // What only the leader acts on; the payload is an id.
    const leader = (fn: (e: RolloutEngine, id: string) => Promise<void>) => (id: string): void => {
      if (!coord.leading || id === '') return
      fn(s.#engine, id).catch((err: Error) => { o.log?.(`rollouts: ${err.message}`) })
    }
    const adopt = leader(async (e, id) => { await e.adopt(id) })
    s.#offs.push(
      coord.subscribe('rollout', (id) => {
        for (const cb of [...(s.#listeners.get(id) ?? [])]) cb()
        adopt(id)
      }),
      coord.subscribe('cancel', leader(async (e, id) => { await e.cancel(id) })),
      coord.subscribe('reported', leader(async (e, id) => {
        const rep = await o.registry.getReported(id)
        if (rep !== undefined) await e.onReported(id, rep)
      })),
      coord.subscribe('connect', leader(async (e, id) => { await e.onConnect(id, false) })),
      coord.onLeadership((leading) => { s.#lead(leading) })
    )
    return s
  }

  #lead (leading: boolean): void {
    this.#swap = this.#swap.then(async () => {
      if (this.#closed) return
      const old = this.#engine
      await old.close()
      this.#engine = await RolloutEngine.start({ ...this.#o, drive: leading })
    }).catch((err: Error) => { this.#o.log?.(`rollouts: ${leading ? 'taking over' : 'handing over'} failed: ${err.message}`) })
  }

  async deploy (req: Partial<DeployRequest>): Promise<RolloutView> { return await this.#engine.deploy(req) }
  async rollback (req: RollbackRequest): Promise<RolloutView> { return await this.#engine.rollback(req) }
  async get (id: string): Promise<RolloutView> { return await this.#engine.get(id) }
  async list (limit?: number): Promise<RolloutView[]> { return await this.#engine.list(limit) }

  /** Cancels here when leading; otherwise asks the leader over the bus and waits (up to CANCEL_WAIT_MS) for the stored result. */
  async cancel (id: string): Promise<RolloutView> {
    if (this.#coord.leading) return await this.#engine.cancel(id)
    const before = await this.get(id)
    if (before.state !== 'running') return before
    await new Promise<void>((resolve) => {
      let off = (): void => {}
      const done = (): void => { clearTimeout(timer); off(); resolve() }
      const timer = setTimeout(done, CANCEL_WAIT_MS)
      off = this.onChange(id, () => { this.get(id).then((v) => { if (v.state !== 'running') done() }, done) })
      this.#coord.publish('cancel', id, true)
    })
    return await this.get(id)
  }

  /** Calls `cb` after each change to rollout `id` is stored, by whichever instance stored it. */
  onChange (id: string, cb: () => void): () => void {
    const set = this.#listeners.get(id) ?? new Set()
    set.add(cb)
    this.#listeners.set(id, set)
    return () => { set.delete(cb); if (set.size === 0 && this.#listeners.get(id) === set) this.#listeners.delete(id) }
  }

  /** A report stored by this instance: judged here when leading, else the leader is told. */
  async onReported (device: string, rep: ReportedFrame): Promise<void> {
    if (this.#coord.leading) await this.#engine.onReported(device, rep)
    else this.#coord.publish('reported', device, true)
  }

  /** A device connected here: its desired state from here, and the leader is told (its timeout starts over). */
  async onConnect (device: string): Promise<void> {
    if (this.#coord.leading) { await this.#engine.onConnect(device); return }
    await this.#engine.onConnect(device)
    this.#coord.publish('connect', device, true)
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const off of this.#offs.splice(0)) off()
    await this.#swap
    await this.#engine.close()
  }
}
