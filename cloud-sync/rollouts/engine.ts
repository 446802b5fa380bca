// The rollout engine (docs/deploy.md, "Rollouts"): sends desired state to a rollout's targets at its rate, judges
// each device from its up/reported (judge.ts), times out silent ones, aborts at the failure
// threshold and puts the moved devices back, and takes cancel and supersede. Every change runs
// in one lane and is written to the registry before anyone sees it, so a restarted cloud
// resumes from there. One timer for the whole engine, armed only while something can time
// out or is waiting for its rate: nothing per device, nothing when idle.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import type { ReportedFrame } from '../../src/wire/index.js'
import type { DesiredChange, Registry, RolloutDevice, RolloutRow, RolloutState } from '../registry/index.js'
import { goodBefore } from '../registry/deploy-plan.js'
import { deployEntry } from './desired.js'
import type { DesiredPublisher } from './desired.js'
import { followClosed } from './follow.js'
import { learnFromVerdict } from './learn.js'
import { planRevert } from './revert.js'
import { abortReason, countDevices, countKey, inWindow, judge, judgeable, owesVerdict, sameVerdict, supersededVerdict, VERDICT_FIELDS } from './judge.js'
import type { Verdict } from './judge.js'
import { allowedBy, dueAt, released } from './pace.js'
import { deployRow, deploySettings, resolveTargets, rollbackRow } from './plan.js'
import { ROLLOUT_DEFAULTS, rolloutView } from './types.js'
import type { DeployRequest, RollbackRequest, RolloutView } from './types.js'
import { steadyNow } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import { own } from '../../src/own.js'

export interface EngineOptions {
  registry: Registry
  desired: DesiredPublisher
  isConnected: (deviceId: string) => boolean
  clock: Clock
  tickMs?: number
  watchMs?: number
  log?: (line: string) => void
  /**
   * false: this engine drives nothing (another cloud instance holds the rollouts' lock,
   * docs/scale-out.md): it loads no rollout, a deploy or rollback only stores the new row (the
   * driving instance adopts it), and get() reads the registry. Default true.
   */
  drive?: boolean
  /** Called with a rollout's id after each change to it is stored (the cloud bus tells other instances). */
  onStored?: (id: string) => void
}

/** The engine's surface the API and the cloud use; the instance-shared one (coord/shared-rollouts.ts) has it too. */
export type Rollouts = Pick<RolloutEngine, 'deploy' | 'rollback' | 'cancel' | 'get' | 'list' | 'onChange' | 'onReported' | 'onConnect' | 'close'>

/** A rollout the engine watches: its row, where each device sits in it, what changed, and a copy of it as stored (for get). */
interface Live { row: RolloutRow, index: Map<string, number>, dirty: Set<number>, changed: boolean, stored?: RolloutRow }

export class RolloutEngine {
  readonly #o: EngineOptions & { tickMs: number, watchMs: number, drive: boolean }
  readonly #open = new Map<string, Live>()
  readonly #listeners = new Map<string, Set<() => void>>()
  /** Reports waiting for the next judging run (the newest per device), and that run. */
  readonly #reports = new Map<string, ReportedFrame>()
  #judging: Promise<void> | undefined
  #lane: Promise<unknown> = Promise.resolve()
  /** True while a change runs in the lane: the rows are then between two stored revisions. */
  #busy = false
  #timer: unknown
  #timerDue = Infinity
  #closed = false
  /**
   * Rollout time (when a device was sent, its timeout, pacing, createdAt and `at`): the wall
   * clock as it read when this engine started, plus the monotonic time since, so a step of the
   * cloud's wall clock neither holds a silent device's timeout for hours nor fails one sent a
   * second ago (docs/deploy.md, "Rollouts"). The next start takes the wall clock again, and so
   * does NTP setting a clock that read before 2021 (steadyNow).
   */
  readonly #now: () => number

