// The registry in PostgreSQL, for a fleet that outgrows one machine and for several cloud
// instances on one database (docs/postgres.md). The same contract and abstract suite as the
// LevelDB backend; nothing is cached between calls, so every instance sees the others' writes.
// Opening migrates the schema under an advisory lock (migrate.ts) and makes today's records
// partitions (partitions.ts); ingest is one transaction per batch (ingest-tx.ts); a database
// that cannot be reached fails calls at once with LAMBKIN_DB_UNAVAILABLE (db.ts) and shows as
// the registry's fault until it answers again (availability.ts).
import { mergeStatus } from '../status-merge.js'
import type { StoredStatus } from '../status-merge.js'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { systemClock } from '../../../src/clock.js'
import type { Clock } from '../../../src/clock.js'
import type { FaultState } from '../../../src/store-fault.js'
import type { HeartbeatFrame, StatusFrame } from '../../../src/wire/index.js'
import { TAKEOVERS_KEPT } from '../types.js'
import type { ConflictFacts, DevicePageQuery, DeviceRow, IngestBatch, IngestResult, NewDevice, RecordQuery, Registry, StoredGap, StoredRecord, StreamRow, TakeoverFacts } from '../types.js'
import { Availability } from './availability.js'
import { MAX_RETENTION_DAYS, PG_DEFAULTS } from './defaults.js'
import { PgDb } from './db.js'
import { ingestTx } from './ingest-tx.js'
import { migrate } from './migrate.js'
import { Partitions, dayOf } from './partitions.js'
import { PgDeployBase } from './pg-deploy.js'
import { readRecords } from './read-records.js'
import { AGE_COLUMN, DEVICE_COLUMNS, STREAM_COLUMNS, dec, deviceRow, enc, streamRow } from './rows.js'
import type { DeviceSql, StreamSql } from './rows.js'
import { DbLastSeen } from './seen.js'

export interface PgRegistryOptions {
  /** postgres://user:password@host:port/database (`--db`, LAMBKIN_DB_URL). */
  url: string
  /** Days records are kept (whole days dropped after); 0 keeps them for ever. */
  retentionDays?: number
  poolSize?: number
  connectTimeoutMs?: number
  statementTimeoutMs?: number
  clock?: Clock
  log?: (line: string) => void
}

export class PgRegistry extends PgDeployBase implements Registry {
  readonly #health: Availability
  readonly #partitions: Partitions
  /** Device ages on the database's clock (seen.ts), filled by every device read. */
  readonly seen: DbLastSeen
  /** Per-device tail of the call chain: this instance applies one device's calls in call order (the row lock orders instances). */
  readonly #chains = new Map<string, Promise<unknown>>()
  #closed = false

  private constructor (db: PgDb, health: Availability, partitions: Partitions, clock: Clock) {
    super(db)
    this.#health = health
    this.#partitions = partitions
    this.seen = new DbLastSeen(clock)
  }

  /**
   * Connects, migrates and makes today's partitions. Throws LAMBKIN_DB_UNAVAILABLE when the
   * database cannot be reached, LAMBKIN_STORE_ERROR when it refuses, LAMBKIN_CONFIG_INVALID
   * for a bad option.
   */
  static async open (opts: PgRegistryOptions): Promise<PgRegistry> {
    // An option given as undefined takes its default.
    const o = { ...opts }
    for (const [k, v] of Object.entries(PG_DEFAULTS) as Array<[keyof typeof PG_DEFAULTS, number]>) o[k] ??= v
    const retentionDays = o.retentionDays as number
    if (!Number.isSafeInteger(retentionDays) || retentionDays < 0 || retentionDays > MAX_RETENTION_DAYS) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `retentionDays must be a whole number of days from 0 (keep for ever) to ${MAX_RETENTION_DAYS}; got ${String(retentionDays)}`)
    if (!/^postgres(ql)?:\/\//.test(o.url)) throw new LambkinError(ErrorCodes.CONFIG_INVALID, 'the database URL must start with postgres:// (postgres://user:password@host:5432/database)')
    const clock = o.clock ?? systemClock
    const log = o.log ?? (() => {})
    let db: PgDb | undefined
    const health = new Availability({ clock, log, probe: async () => { await db?.pool.query('SELECT 1') } })
    db = new PgDb(
      {
        url: o.url,
        poolSize: o.poolSize as number,
        connectTimeoutMs: o.connectTimeoutMs as number,
        statementTimeoutMs: o.statementTimeoutMs as number
      },
      health
    )
    const partitions = new Partitions(db, { clock, retentionDays, log })
    try {
      const { c, release } = await db.client('connecting')
      try {
        await migrate(c, (line) => { if (!line.startsWith('the database is up to date')) log(line) })
      } finally {
        release()
      }
      await partitions.start()
    } catch (err) {
      health.close()
      partitions.close()
      await db.close().catch(() => {})
      throw db.error(err, 'opening the registry')
    }
    return new PgRegistry(db, health, partitions, clock)
  }

