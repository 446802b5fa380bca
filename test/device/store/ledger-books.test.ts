// The books an open takes from the store instead of scanning every key (level-open.ts
// loadLedger): they match a full scan after a clean stop, after a kill -9, and are rebuilt from
// the keys when absent (a store from before them) or when they do not fit the keys.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Encoder } from 'cbor-x'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LevelOutboxStore, storePath } from '../../../device/store/index.js'
import type { NewRecord } from '../../../device/store/types.js'
import type { Sub } from '../../../device/store/level-open.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-books-'))
const rec = (kind: NewRecord['kind'], n: number): NewRecord => ({ kind, fn: 'f', time: 1_700_000_000_000, data: { n } })

async function fill (dir: string): Promise<void> {
  const s = await LevelOutboxStore.open({ dir })
  await s.commit({ records: [rec('result', 1), rec('log', 2), rec('metric', 3), rec('result', 4)], publishes: [{ topic: 't/1', payload: Buffer.from('x'), qos: 1, retain: false }] })
  await s.commit({ records: [rec('emit', 5), rec('dead-letter', 6), rec('log', 7)] })
  await s.ackThrough(2)
  await s.close()
}

/** Rewrites the stored counters (the sys sublevel 'y', key 'counters') through `edit`. */
async function editCounters (dir: string, edit: (c: Record<string, unknown>) => void): Promise<void> {
  const db = new Level<string, Uint8Array>(storePath(dir), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const sys = db.sublevel<string, Uint8Array>('y', { keyEncoding: 'utf8', valueEncoding: 'view' })
  const c = cbor.decode(await sys.get('counters') as Uint8Array) as Record<string, unknown>
  edit(c)
  await sys.put('counters', cbor.encode(c))
  await db.close()
}

async function statsOf (dir: string): Promise<unknown> {
  const s = await LevelOutboxStore.open({ dir })
  const st = await s.stats()
  const next = await s.commit({ records: [rec('result', 99)] })
  await s.close()
  return { st, next }
}

test('the books kept with the counters give the same stats as a keys scan, and seqs go on', async () => {
  const a = tmp()
  const b = tmp()
  try {
    await fill(a)
    await fill(b)
    await editCounters(b, (c) => { delete c.books })
    const kept = await statsOf(a)
    const scanned = await statsOf(b)
    assert.equal(kept, scanned)
    assert.is((kept as { st: { count: number } }).st.count, 5)
  } finally {
    fs.rmSync(a, { recursive: true, force: true })
    fs.rmSync(b, { recursive: true, force: true })
  }
})

test('books that do not fit the keys are not trusted: the open rebuilds them from the keys', async () => {
  const a = tmp()
  const b = tmp()
  try {
    await fill(a)
    await fill(b)
    // Books claiming an empty outbox while keys remain (as a repaired or hand-edited store may).
    await editCounters(b, (c) => {
      const books = c.books as { tally: Record<string, { count: number, bytes: number }>, publishes: { count: number, bytes: number } }
      for (const k of Object.keys(books.tally)) books.tally[k] = { count: 0, bytes: 0 }
      books.publishes = { count: 0, bytes: 0 }
    })
    assert.equal(await statsOf(b), await statsOf(a))
  } finally {
    fs.rmSync(a, { recursive: true, force: true })
    fs.rmSync(b, { recursive: true, force: true })
  }
})

test('an ack whose range delete a stop cut short: the keys left below the books are found at open, counted, read and acked again', async () => {
  const dir = tmp()
  try {
    const s = await LevelOutboxStore.open({ dir })
    await s.commit({ records: [rec('result', 1), rec('log', 2), rec('metric', 3), rec('result', 4)] })
    await s.close()
    // The two records an ack takes, as the disk held them before its range delete ran.
    const raw = (): { db: Level<string, Uint8Array>, records: Sub } => {
      const db = new Level<string, Uint8Array>(storePath(dir), { keyEncoding: 'utf8', valueEncoding: 'view' })
      return { db, records: db.sublevel<string, Uint8Array>('r', { keyEncoding: 'utf8', valueEncoding: 'view' }) }
    }
    let r = raw()
    const kept = await r.records.iterator({ limit: 2 }).all()
    await r.db.close()
    const s2 = await LevelOutboxStore.open({ dir })
    assert.is(await s2.ackThrough(2), 2)
    assert.is((await s2.stats()).count, 2)
    await s2.close()
    // Put back: what a stop between the ack's batch (the books) and its range delete leaves.
    r = raw()
    for (const [k, v] of kept) await r.records.put(k, v)
    await r.db.close()
    const s3 = await LevelOutboxStore.open({ dir })
    try {
      assert.is((await s3.stats()).count, 4)
      assert.equal((await s3.read()).map((x) => [x.seq, x.data]), [[1, { n: 1 }], [2, { n: 2 }], [3, { n: 3 }], [4, { n: 4 }]])
      assert.is(await s3.ackThrough(3), 3)
      assert.equal([(await s3.stats()).count, (await s3.read()).map((x) => x.seq)], [1, [4]])
    } finally {
      await s3.close()
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('after a kill -9 of the writing process the books still match the keys', async () => {
  const dir = tmp()
  const twin = tmp()
  try {
    const url = new URL('../../../device/store/index.js', import.meta.url).href
    const script = `const { LevelOutboxStore } = await import(${JSON.stringify(url)});
      const s = await LevelOutboxStore.open({ dir: process.argv[1] });
      let n = 0; process.stdout.write('open\\n');
      for (;;) { await s.commit({ records: [{ kind: n % 3 ? 'result' : 'log', fn: 'f', time: 1, data: { n } }] }); if (++n % 50 === 0) await s.ackThrough(n - 40) }`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
    await new Promise((resolve) => setTimeout(resolve, 400))
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    fs.cpSync(dir, twin, { recursive: true })
    await editCounters(twin, (c) => { delete c.books })
    assert.equal(await statsOf(dir), await statsOf(twin))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    fs.rmSync(twin, { recursive: true, force: true })
  }
})

test.run()
