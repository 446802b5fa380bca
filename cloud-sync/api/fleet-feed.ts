// The dashboard's view of the fleet, kept current by reading the registry through its
// interface only (so it works the same on any backend and on any instance): each refresh lists
// the devices and the newest rollouts, re-reads a device's report and desired state when its row
// or a rollout touching it changed, its metric snapshots when its high-water moved, and hands
// what changed to the subscribers (the /v1/events streams). It polls only while someone
// subscribes, at a pace that keeps it busy at most a sixth of the time (docs/dashboard.md).
import { ageClock } from '../../src/clock.js'
import type { Clock } from '../../src/clock.js'
import type { DesiredRow, DeviceRow, Registry, ReportedRow } from '../registry/index.js'
import type { FleetChange, FleetPage, FleetRow, FleetSummary, FleetView, RolloutLine } from './dashboard-types.js'
import { fleetRow, fleetSummary, rolloutLine } from './fleet-rows.js'
import { MINUTE_MS, MetricWindow } from './metric-window.js'
import { deviceState, recentTakeovers } from './views.js'

export const FEED_DEFAULTS = Object.freeze({
  /** Fastest refresh, ms: a small fleet's change reaches the page within about this. */
  minPollMs: 100,
  /** Slowest refresh, ms. */
  maxPollMs: 5000,
  /** Wait between refreshes as a multiple of the last one's duration (5: busy at most a sixth of the time). */
  loadFactor: 5,
  /** Rollouts listed and watched. */
  rollouts: 20,
  /** Registry reads in flight at once while refreshing. */
  concurrency: 16,
  /** With `wake` and notes flowing: the slowest a quiet fleet is refreshed, ms (a note refreshes at the pace above). */
  quietPollMs: 1000
})

/** Notes that something the view shows changed, from any cloud instance (coord/stored-notes.ts). */
export interface FeedWake {
  listen: (cb: () => void) => () => void
  /** Whether notes flow now; while not, the feed refreshes at its pace as without them. */
  up: () => boolean
}

export interface FeedOptions {
  registry: Registry
  isConnected: (id: string) => boolean
  clock: Clock
  minPollMs?: number
  maxPollMs?: number
  /** The time device takeovers are counted against (broker/takeovers.ts, Takeovers.now); default the clock's now(). */
  takeoversNow?: () => number
  /**
   * Wakes a refresh when any instance noted a change, so a quiet fleet is polled only every
   * quietPollMs (what no note covers, heartbeats and connection states, shows within that).
   */
  wake?: FeedWake
}

interface Entry {
  /** The registry row as JSON: any change to it (a new field too) counts as a change. */
  json: string
  device: DeviceRow
  reported?: ReportedRow
  desired?: DesiredRow
  window: MetricWindow
  row?: FleetRow
  rowJson?: string
  /** Its report, desired state or metric window was read again since its row was built. */
  dirty: boolean
}

export type FleetListener = (change: FleetChange) => void

/** Runs `fn` over `items` with at most `n` at once. */
async function eachLimited<T> (items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => { while (next < items.length) await fn(items[next++]) }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
}

export class FleetFeed {
  readonly #o: FeedOptions & { minPollMs: number, maxPollMs: number }
  readonly #entries = new Map<string, Entry>()
  readonly #revisions = new Map<string, number>()
  /** Per watched rollout, each device's state in it, to re-read only the devices that moved. */
  readonly #rolloutDevices = new Map<string, Map<string, string>>()
  readonly #listeners = new Set<FleetListener>()
  /** Told when a scheduled refresh fails (the registry down), so a live view does not stay on stale rows unaware. */
  readonly #faultListeners = new Map<FleetListener, (err: unknown) => void>()
  #rollouts: RolloutLine[] = []
  /** The entries' ids in code-unit order, for pages; made again after one is added or removed. */
  #order: string[] | undefined
  #summary: FleetSummary | undefined
  #summaryJson = ''
  #now = 0
  #minute = 0
  #refreshing: Promise<void> | undefined
  /**
   * When the last refresh ended and when the pending timer fires, on the clock that never jumps
   * (Clock.monotonic): a wall clock stepped back would otherwise leave the view and the live
   * feed on an hours-old refresh until the clock caught up.
   */
  readonly #elapsed: () => number
  #lastRefresh = -Infinity
  #lastCost = 0
  #timer: unknown
  #due = 0
  #offWake: (() => void) | undefined
  /** A note came while a refresh ran: the next comes at the pace, not the quiet poll. */
  #nudged = false
  #closed = false