  private constructor (o: EngineOptions) {
    this.#o = { tickMs: ROLLOUT_DEFAULTS.tickMs, watchMs: ROLLOUT_DEFAULTS.watchMs, ...o, drive: o.drive ?? true }
    this.#now = steadyNow(o.clock)
  }

  /** Loads the open rollouts from the registry and resumes them, judging reports that came while the cloud was down. */
  static async start (o: EngineOptions): Promise<RolloutEngine> {
    const e = new RolloutEngine(o)
    if (!e.#o.drive) return e
    // Oldest first, so a rollout stored by another instance while nobody drove supersedes the one it replaces.
    for (const row of (await o.registry.openRollouts()).sort((a, b) => a.createdAt - b.createdAt)) {
      e.#supersede(row)
      e.#track(row)
    }
    await e.#run(async () => {
      const ids = new Set([...e.#open.values()].flatMap((l) => l.row.devices.filter(judgeable).map((d) => d.id)))
      for (const id of ids) {
        const rep = await o.registry.getReported(id)
        if (rep !== undefined) await e.#judge(id, rep)
      }
    })
    return e
  }

  /** Starts a deploy rollout; a running rollout of the same function is superseded. Throws LAMBKIN_REQUEST_INVALID, LAMBKIN_DEVICE_NOT_FOUND. */
  async deploy (req: Partial<DeployRequest>): Promise<RolloutView> {
    const s = deploySettings(req)
    const b = typeof req.sha256 === 'string' ? await this.#o.registry.getBundle(req.sha256) : undefined
    if (b === undefined) throw new LambkinError(ErrorCodes.REQUEST_INVALID, `no bundle with sha256 ${String(req.sha256)} was uploaded; upload it first (POST /v1/bundles)`)
    const targets = await resolveTargets(this.#o.registry, req.to)
    return await this.#begin(async () => await deployRow(this.#o.registry, b, req.to as string, targets, s, this.#now()))
  }

  /** Starts a rollback rollout: each target back to the version before its current one. */
  async rollback (req: RollbackRequest): Promise<RolloutView> {
    const targets = await resolveTargets(this.#o.registry, req.to)
    return await this.#begin(async () => await rollbackRow(this.#o.registry, req, targets, this.#now()))
  }

  async #begin (make: () => Promise<Omit<RolloutRow, 'id'>>): Promise<RolloutView> {
    let id = ''
    await this.#run(async () => {
      const row = await this.#o.registry.createRollout(await make())
      id = row.id
      if (!this.#o.drive) return
      this.#supersede(row)
      this.#track(row)
    })
    if (!this.#o.drive) this.#o.onStored?.(id)
    return await this.get(id)
  }

  /** Older rollouts of `row`'s function stop: superseded when running or in a health window (its devices there end `superseded`), else unwatched. */
  #supersede (row: RolloutRow): void {
    for (const old of this.#open.values()) {
      if (old.row.fn !== row.fn || old.row.id === row.id) continue
      if (old.row.state === 'running') this.#finish(old, 'superseded', `superseded by rollout ${row.id}`)
      else if (old.row.state === 'done' && old.row.devices.some(inWindow)) this.#finish(old, 'superseded', `superseded by rollout ${row.id} before its health windows ended`)
      for (const [i, d] of old.row.devices.entries()) if (inWindow(d)) this.#set(old, i, supersededVerdict(row.id))
      old.row.open = false
      old.changed = true
    }
  }

  /** A rollout another instance stored (its id from the cloud bus): driven from here on when it is open and new here. */
  async adopt (id: string): Promise<void> {
    if (!this.#o.drive || this.#open.has(id)) return
    await this.#run(async () => {
      if (this.#open.has(id)) return
      const row = await this.#o.registry.getRollout(id)
      if (row === undefined || !row.open) return
      this.#supersede(row)
      this.#track(row)
    })
  }

  /** Cancels a running rollout (devices not yet reached keep their version; moved ones stay moved). Throws LAMBKIN_ROLLOUT_NOT_FOUND. */
  async cancel (id: string): Promise<RolloutView> {
    await this.get(id)
    await this.#run(async () => {
      const live = this.#open.get(id)
      if (live?.row.state === 'running') this.#finish(live, 'cancelled', 'cancelled by the operator: devices not yet reached keep their version, devices already moved stay moved (lambkin rollback reverts them)')
    })
    return await this.get(id)
  }

  /**
   * A rollout as the API shows it: one stored revision, never a row halfway through a change (a
   * device judged, its rollout not yet done). The engine's row while nothing runs, else the copy
   * kept at the last such read, else the registry's (which reads one snapshot). Throws LAMBKIN_ROLLOUT_NOT_FOUND.
   */
  async get (id: string): Promise<RolloutView> {
    const live = this.#open.get(id)
    if (live !== undefined && !this.#busy && !live.changed) live.stored = structuredClone(live.row)
    const row = live?.stored ?? await this.#o.registry.getRollout(id)
    if (row === undefined) throw new LambkinError(ErrorCodes.ROLLOUT_NOT_FOUND, `no rollout ${id}; see lambkin rollouts`)
    return rolloutView(structuredClone(row))
  }

  async list (limit?: number): Promise<RolloutView[]> {
    return (await this.#o.registry.listRollouts({ limit })).map(rolloutView)
  }

  /** Calls `cb` after each change to rollout `id` is stored; returns the unsubscribe. */
  onChange (id: string, cb: () => void): () => void {
    const set = this.#listeners.get(id) ?? new Set()
    set.add(cb)
    this.#listeners.set(id, set)
    return () => { set.delete(cb); if (set.size === 0 && this.#listeners.get(id) === set) this.#listeners.delete(id) }
  }

  /**
   * A device's report [W5] (already stored by ingest): judged in every rollout watching it.
   * Reports that arrive while the lane is busy are judged together in the next run, so a
   * fleet reporting at once costs a few registry writes, not one per device.
   */
  async onReported (device: string, rep: ReportedFrame): Promise<void> {
    this.#reports.set(device, rep)
    this.#judging ??= this.#run(async () => {
      this.#judging = undefined
      const batch = [...this.#reports]
      this.#reports.clear()
      for (const [id, r] of batch) {
        await this.#judge(id, r)
        await this.#followClosed(id, r)
      }
    })
    await this.#judging
  }

  /** Judges one device's report in every open rollout that holds it, then learns from each new verdict (#learn). */
  async #judge (device: string, rep: ReportedFrame): Promise<void> {
    for (const live of this.#open.values()) {
      const i = live.index.get(device)
      const d = i === undefined ? undefined : live.row.devices[i]
      const v = i !== undefined && d !== undefined && judgeable(d) ? judge(live.row, d, rep) : undefined
      if (i === undefined || d === undefined || v === undefined) continue
      // A timed-out device stays judgeable; the same verdict again is no change.
      if (sameVerdict(d, v)) continue
      const was = d.state
      this.#set(live, i, v)
      // Applied and then healthy is one answer for what the device runs: learnt once.
      if (was !== 'applied' || v.state !== 'applied') await this.#learn(live.row, d, v, rep)
    }
  }

  /** A report into the stored views of closed rollouts (follow.ts), then what each new verdict teaches (#learn). */
  async #followClosed (device: string, rep: ReportedFrame): Promise<void> {
    for (const { rollout, device: d, verdict } of await followClosed(this.#o.registry, (id) => this.#open.has(id), device, rep, this.#now())) {
      this.#o.log?.(`rollout ${rollout.id}: device ${device} is now ${d.state}${d.code === undefined ? '' : ` (${d.code})`} after its report`)
      for (const cb of this.#listeners.get(rollout.id) ?? []) cb()
      this.#o.onStored?.(rollout.id)
      await this.#learn(rollout, d, verdict, rep)
    }
  }

  /** What a verdict from a report teaches the registry: good history, and desired state converging to reality (learn.ts). */
  async #learn (r: Pick<RolloutRow, 'fn' | 'alias' | 'kind'>, d: RolloutDevice, v: Verdict, rep: ReportedFrame): Promise<void> {
    await learnFromVerdict(this.#o.registry, this.#o.desired, r, d, v, rep)
  }

  /** A device connected: its desired state again (unless `republish` is false: another instance sent it), and its timeout starts over where it was offline. */
  async onConnect (device: string, republish = true): Promise<void> {
    await this.#run(async () => {
      if (republish) await this.#o.desired.republish(device)
      for (const live of this.#open.values()) {
        const i = live.index.get(device)
        if (i !== undefined && live.row.devices[i].state === 'offline') this.#set(live, i, { state: 'sent' }, true)
      }
    })
  }

  async close (): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#lane
  }

  /** Drives `row` from here on; its counts are taken from its devices now and moved by #set from then on. */
  #track (row: RolloutRow): void {
    row.counts = countDevices(row.devices)
    this.#open.set(row.id, { row, index: new Map(row.devices.map((d, i) => [d.id, i])), dirty: new Set(), changed: true })
  }

  /**
   * Runs one change in the lane, then steps the rollouts it changed (every open one on a tick,
   * which is when timeouts and paced devices come due), stores what changed, tells listeners
   * and re-arms the timer.
   */
  async #run (fn: () => Promise<void>, all = false): Promise<void> {
    const run = this.#lane.then(async () => {
      this.#busy = true
      try {
        await fn()
        for (const live of this.#open.values()) if (all || live.changed) await this.#step(live)
        await this.#flush()
      } finally {
        this.#busy = false
        // Also after a failed write: the next tick tries again, so nothing waits for ever.
        this.#arm()
      }
    })
    this.#lane = run.catch((err: Error) => { this.#o.log?.(`rollouts: ${err.message}`) })
    await run
  }

  #set (live: Live, i: number, v: Partial<RolloutDevice> & Pick<RolloutDevice, 'state'>, restart = false): void {
    const d = live.row.devices[i]
    const now = this.#now()
    // The counts move with the device, so a view read before the next flush agrees with its devices.
    live.row.counts[countKey(d.state)]--
    for (const k of VERDICT_FIELDS) delete d[k]
    Object.assign(d, v, { at: now })
    live.row.counts[countKey(d.state)]++
    if (restart) d.sentAt = now
    live.dirty.add(i)
    live.changed = true
  }

  /** Ends a running rollout: devices not sent are skipped with why. */
  #finish (live: Live, state: RolloutState, reason: string): void {
    const r = live.row
    r.state = state
    r.reason = reason
    r.finishedAt = this.#now()
    live.changed = true
    for (const [i, d] of r.devices.entries()) {
      if (d.state === 'pending' || (state === 'superseded' && (d.state === 'sent' || d.state === 'offline'))) {
        this.#set(live, i, { state: 'skipped', code: ErrorCodes.ROLLOUT_ABORTED, message: d.state === 'pending' ? `not sent: ${reason}` : `no report before it was ${reason}` })
      }
    }
  }

  /** Timeouts, the abort rule, releasing paced devices, done, and whether to keep watching. */
  async #step (live: Live): Promise<void> {
    const r = live.row
    const now = this.#now()
    for (const [i, d] of r.devices.entries()) {
      if (d.state !== 'sent' || (d.sentAt ?? 0) + r.timeoutMs > now) continue
      if (this.#o.isConnected(d.id)) this.#set(live, i, { state: 'failed', code: ErrorCodes.DEPLOY_TIMEOUT, message: `connected but no report on deployment ${String(d.deploymentId)} within ${r.timeoutMs} ms` })
      else this.#set(live, i, { state: 'offline' })
    }
    const reason = r.state === 'running' ? abortReason(r) : undefined
    if (reason !== undefined) await this.#abort(live, reason)
    if (r.state === 'running') await this.#release(live, now)
    if (r.state === 'running' && r.counts.pending === 0 && r.counts.sent === 0) {
      r.state = 'done'
      r.finishedAt = now
      live.changed = true
    }
    // A finished rollout watches for watchMs, and past that while a device owes it a verdict.
    const watching = r.state === 'running' || ((r.state === 'done' || r.state === 'cancelled') && (owesVerdict(r) || now < (r.finishedAt ?? now) + this.#o.watchMs))
    if (r.open && !watching) { r.open = false; live.changed = true }
  }

  /** Sends the next devices the rate allows: their desired state, all in one registry write. */
  async #release (live: Live, now: number): Promise<void> {
    const r = live.row
    const take = r.devices.map((d, i) => [d, i] as const).filter(([d]) => d.state === 'pending').slice(0, Math.max(0, allowedBy(r, now) - released(r)))
    if (take.length === 0) return
    const bundle = r.kind === 'deploy' ? await this.#o.registry.getBundle(r.sha256) : undefined
    const changes: DesiredChange[] = []
    for (const [d, i] of take) {
      const slot = own((await this.#o.registry.getDesired(d.id))?.functions, r.fn)
      const to = r.kind === 'rollback' ? goodBefore(slot) : bundle === undefined ? undefined : deployEntry(bundle, r.alias, r.weight, slot?.current)
      if (to === undefined) this.#set(live, i, { state: 'skipped', message: r.kind === 'rollback' ? `no previous version of ${r.fn} that this device applied and kept is known here any more` : `no live version of ${r.fn} here any more for a canary to split with` })
      else changes.push({ device: d.id, fn: r.fn, to, rollout: { id: r.id, index: i } })
    }
    const rows = await this.#o.desired.apply(changes)
    for (const row of rows) {
      const i = live.index.get(row.device) as number
      const version = own(row.functions, r.fn)?.current?.live.version
      this.#set(live, i, { state: this.#o.isConnected(row.device) ? 'sent' : 'offline', deploymentId: row.deploymentId, ...(r.kind === 'rollback' && version !== undefined ? { version } : {}) }, true)
    }
  }

  /**
   * Stops a running rollout at its threshold: pending devices are not sent; moved ones go back
   * to the newest entry they applied and kept before (goodBefore), or lose the function when
   * there is none, each under a new deployment id; the aborted version leaves their history.
   */
  async #abort (live: Live, reason: string): Promise<void> {
    const r = live.row
    this.#finish(live, 'aborted', reason)
    const { changes, notes, moved } = await planRevert(this.#o.registry, r)
    await this.#o.registry.noteHistory(notes)
    const rows = new Map((await this.#o.desired.apply(changes)).map((row) => [row.device, row]))
    for (const i of moved) {
      const row = rows.get(r.devices[i].id)
      const back = own(row?.functions, r.fn)?.current?.live.version
      this.#set(live, i, { state: 'rolled-back', code: ErrorCodes.ROLLOUT_ABORTED, message: `rollout aborted: back to ${back === undefined ? 'no deployed version' : `version ${back}`} (deployment ${String(row?.deploymentId)})` })
    }
    r.open = false
  }

  async #flush (): Promise<void> {
    for (const [id, live] of [...this.#open]) {
      if (!live.changed) continue
      live.row.revision++
      await this.#o.registry.putRollout(live.row, live.dirty)
      live.dirty.clear()
      live.changed = false
      live.stored = undefined
      if (!live.row.open) this.#open.delete(id)
      for (const cb of this.#listeners.get(id) ?? []) cb()
      this.#o.onStored?.(id)
    }
  }

  /** One timer: at the earliest time a device can time out, a paced device is due, or a watch ends. */
  #arm (): void {
    if (this.#closed || !this.#o.drive) return
    const now = this.#now()
    let due = Infinity
    for (const { row } of this.#open.values()) due = Math.min(due, dueAt(row, now, this.#o.tickMs, this.#o.watchMs))
    if (due === Infinity || (this.#timer !== undefined && this.#timerDue <= due)) return
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timerDue = due
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined
      this.#timerDue = Infinity
      return this.#run(async () => {}, true).catch(() => {})
    }, Math.max(0, due - now))
  }
}