  /** Present while the database cannot be reached (LAMBKIN_DB_UNAVAILABLE); it clears by itself. */
  storeFault (): FaultState | undefined { return this.#health.state }

  /** The records partitions (retention and tests). */
  get partitions (): Partitions { return this.#partitions }

  async addDevice (d: NewDevice): Promise<DeviceRow> {
    const rows = await this.db.query<DeviceSql>('adding a device', `INSERT INTO devices (id, grp, secret_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING ${DEVICE_COLUMNS}`, [d.id, d.group ?? null, d.secretHash, d.createdAt])
    if (rows.length === 0) throw new LambkinError(ErrorCodes.DEVICE_EXISTS, `device ${d.id} already exists; revoked ids are not reused`)
    return deviceRow(rows[0])
  }

  async getDevice (id: string): Promise<DeviceRow | undefined> {
    const r = (await this.db.query<DeviceSql>('reading a device', `SELECT ${DEVICE_COLUMNS}, ${AGE_COLUMN} FROM devices WHERE id = $1`, [id]))[0]
    if (r === undefined) return undefined
    this.seen.read(r.id, r.age_ms ?? null)
    return deviceRow(r)
  }

  /** In byte order (COLLATE "C", index devices_id_bytes), as LevelDB keys sort, whatever the database's collation. */
  async listDevices (q: DevicePageQuery = {}): Promise<DeviceRow[]> {
    const params: unknown[] = []
    const where = q.after === undefined ? '' : ` WHERE id COLLATE "C" > $${params.push(q.after)}`
    const limit = q.limit === undefined ? '' : ` LIMIT $${params.push(q.limit)}`
    const rows = await this.db.query<DeviceSql>('listing devices', `SELECT ${DEVICE_COLUMNS}, ${AGE_COLUMN} FROM devices${where} ORDER BY id COLLATE "C"${limit}`, params)
    for (const r of rows) this.seen.read(r.id, r.age_ms ?? null)
    return rows.map(deviceRow)
  }

  async revokeDevice (id: string, at: number): Promise<boolean> {
    const rows = await this.db.query('revoking a device', 'UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING id', [id, at])
    return rows.length > 0
  }

  async rotateSecret (id: string, secretHash: string, at: number): Promise<DeviceRow | undefined> {
    const rows = await this.db.query<DeviceSql>('rotating a secret', `UPDATE devices SET secret_hash = $2, rotated_at = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING ${DEVICE_COLUMNS}`, [id, secretHash, at])
    // A revoked device comes back unchanged: revocation is final.
    return rows.length > 0 ? deviceRow(rows[0]) : await this.getDevice(id)
  }

  /** Under the row lock that ingest-tx.ts takes too, so a batch refused meanwhile is not lost. */
  async clearConflict (id: string): Promise<{ cleared: ConflictFacts | null } | undefined> {
    return await this.db.tx('clearing a conflict', async (c) => {
      const r = (await c.query<{ conflict: Buffer | null }>('SELECT conflict FROM devices WHERE id = $1 FOR UPDATE', [id])).rows[0]
      if (r === undefined) return undefined
      if (r.conflict === null) return { cleared: null }
      await c.query('UPDATE devices SET conflict = NULL WHERE id = $1', [id])
      return { cleared: dec<ConflictFacts>(r.conflict) }
    })
  }

  /** One write per status or heartbeat; heard_at takes the database's clock, which every instance ages from. */
  async touch (id: string, facts: { lastSeen: number, status?: StatusFrame, heartbeat?: HeartbeatFrame }): Promise<void> {
    const heartbeat = facts.heartbeat === undefined ? null : enc({ ...facts.heartbeat, at: facts.lastSeen })
    const next = facts.status
    const update = `UPDATE devices SET last_seen = GREATEST(coalesce(last_seen, $2), $2), heard_at = clock_timestamp(),
        status = coalesce($3, status), heartbeat = coalesce($4, heartbeat) WHERE id = $1`
    await this.#serial(id, async () => {
      if (next?.state !== 'offline') {
        const status = next === undefined ? null : enc(mergeStatus(undefined, next, facts.lastSeen))
        await this.db.query('noting a device heard', update, [id, facts.lastSeen, status, heartbeat])
        return
      }
      // An offline status keeps what the device last said about itself (status-merge.ts): read
      // under the row lock, so an instance taking its online status meanwhile is not lost.
      await this.db.tx('noting a device offline', async (c) => {
        const r = (await c.query<{ status: Buffer | null }>('SELECT status FROM devices WHERE id = $1 FOR UPDATE', [id])).rows[0]
        if (r === undefined) return
        const merged = mergeStatus(r.status === null ? undefined : dec<StoredStatus>(r.status), next, facts.lastSeen)
        await c.query(update, [id, facts.lastSeen, enc(merged), heartbeat])
      })
    })
  }

