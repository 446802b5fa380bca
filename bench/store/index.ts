// bench:store: how long the agent's outbox takes to open after a restart, with the books kept
// in the store (level-open.ts loadLedger: two seeks) beside the keys scan every open did before
// (the same store with its books removed, as a store from before them). Fills a real LevelDB
// outbox in a temp folder with STORE_RECORDS ~100-byte results (default 10,000,000; about
// 250 MB on disk and 3 min to fill on a loaded 2-core machine), in commits of 2,000.
// Prints one summary line: `store: open ... (target < 2 s at 10M)`.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Encoder } from 'cbor-x'
import { Level } from 'level'
import { LevelOutboxStore, storePath } from '../../device/store/index.js'

const TOTAL = Number(process.env.STORE_RECORDS ?? 10_000_000)
const PER_COMMIT = 2000
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

async function timedOpen (dir: string): Promise<number> {
  const t0 = performance.now()
  const s = await LevelOutboxStore.open({ dir, quotaBytes: 2 ** 40 })
  const seconds = (performance.now() - t0) / 1000
  const { count } = await s.stats()
  await s.close()
  if (count !== TOTAL) throw new Error(`the outbox holds ${count} records after the reopen, expected ${TOTAL}`)
  return seconds
}

/** Removes the books from the stored counters: the store as one written before they existed. */
async function dropBooks (dir: string): Promise<void> {
  const db = new Level<string, Uint8Array>(storePath(dir), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const sys = db.sublevel<string, Uint8Array>('y', { keyEncoding: 'utf8', valueEncoding: 'view' })
  const c = cbor.decode(await sys.get('counters') as Uint8Array) as Record<string, unknown>
  delete c.books
  await sys.put('counters', cbor.encode(c))
  await db.close()
}

const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-bench-store-'))
try {
  const t0 = performance.now()
  const s = await LevelOutboxStore.open({ dir, quotaBytes: 2 ** 40 })
  for (let i = 0; i < TOTAL; i += PER_COMMIT) {
    await s.commit({ records: Array.from({ length: Math.min(PER_COMMIT, TOTAL - i) }, (_, k) => ({ kind: 'result' as const, fn: 'threshold', time: 1_800_000_000_000 + i + k, data: { invocationId: `i-${i + k}`, result: { value: 21.5, alarm: false }, durationMs: 0.4, attempts: 1 } })) })
    if (i % 1_000_000 === 0 && i > 0) process.stderr.write(`filled ${i / 1e6}M records, ${Math.round((performance.now() - t0) / 1000)} s\n`)
  }
  await s.close()
  const books = [await timedOpen(dir), await timedOpen(dir), await timedOpen(dir)].sort((a, b) => a - b)[1]
  await dropBooks(dir)
  // The first open rebuilds the books by scanning and stores them with its first write; time it once.
  const scan = await timedOpen(dir)
  const n = TOTAL.toLocaleString('en-US')
  console.log(`store: open after a restart at ${n} records ${books.toFixed(2)} s with the kept books (median of 3; target < 2 s at 10M), ${scan.toFixed(1)} s scanning every key (${(scan / books).toFixed(0)}x)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
