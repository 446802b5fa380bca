// The deployment rows in LevelDB (deploy-types.ts), the base LevelRegistry builds on: bundles
// and their bytes by sha256, version numbers per function, the deployment id counter written
// in the same batch as the desired rows it numbers, reported states, and rollouts as a head
// plus device chunks (deploy-plan.ts plans; this file only reads and writes).
import type { Level } from 'level'
import type { AbstractSnapshot, AbstractSublevel } from 'abstract-level'
import { Encoder } from 'cbor-x'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import type { BundleRow, DeployRegistry, DesiredChange, DesiredRow, HistoryNote, NewBundle, ReportedRow, RolloutDevice, RolloutHeadRow, RolloutRow } from './deploy-types.js'
import { ROLLOUT_CHUNK, dirtyChunks, pad, planDesired, planHistory, rolloutId, rolloutSeq, splitRollout } from './deploy-plan.js'
import type { RolloutHead } from './deploy-plan.js'

type Db = Level<string, Uint8Array>
type Snapshot = AbstractSnapshot
type Sub = AbstractSublevel<Db, string | Buffer | Uint8Array, string, Uint8Array>
type Op = { type: 'put', key: string, value: Uint8Array, sublevel: Sub } | { type: 'del', key: string, sublevel: Sub }

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const enc = (v: unknown): Uint8Array => cbor.encode(v)
const dec = <T>(b: Uint8Array): T => cbor.decode(b) as T
const DEPLOYMENTS = 'deployments'
const ROLLOUTS = 'rollouts'

export class LevelDeployBase implements DeployRegistry {
  readonly #db: Db
  /** Counters (deployment ids, rollout ids), each one key. */
  readonly #meta: Sub
  readonly #bundles: Sub
  /** Bundle bytes by sha256: at most BUNDLE_MAX_BYTES (1 MiB) each, a size LevelDB keeps as one value well. */
  readonly #bytes: Sub
  /** fn -> its highest version number. */
  readonly #numbers: Sub
  readonly #desired: Sub
  readonly #reported: Sub
  /** Rollout heads by padded sequence number; chunks by (seq, chunk); open ones indexed. */
  readonly #heads: Sub
  readonly #chunks: Sub
  readonly #open: Sub
  /** Counter writes apply one at a time, so two calls never hand out the same id. */
  #lane: Promise<unknown> = Promise.resolve()

  protected constructor (db: Db) {
    this.#db = db
    const sub = (name: string): Sub => db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
    this.#meta = sub('m')
    this.#bundles = sub('b')
    this.#bytes = sub('bb')
    this.#numbers = sub('n')
    this.#desired = sub('ds')
    this.#reported = sub('rp')
    this.#heads = sub('ro')
    this.#chunks = sub('rc')
    this.#open = sub('rx')
  }