  async noteTakeover (id: string, at: number): Promise<void> {
    await this.#serial(id, async () => {
      await this.db.tx('counting a takeover', async (c) => {
        const r = (await c.query<{ takeovers: Buffer | null }>('SELECT takeovers FROM devices WHERE id = $1 FOR UPDATE', [id])).rows[0]
        if (r === undefined) return
        const t: TakeoverFacts = r.takeovers === null ? { count: 0, lastAt: at, recent: [] } : dec(r.takeovers)
        const next: TakeoverFacts = { count: t.count + 1, lastAt: at, recent: [...t.recent, at].slice(-TAKEOVERS_KEPT) }
        await c.query('UPDATE devices SET takeovers = $2 WHERE id = $1', [id, enc(next)])
      })
    })
  }

  async ingest (device: string, batch: IngestBatch, receivedAt: number): Promise<IngestResult> {
    return await this.#serial(device, async () => {
      const day = dayOf(receivedAt)
      await this.#partitions.ensure(day)
      try {
        return await this.db.tx('storing a batch', async (c) => await ingestTx(c, device, batch, receivedAt, day))
      } catch (err) {
        // 23514: no partition for the row: another instance dropped the day (retention) after this one saw it.
        if ((err as { cause?: { code?: string } }).cause?.code !== '23514') throw err
        this.#partitions.forget(day)
        await this.#partitions.ensure(day)
        return await this.db.tx('storing a batch', async (c) => await ingestTx(c, device, batch, receivedAt, day))
      }
    })
  }

  async streams (device: string): Promise<StreamRow[]> {
    const rows = await this.db.query<StreamSql>('reading streams', `SELECT ${STREAM_COLUMNS} FROM streams WHERE device = $1 ORDER BY ord`, [device])
    return rows.map(streamRow)
  }

  async records (device: string, q: RecordQuery = {}): Promise<StoredRecord[]> {
    return await readRecords(this.db, device, q)
  }

  async gaps (device: string): Promise<StoredGap[]> {
    const rows = await this.db.query<{ id: string, from_seq: number, to_seq: number, reason: StoredGap['reason'], received_at: number }>('reading gaps',
      'SELECT s.id, g.from_seq, g.to_seq, g.reason, g.received_at FROM gaps g JOIN streams s ON s.device = g.device AND s.ord = g.ord WHERE g.device = $1 ORDER BY g.ord, g.from_seq', [device])
    return rows.map((r) => ({ device, stream: r.id, from: r.from_seq, to: r.to_seq, reason: r.reason, receivedAt: r.received_at }))
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#health.close()
    this.#partitions.close()
    await Promise.allSettled([...this.#chains.values()])
    await this.db.close()
  }

  /** Runs `fn` after every earlier call for the same device has settled. */
  #serial<T> (device: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#chains.get(device) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => {})
    this.#chains.set(device, tail)
    void tail.then(() => { if (this.#chains.get(device) === tail) this.#chains.delete(device) })
    return run
  }
}
