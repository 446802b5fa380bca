// Instances sharing one PostgreSQL (docs/scale-out.md, "Several instances"): one dedicated
// connection per instance, outside the registry's pool, carries the cloud bus (LISTEN/NOTIFY on
// one channel, topic and payload in the message) and the rollout leadership, a session-level
// advisory lock (pg_try_advisory_lock, LOCKS.rollouts). Every instance tries for the lock every
// `retryMs`; the one that gets it drives every rollout until its session ends, and PostgreSQL
// frees a session's advisory locks when it ends, also when the process was killed (its socket
// closes; a host that vanished is noticed by TCP keepalive). A lost connection means leadership
// lost at once here too: the engine stops, and the connection is made again after `retryMs`.
// Bodies too large for a note travel as parcels, rows of bus_parcels (migration 0002).
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { errorMessage } from '../../src/errors.js'
import { LOCKS } from '../registry/pg/locks.js'
import { SCHEMA } from '../registry/pg/db.js'
import { BUS_MAX_PAYLOAD } from './bus.js'
import type { BusTopic, CloudBus, ParcelPost } from './bus.js'

const CHANNEL = `${SCHEMA}_bus`
/**
 * A parcel older than this was for an instance that died or a request that gave up: the longest
 * wait is a remote invoke's (300 s timeout plus its margin, invoke/remote-invoke.ts). Swept by
 * the next parcel's writer, seconds.
 */
const PARCEL_TTL_SEC = 600
const TOPICS = new Set<string>(['rollout', 'cancel', 'reported', 'connect', 'invoke', 'stored'])
/** Notes kept while the connection is down (publish with `keep`), oldest dropped past it. */
const MAX_KEPT = 1000

export interface PgCoordinatorOptions {
  url: string
  /** How often an instance not leading tries for the lock, and waits before connecting again, ms (default 1000). */
  retryMs?: number
  log?: (line: string) => void
}

export class PgCoordinator implements CloudBus, ParcelPost {
  readonly #o: Required<Omit<PgCoordinatorOptions, 'log'>> & Pick<PgCoordinatorOptions, 'log'>
  readonly #subs = new Map<string, Set<(payload: string) => void>>()
  readonly #leadership = new Set<(leading: boolean) => void>()
  #client: pg.Client | undefined
  /** Notes to send once connected again: a rollout stored meanwhile must still reach the driver. */
  readonly #kept: string[] = []
  #leading = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #trying = false
  #closed = false

  private constructor (o: PgCoordinatorOptions) {
    this.#o = { retryMs: 1000, ...o }
  }

  /** Connects and tries for the lock once (so a lone instance drives from its start); a database out of reach is tried again in the background. */
  static async start (o: PgCoordinatorOptions): Promise<PgCoordinator> {
    const c = new PgCoordinator(o)
    await c.#tick()
    return c
  }