  constructor (o: FeedOptions) {
    this.#o = { minPollMs: FEED_DEFAULTS.minPollMs, maxPollMs: FEED_DEFAULTS.maxPollMs, ...o }
    this.#elapsed = ageClock(o.clock).monotonic
  }

  /** The whole fleet as of a refresh at most `maxAgeMs` old (refreshing first when older). */
  async view (maxAgeMs = 1000): Promise<FleetView> {
    if (this.#elapsed() - this.#lastRefresh >= maxAgeMs || this.#summary === undefined) await this.refresh()
    const devices: FleetRow[] = []
    for (const e of this.#entries.values()) if (e.row !== undefined) devices.push(e.row)
    return { now: this.#now, summary: this.#summary as FleetSummary, devices, rollouts: this.#rollouts }
  }

  /**
   * One page of the fleet as of a refresh at most `maxAgeMs` old: the rows whose id sorts after
   * `after` (code-unit order, as /v1/devices pages), at most `limit`, with the whole fleet's
   * summary and rollouts, and the `after` of the next page (null: none).
   */
  async page (p: { after?: string, limit: number }, maxAgeMs = 1000): Promise<FleetPage> {
    if (this.#elapsed() - this.#lastRefresh >= maxAgeMs || this.#summary === undefined) await this.refresh()
    this.#order ??= [...this.#entries.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
    const order = this.#order
    // The first id after the cursor, by binary search.
    let lo = 0
    let hi = order.length
    if (p.after !== undefined) {
      const after = p.after
      while (lo < hi) { const mid = (lo + hi) >>> 1; if (order[mid] <= after) lo = mid + 1; else hi = mid }
    }
    const devices: FleetRow[] = []
    let i = lo
    for (; i < order.length && devices.length < p.limit; i++) {
      const row = this.#entries.get(order[i])?.row
      if (row !== undefined) devices.push(row)
    }
    const next = i < order.length && devices.length > 0 ? devices[devices.length - 1].id : null
    return { now: this.#now, summary: this.#summary as FleetSummary, devices, rollouts: this.#rollouts, next }
  }

  /**
   * Calls `fn` with each refresh's changes until the returned function is called; refreshes run
   * while anyone listens. `onFault` is called with the error of a refresh that failed (a
   * registry fault such as LAMBKIN_DB_UNAVAILABLE); refreshes go on trying meanwhile.
   */
  subscribe (fn: FleetListener, onFault?: (err: unknown) => void): () => void {
    this.#listeners.add(fn)
    if (onFault !== undefined) this.#faultListeners.set(fn, onFault)
    if (this.#listeners.size === 1) {
      this.#offWake = this.#o.wake?.listen(() => { this.#nudge() })
      this.#schedule(0)
    }
    return () => {
      this.#listeners.delete(fn)
      this.#faultListeners.delete(fn)
      if (this.#listeners.size > 0) return
      this.#offWake?.()
      this.#offWake = undefined
      if (this.#timer !== undefined) { this.#o.clock.clearTimeout(this.#timer); this.#timer = undefined }
    }
  }

  close (): void {
    this.#closed = true
    this.#offWake?.()
    this.#offWake = undefined
    this.#listeners.clear()
    this.#faultListeners.clear()
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** The wait between refreshes that keeps this busy at most a sixth of the time, ms. */
  #pace (): number {
    return Math.min(this.#o.maxPollMs, Math.max(this.#o.minPollMs, this.#lastCost * FEED_DEFAULTS.loadFactor))
  }

  #schedule (ms: number): void {
    if (this.#closed || this.#listeners.size === 0 || this.#timer !== undefined) return
    this.#due = this.#elapsed() + ms
    this.#timer = this.#o.clock.setTimeout(async () => {
      this.#timer = undefined
      this.#nudged = false
      // A registry fault: the next refresh tries again, and listeners that asked are told.
      try { await this.refresh() } catch (err) { for (const f of [...this.#faultListeners.values()]) f(err) }
      const quiet = this.#o.wake?.up() === true && !this.#nudged ? FEED_DEFAULTS.quietPollMs : 0
      this.#schedule(Math.max(this.#pace(), quiet))
    }, ms)
  }

  /** A note said something changed: the pending refresh comes at the pace, no later. */
  #nudge (): void {
    if (this.#timer === undefined) { this.#nudged = true; return }
    const at = Math.max(this.#elapsed(), this.#lastRefresh + this.#pace())
    if (this.#due <= at) return
    this.#o.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#schedule(at - this.#elapsed())
  }

  /** One refresh; calls made while one runs share it. */
  refresh (): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => { this.#refreshing = undefined })
    return this.#refreshing
  }

  async #refresh (): Promise<void> {
    const started = performance.now()
    const r = this.#o.registry
    const [devices, rollouts] = await Promise.all([r.listDevices(), r.listRollouts({ limit: FEED_DEFAULTS.rollouts })])
    const now = this.#o.clock.now()
    // Rollouts that moved since the last refresh name the devices whose desired state may have changed.
    const touched = new Set<string>()
    let rolloutsChanged = rollouts.length !== this.#rollouts.length
    for (const ro of rollouts) {
      if (this.#revisions.get(ro.id) === ro.revision) continue
      rolloutsChanged = true
      this.#revisions.set(ro.id, ro.revision)
      const before = this.#rolloutDevices.get(ro.id)
      const after = new Map<string, string>()
      for (const d of ro.devices) {
        const key = `${d.state} ${d.deploymentId ?? ''} ${d.at ?? ''}`
        after.set(d.id, key)
        if (before?.get(d.id) !== key) touched.add(d.id)
      }
      this.#rolloutDevices.set(ro.id, after)
    }
    for (const id of this.#revisions.keys()) {
      if (rollouts.some((ro) => ro.id === id)) continue
      this.#revisions.delete(id)
      this.#rolloutDevices.delete(id)
    }
    const seen = new Set<string>()
    const reread: Entry[] = []
    for (const d of devices) {
      seen.add(d.id)
      const json = JSON.stringify(d)
      let e = this.#entries.get(d.id)
      if (e === undefined) {
        e = { json, device: d, window: new MetricWindow(), dirty: true }
        this.#entries.set(d.id, e)
        this.#order = undefined
        reread.push(e)
      } else if (e.json !== json || touched.has(d.id)) {
        e.json = json
        e.device = d
        reread.push(e)
      }
    }
    await eachLimited(reread, FEED_DEFAULTS.concurrency, async (e) => {
      const [reported, desired] = await Promise.all([r.getReported(e.device.id), r.getDesired(e.device.id)])
      e.reported = reported
      e.desired = desired
      e.dirty = true
    })
    const metricReads = [...this.#entries.values()].filter((e) => seen.has(e.device.id) && e.window.stale(e.device.highWater, e.device.stream))
    await eachLimited(metricReads, FEED_DEFAULTS.concurrency, async (e) => {
      await e.window.read(r, e.device.id, e.device.highWater, e.device.stream)
      e.dirty = true
    })

    const change: FleetChange = { now, devices: [], removed: [] }
    // A row is built again only when something it shows can have changed: its rows were read
    // again, its state moved with the clock or the connection, or a minute left its window.
    const minute = Math.floor(now / MINUTE_MS)
    const minuteTurned = minute !== this.#minute
    this.#minute = minute
    const takeoversNow = this.#o.takeoversNow?.() ?? now
    for (const [id, e] of this.#entries) {
      if (!seen.has(id)) { this.#entries.delete(id); this.#order = undefined; change.removed.push(id); continue }
      const connected = this.#o.isConnected(id)
      // Takeovers leave their window with time alone: the warning goes without a new row from the registry.
      const moved = e.row === undefined || e.row.connected !== connected || e.row.state !== deviceState(e.device, now, connected) ||
        (e.row.takeovers !== null && e.row.takeovers.recent !== recentTakeovers(e.device, takeoversNow))
      if (!e.dirty && !moved && !(minuteTurned && e.window.minutes.size > 0)) continue
      e.dirty = false
      e.window.trim(now)
      const row = fleetRow(e.device, now, connected, e.reported, e.desired, e.window, takeoversNow)
      const rowJson = JSON.stringify(row)
      if (rowJson === e.rowJson) continue
      e.row = row
      e.rowJson = rowJson
      change.devices.push(row)
    }
    const lines = rollouts.map(rolloutLine)
    if (rolloutsChanged) { this.#rollouts = lines; change.rollouts = lines }
    const running = lines.filter((l) => l.state === 'running').length
    const summary = fleetSummary(
      (function * (entries) {
        for (const e of entries.values()) if (e.row !== undefined) yield e.row
      })(this.#entries),
      [...this.#entries.values()].map((e) => e.window),
      running,
      now
    )
    const summaryJson = JSON.stringify(summary)
    if (summaryJson !== this.#summaryJson) { this.#summary = summary; this.#summaryJson = summaryJson; change.summary = summary }
    this.#now = now
    this.#lastRefresh = this.#elapsed()
    this.#lastCost = performance.now() - started
    if (change.devices.length === 0 && change.removed.length === 0 && change.summary === undefined && change.rollouts === undefined) return
    for (const l of this.#listeners) l(change)
  }
}
