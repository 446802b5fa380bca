// The deployment rows in PostgreSQL (deploy-types.ts), the base PgRegistry builds on: bundles
// with their bytes and per-function numbers, the deployment id counter moved in the same
// transaction as the desired rows it numbers (the counter's row lock orders every such change
// across instances), reported states, and rollouts as a head row plus one row per device.
// deploy-plan.ts plans, as for the LevelDB backend; this file only reads and writes.
import type { PoolClient } from 'pg'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import type { BundleRow, DeployRegistry, DesiredChange, DesiredRow, HistoryNote, NewBundle, ReportedRow, RolloutDevice, RolloutHeadRow, RolloutRow } from '../deploy-types.js'
import { planDesired, planHistory, rolloutId, rolloutSeq } from '../deploy-plan.js'
import type { PgDb } from './db.js'
import { dec, enc } from './rows.js'

interface BundleSql { sha256: string, name: string, version: string, number: number, size: number, signature: Buffer, key_id: string, uploaded_at: number }

const bundleRow = (r: BundleSql): BundleRow => ({
  sha256: r.sha256,
  name: r.name,
  version: r.version,
  number: r.number,
  size: r.size,
  signature: Uint8Array.from(r.signature),
  keyId: r.key_id,
  uploadedAt: r.uploaded_at
})
const BUNDLE_COLUMNS = 'sha256, name, version, number, size, signature, key_id, uploaded_at'

/** Thrown inside a transaction to roll it back when another instance stored the same bundle first. */
class StoredMeanwhile extends Error {}

export class PgDeployBase implements DeployRegistry {
  /**
   * The pool every call goes through: what coordination built on this database (advisory locks
   * from locks.ts, LISTEN/NOTIFY on a connection of its own) should use too, so its errors are
   * named and its outages seen the same way.
   */
  readonly db: PgDb

  protected constructor (db: PgDb) {
    this.db = db
  }