  /** Whether this instance holds the rollout lock now. */
  get leading (): boolean { return this.#leading }

  /** Calls `cb` whenever this instance gains or loses the lock. */
  onLeadership (cb: (leading: boolean) => void): () => void {
    this.#leadership.add(cb)
    return () => { this.#leadership.delete(cb) }
  }

  up (): boolean { return this.#client !== undefined }

  /**
   * Tells every instance (CloudBus.publish). With `keep`, a note made while the connection is
   * down is kept (up to MAX_KEPT) and sent once it is back, and true is returned: for the notes
   * only the rollouts' driver acts on (a rollout stored by this instance, a cancel, a report, a
   * connect), which no reader's polling makes up for.
   */
  publish (topic: BusTopic, payload: string, keep = false): boolean {
    const c = this.#client
    if (Buffer.byteLength(payload) > BUS_MAX_PAYLOAD) return false
    if (c === undefined) {
      if (!keep || this.#closed) return false
      this.#kept.push(`${topic} ${payload}`)
      if (this.#kept.length > MAX_KEPT) this.#kept.shift()
      return true
    }
    c.query('SELECT pg_notify($1, $2)', [CHANNEL, `${topic} ${payload}`]).catch(() => {})
    return true
  }

  async sendParcel (topic: BusTopic, body: string, note: (key: string) => string): Promise<boolean> {
    const c = this.#client
    const key = randomUUID()
    const payload = note(key)
    if (c === undefined || Buffer.byteLength(payload) > BUS_MAX_PAYLOAD) return false
    // One statement, so one commit: the row is there when the note arrives (NOTIFY is sent at commit).
    const sql = `WITH swept AS (DELETE FROM ${SCHEMA}.bus_parcels WHERE created_at < clock_timestamp() - make_interval(secs => $3)),
      stored AS (INSERT INTO ${SCHEMA}.bus_parcels (id, body) VALUES ($1, $2))
      SELECT pg_notify($4, $5)`
    try {
      await c.query(sql, [key, body, PARCEL_TTL_SEC, CHANNEL, `${topic} ${payload}`])
      return true
    } catch {
      return false
    }
  }

  async claimParcel (key: string): Promise<string | undefined> {
    const c = this.#client
    if (c === undefined) return undefined
    try {
      const r = await c.query<{ body: string }>(`DELETE FROM ${SCHEMA}.bus_parcels WHERE id = $1 RETURNING body`, [key])
      return r.rows[0]?.body
    } catch {
      return undefined
    }
  }

  subscribe (topic: BusTopic, cb: (payload: string) => void): () => void {
    const set = this.#subs.get(topic) ?? new Set()
    set.add(cb)
    this.#subs.set(topic, set)
    return () => { set.delete(cb) }
  }

  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    const c = this.#client
    this.#client = undefined
    this.#lead(false)
    // Ending the session frees the lock: the next instance takes over within its retry.
    await c?.end().catch(() => {})
  }

  #lead (leading: boolean): void {
    if (this.#leading === leading) return
    this.#leading = leading
    for (const cb of [...this.#leadership]) cb(leading)
  }

  async #tick (): Promise<void> {
    if (this.#closed || this.#trying) return
    this.#trying = true
    try {
      if (this.#client === undefined) await this.#connect()
      if (!this.#leading && this.#client !== undefined) {
        const r = await this.#client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [LOCKS.rollouts.toString()])
        if (r.rows[0]?.got === true && !this.#closed) {
          this.#o.log?.('this instance now drives the rollouts (it holds their lock in PostgreSQL)')
          this.#lead(true)
        }
      }
    } catch (err) {
      this.#drop(err)
    } finally {
      this.#trying = false
      if (!this.#closed && !this.#leading) this.#timer = setTimeout(() => { void this.#tick() }, this.#o.retryMs)
    }
  }

  async #connect (): Promise<void> {
    const c = new pg.Client({ connectionString: this.#o.url, keepAlive: true, application_name: 'lambkin-cloud-coordination' })
    c.on('error', (err) => { this.#drop(err) })
    c.on('end', () => { this.#drop(new Error('the connection ended')) })
    c.on('notification', (m) => {
      const p = m.payload ?? ''
      const sp = p.indexOf(' ')
      const topic = sp < 0 ? p : p.slice(0, sp)
      if (!TOPICS.has(topic)) return
      for (const cb of [...(this.#subs.get(topic) ?? [])]) {
        try { cb(sp < 0 ? '' : p.slice(sp + 1)) } catch { /* one reader's fault is its own */ }
      }
    })
    await c.connect()
    await c.query(`LISTEN ${CHANNEL}`)
    if (this.#closed) { await c.end().catch(() => {}); return }
    this.#client = c
    for (const note of this.#kept.splice(0)) c.query('SELECT pg_notify($1, $2)', [CHANNEL, note]).catch(() => {})
  }

  /** The connection is gone (or failed): leadership with it; connect again after retryMs. */
  #drop (err: unknown): void {
    const c = this.#client
    if (c === undefined && !this.#leading) return
    this.#client = undefined
    c?.end().catch(() => {})
    if (this.#leading) this.#o.log?.(`this instance stopped driving the rollouts: its coordination connection to PostgreSQL failed (${errorMessage(err)}); another instance takes over`)
    this.#lead(false)
    if (!this.#closed && !this.#trying) {
      clearTimeout(this.#timer)
      this.#timer = setTimeout(() => { void this.#tick() }, this.#o.retryMs)
    }
  }
}
