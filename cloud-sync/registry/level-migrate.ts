// Brings a LevelDB registry written before outbox streams [W4] (format 1: records, gaps and the
// high-water keyed by device and seq alone, out-of-order ranges inside the device row) to
// format 2, once, at open: what a device sent then becomes its legacy stream (ordinal 1).
// Each key is moved in the same batch that deletes its old form, and old keys are told apart
// by their shape, so a migration cut short by a crash just goes on at the next open.
import { KEYS, ordKey } from './level-keys.js'
import { dec, enc } from './level-chunks.js'
import type { BatchOp, Db, Sub } from './level-chunks.js'
import { LEGACY_STREAM } from './types.js'
import type { DeviceRow, StreamRow } from './types.js'

export const REGISTRY_FORMAT = 2
const FORMAT_KEY = 'format'
const LEGACY_ORD = 1
/** Keys moved per LevelDB batch. */
const STEP = 512

export interface MigrateSubs { format: Sub, devices: Sub, streams: Sub, ranges: Sub, chunks: Sub, byFn: Sub, byKind: Sub, gaps: Sub }

/** Runs the migration when the registry is older than REGISTRY_FORMAT; a no-op afterwards. */
export async function migrate (db: Db, subs: MigrateSubs): Promise<void> {
  const v = await subs.format.get(FORMAT_KEY)
  if (v !== undefined && dec<number>(v) >= REGISTRY_FORMAT) return
  let ops: BatchOp[] = []
  const flush = async (): Promise<void> => { if (ops.length > 0) await db.batch(ops); ops = [] }
  const step = async (more: BatchOp[]): Promise<void> => { ops.push(...more); if (ops.length >= STEP) await flush() }
  for await (const [id, value] of subs.devices.iterator()) {
    const row = dec<DeviceRow & { above?: Array<[number, number]> }>(value)
    if (row.streams !== undefined) continue
    const sent = row.highWater > 0 || row.counts.stored > 0 || row.counts.gaps > 0 || (row.above?.length ?? 0) > 0
    const more: BatchOp[] = []
    if (sent) {
      const stream: StreamRow = {
        device: id,
        id: LEGACY_STREAM,
        ord: LEGACY_ORD,
        firstSeen: row.createdAt,
        lastSeen: row.lastSeen ?? row.createdAt,
        highWater: row.highWater,
        counts: { ...row.counts }
      }
      more.push({ type: 'put', key: KEYS.stream(id, LEGACY_STREAM), value: enc(stream), sublevel: subs.streams })
      for (const [from, to] of row.above ?? []) more.push({ type: 'put', key: KEYS.range(id, LEGACY_ORD, from), value: enc(to), sublevel: subs.ranges })
      row.stream = LEGACY_STREAM
    }
    row.streams = sent ? 1 : 0
    delete row.above
    more.push({ type: 'put', key: id, value: enc(row), sublevel: subs.devices })
    await step(more)
  }
  // Chunks and gaps: `device!seq` -> `device!ord!seq`; indexes: `device!part!seq` -> `device!part!ord!seq`.
  const moves: Array<[Sub, number, boolean]> = [[subs.chunks, 1, false], [subs.gaps, 1, true], [subs.byFn, 2, false], [subs.byKind, 2, false]]
  for (const [sub, bangs, isGap] of moves) {
    for await (const [key, value] of sub.iterator()) {
      const parts = key.split('!')
      if (parts.length !== bangs + 1) continue
      const newKey = [...parts.slice(0, bangs), ordKey(LEGACY_ORD), parts[bangs]].join('!')
      const newValue = isGap ? enc({ ...dec<Record<string, unknown>>(value), stream: LEGACY_STREAM }) : value
      await step([{ type: 'del', key, sublevel: sub }, { type: 'put', key: newKey, value: newValue, sublevel: sub }])
    }
  }
  ops.push({ type: 'put', key: FORMAT_KEY, value: enc(REGISTRY_FORMAT), sublevel: subs.format })
  await flush()
}
