// bench/cloud/registry-db: ingest into the cloud registry, the embedded LevelDB one against the
// PostgreSQL one (docs/postgres.md), on the same batches in one run: devices upload at once,
// each its batches in order as its cloud link does (the next after the last one's ack), each
// batch with its frame bytes as ingest hands it over. PostgreSQL runs twice: as installed
// (fsync on: a power cut loses nothing committed) and with fsync off, which is as durable as
// the LevelDB registry is (its writes reach the OS, not the disk: a crash of the process loses
// nothing, a power cut may). Real servers from test/helpers/postgres.ts; the last line is the summary.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LevelRegistry } from '../../cloud-sync/registry/index.js'
import type { Registry } from '../../cloud-sync/registry/index.js'
import { PgRegistry } from '../../cloud-sync/registry/pg/index.js'
import { encodeFrame } from '../../src/wire/index.js'
import { startPostgres } from '../../test/helpers/postgres.js'

const DEVICES = 20
const BATCHES = 40
const RECORDS = 250
const STREAM = 'be4c4be4c4be4c4b'
const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

type Batch = { records: Array<{ seq: number, kind: 'result', fn: string, time: number, data: unknown }>, raw: Uint8Array }
const batches: Batch[] = Array.from({ length: BATCHES }, (_, b) => {
  const records = Array.from({ length: RECORDS }, (_, i) => {
    const seq = b * RECORDS + i + 1
    return { seq, kind: 'result' as const, fn: 'thermo', time: 1_700_000_000_000 + seq, data: { invocationId: `inv-${seq}`, result: { celsius: 20 + (seq % 50) / 10, ok: true }, durationMs: 0.4 } }
  })
  return { records, raw: encodeFrame({ v: 1, stream: STREAM, batchId: b, records, gaps: [] }) }
})
const bytesPerRecord = batches[0].raw.byteLength / RECORDS

/** Records stored per second: every device's batches, devices at once. */
async function ingest (reg: Registry): Promise<number> {
  const ids = Array.from({ length: DEVICES }, (_, i) => `bench-${i}`)
  for (const id of ids) await reg.addDevice({ id, secretHash: 'h', createdAt: 1 })
  const started = performance.now()
  await Promise.all(ids.map(async (id) => {
    for (const b of batches) {
      const r = await reg.ingest(id, { stream: STREAM, records: b.records, gaps: [], raw: b.raw }, Date.now())
      if (r.stored !== RECORDS) throw new Error(`${id}: stored ${r.stored} of ${RECORDS}`)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  return DEVICES * BATCHES * RECORDS / seconds
}

async function level (): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-registry-'))
  const reg = await LevelRegistry.open(dir)
  try { return await ingest(reg) } finally { await reg.close(); rmSync(dir, { recursive: true, force: true }) }
}

async function postgres (settings: Record<string, string>): Promise<number> {
  const server = await startPostgres(settings)
  if ('skip' in server) throw new Error(`PostgreSQL is needed for this bench: ${server.skip}`)
  try {
    const reg = await PgRegistry.open({ url: await server.createDatabase(), retentionDays: 0 })
    try { return await ingest(reg) } finally { await reg.close() }
  } finally {
    await server.close()
  }
}

const lv = await level()
const pgOn = await postgres({ fsync: 'on' })
const pgOff = await postgres({ fsync: 'off' })
console.log(`registry ingest, ${DEVICES} devices at once x ${BATCHES} batches x ${RECORDS} records (~${f(bytesPerRecord)} B each), one batch in flight per device:`)
console.log(`  LevelDB (embedded, one process)           ${f(lv)} records/s`)
console.log(`  PostgreSQL, fsync on (durable to a power cut) ${f(pgOn)} records/s, ${f(pgOn / lv, 2)}x LevelDB`)
console.log(`  PostgreSQL, fsync off (as durable as LevelDB here) ${f(pgOff)} records/s, ${f(pgOff / lv, 2)}x LevelDB`)
console.log(`cloud registry: PostgreSQL ingests ${f(pgOn / lv, 2)}x (fsync on) and ${f(pgOff / lv, 2)}x (fsync off) the embedded LevelDB registry's ${f(lv)} records/s on the same batches`)