  async putBundle (b: NewBundle): Promise<{ bundle: BundleRow, created: boolean }> {
    const old = await this.getBundle(b.sha256)
    if (old !== undefined) return { bundle: old, created: false }
    try {
      return await this.db.tx('storing a bundle', async (c) => {
        // The number's row lock gives numbers out one at a time, per function, across instances.
        const n = (await c.query<{ last: number }>('INSERT INTO bundle_numbers (name, last) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET last = bundle_numbers.last + 1 RETURNING last', [b.name])).rows[0].last
        const row: BundleRow = {
          sha256: b.sha256,
          name: b.name,
          version: b.version,
          number: n,
          size: b.bytes.byteLength,
          signature: Uint8Array.from(b.signature),
          keyId: b.keyId,
          uploadedAt: b.uploadedAt
        }
        const put = await c.query(
          `INSERT INTO bundles (${BUNDLE_COLUMNS}, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (sha256) DO NOTHING`,
          [
            row.sha256,
            row.name,
            row.version,
            row.number,
            row.size,
            Buffer.from(row.signature),
            row.keyId,
            row.uploadedAt,
            Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength)
          ]
        )
        if (put.rowCount === 0) throw new StoredMeanwhile()
        return { bundle: row, created: true }
      })
    } catch (err) {
      if (!((err as { cause?: unknown }).cause instanceof StoredMeanwhile)) throw err
      const now = await this.getBundle(b.sha256)
      if (now === undefined) throw err
      return { bundle: now, created: false }
    }
  }

  async getBundle (sha256: string): Promise<BundleRow | undefined> {
    const r = (await this.db.query<BundleSql>('reading a bundle', `SELECT ${BUNDLE_COLUMNS} FROM bundles WHERE sha256 = $1`, [sha256]))[0]
    return r === undefined ? undefined : bundleRow(r)
  }

  async bundleBytes (sha256: string): Promise<Uint8Array | undefined> {
    const r = (await this.db.query<{ bytes: Buffer }>('reading a bundle', 'SELECT bytes FROM bundles WHERE sha256 = $1', [sha256]))[0]
    return r === undefined ? undefined : new Uint8Array(r.bytes)
  }

  async lastDeploymentId (): Promise<number> {
    return (await this.db.query<{ value: number }>('reading the deployment id', "SELECT value FROM counters WHERE name = 'deployments'"))[0].value
  }

  async getDesired (device: string): Promise<DesiredRow | undefined> {
    return (await this.#desiredRows(undefined, [device])).get(device)
  }

  async #desiredRows (c: PoolClient | undefined, ids: string[]): Promise<Map<string, DesiredRow | undefined>> {
    const sql = 'SELECT device, deployment_id, updated_at, functions FROM desired WHERE device = ANY($1::text[])'
    const rows = c === undefined
      ? await this.db.query<{ device: string, deployment_id: number, updated_at: number, functions: Buffer }>('reading desired state', sql, [ids])
      : (await c.query<{ device: string, deployment_id: number, updated_at: number, functions: Buffer }>(sql, [ids])).rows
    const out = new Map<string, DesiredRow | undefined>(ids.map((id) => [id, undefined]))
    for (const r of rows) out.set(r.device, { device: r.device, deploymentId: r.deployment_id, functions: dec(r.functions), updatedAt: r.updated_at })
    return out
  }

  async #putDesired (c: PoolClient, rows: DesiredRow[]): Promise<void> {
    if (rows.length === 0) return
    await c.query(
      `INSERT INTO desired (device, deployment_id, updated_at, functions)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bytea[])
       ON CONFLICT (device) DO UPDATE SET deployment_id = EXCLUDED.deployment_id, updated_at = EXCLUDED.updated_at, functions = EXCLUDED.functions`,
      [rows.map((r) => r.device), rows.map((r) => r.deploymentId), rows.map((r) => r.updatedAt), rows.map((r) => enc(r.functions))])
  }

  /** Locks the deployment id counter: desired-state changes apply one at a time, fleet-wide. */
  async #lockCounter (c: PoolClient): Promise<number> {
    return (await c.query<{ value: number }>("SELECT value FROM counters WHERE name = 'deployments' FOR UPDATE")).rows[0].value
  }

  async setDesired (changes: DesiredChange[], at: number): Promise<DesiredRow[]> {
    if (changes.length === 0) return []
    return await this.db.tx('changing desired state', async (c) => {
      const counter = await this.#lockCounter(c)
      const plan = planDesired(await this.#desiredRows(c, [...new Set(changes.map((ch) => ch.device))]), changes, counter, at)
      // The counter and the rows it numbered commit together: after a crash both or neither hold.
      await this.#putDesired(c, plan.rows)
      await c.query("UPDATE counters SET value = $1 WHERE name = 'deployments'", [plan.counter])
      return plan.rows
    })
  }

  async noteHistory (notes: HistoryNote[]): Promise<void> {
    if (notes.length === 0) return
    await this.db.tx('noting deployment history', async (c) => {
      // Under the counter's lock, as setDesired: a note never overwrites a newer desired row.
      await this.#lockCounter(c)
      await this.#putDesired(c, planHistory(await this.#desiredRows(c, [...new Set(notes.map((n) => n.device))]), notes))
    })
  }

  async putReported (device: string, r: ReportedRow): Promise<void> {
    await this.db.query('storing a report', 'INSERT INTO reported (device, received_at, frame) VALUES ($1, $2, $3) ON CONFLICT (device) DO UPDATE SET received_at = EXCLUDED.received_at, frame = EXCLUDED.frame', [device, r.receivedAt, enc(r)])
  }

  async getReported (device: string): Promise<ReportedRow | undefined> {
    const r = (await this.db.query<{ frame: Buffer }>('reading a report', 'SELECT frame FROM reported WHERE device = $1', [device]))[0]
    return r === undefined ? undefined : dec<ReportedRow>(r.frame)
  }

  async getReportedMany (devices: readonly string[]): Promise<Map<string, ReportedRow>> {
    const out = new Map<string, ReportedRow>()
    if (devices.length === 0) return out
    const rows = await this.db.query<{ device: string, frame: Buffer }>('reading reports', 'SELECT device, frame FROM reported WHERE device = ANY($1::text[])', [[...devices]])
    for (const r of rows) out.set(r.device, dec<ReportedRow>(r.frame))
    return out
  }

  async createRollout (r: Omit<RolloutRow, 'id'>): Promise<RolloutRow> {
    return await this.db.tx('creating a rollout', async (c) => {
      const seq = (await c.query<{ value: number }>("UPDATE counters SET value = value + 1 WHERE name = 'rollouts' RETURNING value")).rows[0].value
      const row: RolloutRow = { id: rolloutId(seq), ...structuredClone(r) }
      await this.#writeRollout(c, seq, row, undefined)
      return row
    })
  }

  async #writeRollout (c: PoolClient, seq: number, r: RolloutRow, dirty: number[] | undefined): Promise<void> {
    const { devices, ...head } = r
    await c.query(
      `INSERT INTO rollouts (seq, fn, state, open, devices, head) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (seq) DO UPDATE SET state = EXCLUDED.state, open = EXCLUDED.open, devices = EXCLUDED.devices, head = EXCLUDED.head`,
      [seq, r.fn, r.state, r.open, devices.length, enc(head)])
    const idx = dirty === undefined ? devices.map((_, i) => i) : [...new Set(dirty)].filter((i) => i >= 0 && i < devices.length)
    if (idx.length === 0) return
    await c.query(
      `INSERT INTO rollout_devices (rollout, idx, device, state, body)
       SELECT $1, u.i, u.d, u.s, u.b FROM unnest($2::int[], $3::text[], $4::text[], $5::bytea[]) AS u(i, d, s, b)
       ON CONFLICT (rollout, idx) DO UPDATE SET device = EXCLUDED.device, state = EXCLUDED.state, body = EXCLUDED.body`,
      [seq, idx, idx.map((i) => devices[i].id), idx.map((i) => devices[i].state), idx.map((i) => enc(devices[i]))])
  }

  async putRollout (r: RolloutRow, dirty?: Iterable<number>): Promise<void> {
    const seq = rolloutSeq(r.id)
    if (seq === undefined) throw new TypeError(`not a rollout id: ${r.id}`)
    const copy = structuredClone(r)
    const list = dirty === undefined ? undefined : [...dirty]
    await this.db.tx('writing a rollout', async (c) => { await this.#writeRollout(c, seq, copy, list) })
  }

  async getRollout (id: string): Promise<RolloutRow | undefined> {
    const seq = rolloutSeq(id)
    return seq === undefined ? undefined : (await this.#readRollouts('WHERE r.seq = $1', [seq]))[0]
  }

  async getRolloutDevice (id: string, index: number): Promise<{ rollout: RolloutHeadRow, device: RolloutDevice } | undefined> {
    const seq = rolloutSeq(id)
    if (seq === undefined || !Number.isSafeInteger(index) || index < 0) return undefined
    const r = (await this.db.query<{ head: Buffer, body: Buffer }>('reading a rollout device', 'SELECT r.head, d.body FROM rollouts r JOIN rollout_devices d ON d.rollout = r.seq WHERE r.seq = $1 AND d.idx = $2', [seq, index]))[0]
    return r === undefined ? undefined : { rollout: dec<RolloutHeadRow>(r.head), device: dec<RolloutDevice>(r.body) }
  }

  async putRolloutDevice (rollout: RolloutHeadRow, index: number, device: RolloutDevice): Promise<void> {
    const seq = rolloutSeq(rollout.id)
    if (seq === undefined) throw new TypeError(`not a rollout id: ${rollout.id}`)
    const head = structuredClone(rollout)
    delete (head as { devices?: unknown }).devices
    await this.db.tx('writing a rollout device', async (c) => {
      const put = await c.query('UPDATE rollout_devices SET device = $3, state = $4, body = $5 WHERE rollout = $1 AND idx = $2', [seq, index, device.id, device.state, enc(device)])
      if (put.rowCount === 0) throw new LambkinError(ErrorCodes.STORE_ERROR, `rollout ${rollout.id} has no device ${index}`)
      // The open column moves with putRollout only, as the LevelDB backend's open index does.
      await c.query('UPDATE rollouts SET state = $2, head = $3 WHERE seq = $1', [seq, head.state, enc(head)])
    })
  }

  /**
   * Rollouts with their devices in one statement, so one snapshot (READ COMMITTED takes one per
   * statement): a head and its device rows read by two statements could pair the head of one
   * putRollout with devices of the next (devices judged under a rollout still `running`).
   */
  async #readRollouts (where: string, params: unknown[]): Promise<RolloutRow[]> {
    const rows = await this.db.query<{ seq: number, devices: number, head: Buffer, bodies: Buffer[] }>('reading rollouts',
      `SELECT r.seq, r.devices, r.head, ARRAY(SELECT d.body FROM rollout_devices d WHERE d.rollout = r.seq ORDER BY d.idx) AS bodies FROM rollouts r ${where}`, params)
    return rows.map((h) => {
      const head = dec<RolloutHeadRow>(h.head)
      if (h.bodies.length !== h.devices) throw new LambkinError(ErrorCodes.STORE_ERROR, `rollout ${head.id} has ${h.bodies.length} of its ${h.devices} device rows; the registry is damaged`)
      return { ...head, devices: h.bodies.map((b) => dec<RolloutDevice>(b)) }
    })
  }

  async listRollouts (q: { limit?: number } = {}): Promise<RolloutRow[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 50), 1000)
    return await this.#readRollouts('ORDER BY r.seq DESC LIMIT $1', [limit])
  }

  async openRollouts (): Promise<RolloutRow[]> {
    return await this.#readRollouts('WHERE r.open ORDER BY r.seq', [])
  }
}