  /** Runs `fn` after every earlier counter write has settled. */
  #serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#lane.then(fn, fn)
    this.#lane = run.catch(() => {})
    return run
  }

  /** Waits for the writes under way (close). */
  protected async settleDeploy (): Promise<void> {
    await this.#lane
  }

  async #counter (name: string): Promise<number> {
    const v = await this.#meta.get(name)
    return v === undefined ? 0 : dec<number>(v)
  }

  async putBundle (b: NewBundle): Promise<{ bundle: BundleRow, created: boolean }> {
    return await this.#serial(async () => {
      const old = await this.getBundle(b.sha256)
      if (old !== undefined) return { bundle: old, created: false }
      const last = await this.#numbers.get(b.name)
      const { bytes, ...facts } = b
      const row: BundleRow = {
        ...facts,
        signature: Uint8Array.from(b.signature),
        number: (last === undefined ? 0 : dec<number>(last)) + 1,
        size: bytes.byteLength
      }
      await this.#db.batch([
        { type: 'put', key: b.sha256, value: bytes, sublevel: this.#bytes },
        { type: 'put', key: b.sha256, value: enc(row), sublevel: this.#bundles },
        { type: 'put', key: b.name, value: enc(row.number), sublevel: this.#numbers }
      ])
      return { bundle: row, created: true }
    })
  }

  async getBundle (sha256: string): Promise<BundleRow | undefined> {
    const v = await this.#bundles.get(sha256)
    if (v === undefined) return undefined
    const row = dec<BundleRow>(v)
    row.signature = Uint8Array.from(row.signature)
    return row
  }

  async bundleBytes (sha256: string): Promise<Uint8Array | undefined> {
    return await this.#bytes.get(sha256)
  }

  async lastDeploymentId (): Promise<number> {
    return await this.#counter(DEPLOYMENTS)
  }

  async getDesired (device: string): Promise<DesiredRow | undefined> {
    const v = await this.#desired.get(device)
    return v === undefined ? undefined : dec<DesiredRow>(v)
  }

  async #desiredRows (ids: string[]): Promise<Map<string, DesiredRow | undefined>> {
    const before = new Map<string, DesiredRow | undefined>()
    const got = await this.#desired.getMany(ids)
    ids.forEach((id, i) => { const v = got[i]; before.set(id, v === undefined ? undefined : dec<DesiredRow>(v)) })
    return before
  }

  async noteHistory (notes: HistoryNote[]): Promise<void> {
    if (notes.length === 0) return
    await this.#serial(async () => {
      // In the same lane as setDesired, so a note never overwrites a newer desired row.
      const rows = planHistory(await this.#desiredRows([...new Set(notes.map((n) => n.device))]), notes)
      if (rows.length > 0) await this.#db.batch(rows.map((r) => ({ type: 'put', key: r.device, value: enc(r), sublevel: this.#desired })))
    })
  }

  async setDesired (changes: DesiredChange[], at: number): Promise<DesiredRow[]> {
    if (changes.length === 0) return []
    return await this.#serial(async () => {
      const before = await this.#desiredRows([...new Set(changes.map((c) => c.device))])
      const plan = planDesired(before, changes, await this.#counter(DEPLOYMENTS), at)
      // The counter and the rows it numbered in one batch: after a crash both or neither hold.
      const ops: Op[] = plan.rows.map((r) => ({ type: 'put', key: r.device, value: enc(r), sublevel: this.#desired }))
      ops.push({ type: 'put', key: DEPLOYMENTS, value: enc(plan.counter), sublevel: this.#meta })
      await this.#db.batch(ops)
      return plan.rows
    })
  }

  async putReported (device: string, r: ReportedRow): Promise<void> {
    await this.#reported.put(device, enc(r))
  }

  async getReported (device: string): Promise<ReportedRow | undefined> {
    const v = await this.#reported.get(device)
    return v === undefined ? undefined : dec<ReportedRow>(v)
  }

  async getReportedMany (devices: readonly string[]): Promise<Map<string, ReportedRow>> {
    const out = new Map<string, ReportedRow>()
    if (devices.length === 0) return out
    const values = await this.#reported.getMany([...devices])
    values.forEach((v, i) => { if (v !== undefined) out.set(devices[i], dec<ReportedRow>(v)) })
    return out
  }

  async createRollout (r: Omit<RolloutRow, 'id'>): Promise<RolloutRow> {
    return await this.#serial(async () => {
      const seq = await this.#counter(ROLLOUTS) + 1
      const row: RolloutRow = { id: rolloutId(seq), ...structuredClone(r) }
      await this.#db.batch([...this.#rolloutOps(seq, row, undefined), { type: 'put', key: ROLLOUTS, value: enc(seq), sublevel: this.#meta }])
      return row
    })
  }

  #rolloutOps (seq: number, r: RolloutRow, dirty: Iterable<number> | undefined): Op[] {
    const { head, chunks } = splitRollout(r)
    const ops: Op[] = [{ type: 'put', key: pad(seq), value: enc(head), sublevel: this.#heads }]
    for (const c of dirtyChunks(r.devices.length, dirty)) ops.push({ type: 'put', key: `${pad(seq)}!${pad(c)}`, value: enc(chunks[c]), sublevel: this.#chunks })
    ops.push(r.open ? { type: 'put', key: pad(seq), value: new Uint8Array(0), sublevel: this.#open } : { type: 'del', key: pad(seq), sublevel: this.#open })
    return ops
  }

  async putRollout (r: RolloutRow, dirty?: Iterable<number>): Promise<void> {
    const seq = rolloutSeq(r.id)
    if (seq === undefined) throw new TypeError(`not a rollout id: ${r.id}`)
    const ops = this.#rolloutOps(seq, r, dirty === undefined ? undefined : [...dirty])
    await this.#serial(async () => { await this.#db.batch(ops) })
  }

  async getRollout (id: string): Promise<RolloutRow | undefined> {
    const seq = rolloutSeq(id)
    return seq === undefined ? undefined : await this.#snapshot(async (snapshot) => await this.#readRollout(seq, snapshot))
  }

  async getRolloutDevice (id: string, index: number): Promise<{ rollout: RolloutHeadRow, device: RolloutDevice } | undefined> {
    const seq = rolloutSeq(id)
    if (seq === undefined || !Number.isSafeInteger(index) || index < 0) return undefined
    const [h, c] = await this.#snapshot(async (snapshot) => await Promise.all([this.#heads.get(pad(seq), { snapshot }), this.#chunks.get(`${pad(seq)}!${pad(Math.floor(index / ROLLOUT_CHUNK))}`, { snapshot })]))
    if (h === undefined || c === undefined) return undefined
    const { chunks: _chunks, ...rollout } = dec<RolloutHead>(h)
    const device = dec<RolloutDevice[]>(c)[index % ROLLOUT_CHUNK]
    return device === undefined ? undefined : { rollout, device }
  }

  async putRolloutDevice (rollout: RolloutHeadRow, index: number, device: RolloutDevice): Promise<void> {
    const seq = rolloutSeq(rollout.id)
    if (seq === undefined) throw new TypeError(`not a rollout id: ${rollout.id}`)
    const chunkKey = `${pad(seq)}!${pad(Math.floor(index / ROLLOUT_CHUNK))}`
    await this.#serial(async () => {
      // Read in the lane, so a putRollout of the same rollout is never undone by a stale chunk.
      const [h, c] = await Promise.all([this.#heads.get(pad(seq)), this.#chunks.get(chunkKey)])
      if (h === undefined || c === undefined) throw new LambkinError(ErrorCodes.STORE_ERROR, `rollout ${rollout.id} has no device ${index}`)
      const chunk = dec<RolloutDevice[]>(c)
      chunk[index % ROLLOUT_CHUNK] = device
      const head: RolloutHead = { ...rollout, chunks: dec<RolloutHead>(h).chunks }
      await this.#db.batch([
        { type: 'put', key: pad(seq), value: enc(head), sublevel: this.#heads },
        { type: 'put', key: chunkKey, value: enc(chunk), sublevel: this.#chunks }
      ])
    })
  }

  /**
   * Runs `fn` on one LevelDB snapshot: a rollout's head and its chunks are separate keys, so
   * reads that run while putRollout's batch lands would otherwise pair the head of one revision
   * with devices of the next (a torn read: devices judged under a rollout still `running`).
   */
  async #snapshot<T> (fn: (snapshot: Snapshot) => Promise<T>): Promise<T> {
    const snapshot = this.#db.snapshot()
    try {
      return await fn(snapshot)
    } finally {
      await snapshot.close()
    }
  }

  /** One rollout whole as of `snapshot`. Throws LAMBKIN_STORE_ERROR when chunks are missing. */
  async #readRollout (seq: number, snapshot: Snapshot): Promise<RolloutRow | undefined> {
    const v = await this.#heads.get(pad(seq), { snapshot })
    if (v === undefined) return undefined
    const { chunks, ...head } = dec<RolloutHead>(v)
    const devices: RolloutDevice[] = []
    let read = 0
    for await (const c of this.#chunks.values({ gt: `${pad(seq)}!`, lt: `${pad(seq)}!~`, snapshot })) { devices.push(...dec<RolloutDevice[]>(c)); read++ }
    if (read !== chunks) throw new LambkinError(ErrorCodes.STORE_ERROR, `rollout ${head.id} has ${read} of its ${chunks} device chunks; the registry is damaged`)
    return { ...head, devices }
  }

  async listRollouts (q: { limit?: number } = {}): Promise<RolloutRow[]> {
    const limit = Math.min(Math.max(1, q.limit ?? 50), 1000)
    const out: RolloutRow[] = []
    await this.#snapshot(async (snapshot) => {
      for await (const k of this.#heads.keys({ reverse: true, limit, snapshot })) {
        const r = await this.#readRollout(Number(k), snapshot)
        if (r !== undefined) out.push(r)
      }
    })
    return out
  }

  async openRollouts (): Promise<RolloutRow[]> {
    const out: RolloutRow[] = []
    await this.#snapshot(async (snapshot) => {
      for await (const k of this.#open.keys({ snapshot })) {
        const r = await this.#readRollout(Number(k), snapshot)
        if (r !== undefined) out.push(r)
      }
    })
    return out
  }
}
