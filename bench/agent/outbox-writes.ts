// bench/agent/outbox-writes: records/s through the outbox store's commit() (group commit, seqs,
// quota books) against raw `level` db.batch puts of the same CBOR records, in the same run.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Encoder } from 'cbor-x'
import { Level } from 'level'
import { LevelOutboxStore } from '../../device/store/index.js'
import type { NewRecord } from '../../device/store/index.js'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 40_000)
/** Commits kept in flight at once, as an agent under load would. */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 512)
const RUNS = 3

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const record = (i: number): NewRecord => ({ kind: 'result', fn: 'bench', time: 1_700_000_000_000 + i, data: { temp: 21.5, i, note: 'x'.repeat(60) } })

function tmp (): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-bench-')) }

/** Runs `units` calls of `fn`, at most IN_FLIGHT at a time. */
async function pump (units: number, fn: (u: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => { while (next < units) await fn(next++) }
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, units) }, worker))
}

async function outbox (perUnit: number): Promise<number> {
  const dir = tmp()
  const st = await LevelOutboxStore.open({ dir, quotaBytes: 1024 * 1024 * 1024 })
  try {
    const t0 = performance.now()
    await pump(RECORDS / perUnit, async (u) => await st.commit({ records: Array.from({ length: perUnit }, (_, j) => record(u * perUnit + j)) }))
    const s = (performance.now() - t0) / 1000
    if ((await st.stats()).count !== RECORDS) throw new Error('the outbox lost records during the bench')
    return RECORDS / s
  } finally {
    await st.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function raw (perUnit: number): Promise<number> {
  const dir = tmp()
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  try {
    const t0 = performance.now()
    await pump(RECORDS / perUnit, async (u) => {
      const ops = Array.from({ length: perUnit }, (_, j) => {
        const r = record(u * perUnit + j)
        return { type: 'put' as const, key: String(u * perUnit + j + 1).padStart(16, '0') + 'r', value: cbor.encode({ t: r.time, d: r.data, f: r.fn }) as Uint8Array }
      })
      await db.batch(ops)
    })
    return RECORDS / ((performance.now() - t0) / 1000)
  } finally {
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function median (fn: () => Promise<number>): Promise<number> {
  const xs: number[] = []
  for (let i = 0; i < RUNS; i++) xs.push(await fn())
  return xs.sort((a, b) => a - b)[Math.floor(RUNS / 2)]
}

const f = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

console.log(`${f(RECORDS)} records of ~${cbor.encode({ t: 0, d: record(0).data, f: 'bench' }).length} bytes, ${IN_FLIGHT} commits in flight, median of ${RUNS}`)
const rows: Record<string, { ours: number, peer: number }> = {}
for (const perUnit of [1, 10]) {
  rows[perUnit] = { ours: await median(async () => await outbox(perUnit)), peer: await median(async () => await raw(perUnit)) }
  console.log(`${perUnit} record(s) per commit: outbox ${f(rows[perUnit].ours)} rec/s, raw level batch ${f(rows[perUnit].peer)} rec/s (${f(rows[perUnit].ours / rows[perUnit].peer, 2)}x)`)
}
const big = await median(async () => await raw(1000))
console.log(`raw level, batches of 1000 (ceiling): ${f(big)} rec/s`)
console.log(`outbox: ${f(rows[1].ours)} rec/s durable (${f(rows[1].ours / rows[1].peer, 2)}x raw level batch)`)
