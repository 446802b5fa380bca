// An ack takes the records it covers off the books from what the reads that sent them saw
// (device/store/read-run.ts), not by walking their keys again: the run answers only for seqs
// its reads covered with the books unchanged since, and the books after any mix of reads,
// acks, quota drops, deletes, TTL purges and restarts equal a count of the keys.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Encoder } from 'cbor-x'
import { AbstractLevel } from 'abstract-level'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LevelOutboxStore, storePath } from '../../../device/store/index.js'
import { READ_RUN_MAX, ReadRun } from '../../../device/store/read-run.js'
import type { NewRecord, RecordKind } from '../../../device/store/types.js'
import { RECORD_KINDS } from '../../../device/store/types.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-readrun-'))
const KINDS: RecordKind[] = ['result', 'log', 'metric', 'emit']
const rec = (i: number, extra: Partial<NewRecord> = {}): NewRecord => ({ kind: KINDS[i % KINDS.length], fn: 'f', time: 1_700_000_000_000 + i, data: { i, pad: 'x'.repeat(i % 7) }, ...extra })
const recs = (from: number, n: number): NewRecord[] => Array.from({ length: n }, (_, k) => rec(from + k))

/**
 * The open store's books (stats by kind) against a count of its keys, made after closing it
 * (an open could rebuild books that do not fit the keys, so they are taken before).
 */
async function booksMatchKeys (s: LevelOutboxStore, dir: string): Promise<{ books: unknown, keys: unknown }> {
  const st = await s.stats()
  await s.close()
  const books = { count: st.count, bytes: st.bytes, byKind: st.byKind }
  const db = new Level<string, Uint8Array>(storePath(dir), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const records = db.sublevel<string, Uint8Array>('r', { keyEncoding: 'utf8', valueEncoding: 'view' })
  const byKind = Object.fromEntries(RECORD_KINDS.map((k) => [k, { count: 0, bytes: 0 }])) as Record<RecordKind, { count: number, bytes: number }>
  const code: Record<string, RecordKind> = { l: 'log', m: 'metric', e: 'emit', r: 'result', d: 'dead-letter' }
  let count = 0
  let bytes = 0
  for await (const [key, value] of records.iterator()) {
    const k = code[key.charAt(16)]
    byKind[k].count++
    byKind[k].bytes += value.length
    count++
    bytes += value.length
  }
  // The counters must parse too (the books were written with them).
  const sys = db.sublevel<string, Uint8Array>('y', { keyEncoding: 'utf8', valueEncoding: 'view' })
  assert.ok(cbor.decode(await sys.get('counters') as Uint8Array))
  await db.close()
  return { books, keys: { count, bytes, byKind } }
}

test('ReadRun: an ack inside what reads covered comes from the run; outside it, or after a removal, it does not', () => {
  const run = new ReadRun()
  run.record(1, { removals: 0, lastSeq: 1e6 }, [1, 2, 4, 5], ['log', 'result', 'result', 'metric'], [10, 20, 40, 50])
  // A second read right after the first extends the run; one that starts inside it replaces its tail.
  run.record(6, { removals: 0, lastSeq: 1e6 }, [6, 7], ['log', 'log'], [60, 70])
  run.record(7, { removals: 0, lastSeq: 1e6 }, [7, 8], ['emit', 'emit'], [71, 80])
  assert.is(run.take(1, 9, 0), undefined, 'seq 9 was not read')
  assert.is(run.take(1, 4, 1), undefined, 'the books moved since the reads')
  const t = run.take(1, 4, 0)
  assert.ok(t)
  assert.is(t.n, 3)
  const i = (k: RecordKind): number => RECORD_KINDS.indexOf(k)
  assert.is(t.count[i('result')], 2)
  assert.is(t.bytes[i('result')], 60)
  assert.is(t.count[i('log')], 1)
  assert.is(run.take(1, 6, 0), undefined, 'seqs 1-4 are gone from the run')
  const u = run.take(5, 8, 0)
  assert.ok(u)
  assert.is(u.n, 4)
  assert.is(u.bytes[i('emit')], 151)
  assert.is(u.bytes[i('log')], 60)
  // A read that does not start inside or right after the run replaces it.
  run.record(20, { removals: 0, lastSeq: 1e6 }, [21], ['log'], [5])
  assert.is(run.take(9, 21, 0), undefined)
  assert.ok(run.take(20, 21, 0))
  run.record(30, { removals: 0, lastSeq: 1e6 }, [31], ['log'], [5])
  run.clear()
  assert.is(run.take(30, 31, 0), undefined)
})

test('ReadRun: keys above the books\' last seq when the read began are left out (a batch still being written)', () => {
  const run = new ReadRun()
  run.record(1, { removals: 0, lastSeq: 5 }, [1, 2, 3, 4, 5, 6, 7, 8], Array(8).fill('log'), Array(8).fill(1))
  assert.is(run.take(1, 6, 0), undefined)
  assert.is(run.take(1, 5, 0)?.n, 5)
})

test('ReadRun: grows past its first arrays and keeps every entry', () => {
  const run = new ReadRun()
  const n = 5000
  for (let from = 1; from <= n; from += 1000) {
    const seqs = Array.from({ length: 1000 }, (_, k) => from + k)
    run.record(from, { removals: 3, lastSeq: 1e6 }, seqs, seqs.map(() => 'result'), seqs.map(() => 2))
  }
  const t = run.take(1, n, 3)
  assert.ok(t)
  assert.is(t.n, n)
  assert.is(t.bytes[RECORD_KINDS.indexOf('result')], 2 * n)
  // A read of more than a run holds is not kept; a small one after it is.
  const big = Array.from({ length: READ_RUN_MAX + 1 }, (_, k) => k + 1)
  run.record(1, { removals: 3, lastSeq: 1e6 }, big, big.map(() => 'log'), big.map(() => 1))
  assert.is(run.take(1, 10, 3), undefined)
  run.record(1, { removals: 3, lastSeq: 1e6 }, [1, 2], ['log', 'log'], [1, 1])
  assert.is(run.take(1, 2, 3)?.n, 2)
})

test('a drain\'s reads and acks, split anywhere, leave the books equal to the keys', async () => {
  const dir = tmp()
  try {
    const s = await LevelOutboxStore.open({ dir })
    for (let i = 1; i <= 3000; i += 500) await s.commit({ records: recs(i, 500) })
    // Reads of 700 from the last ack; acks that end inside a read and at its end.
    let after = 0
    let prev = 0
    for (const ack of [300, 700, 1400, 1401, 2100, 2800, 3000]) {
      while (after < ack) {
        const got = await s.readEncoded({ afterSeq: after, limit: 700 })
        after = got[got.length - 1].seq
      }
      assert.is(await s.ackThrough(ack), ack - prev)
      after = prev = ack
    }
    assert.is((await s.stats()).count, 0)
    const { books, keys } = await booksMatchKeys(s, dir)
    assert.equal(books, keys)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('quota drops, deletes, TTL purges and reads of some kinds between a read and its ack: the books still equal the keys', async () => {
  const dir = tmp()
  const clock = new FakeClock(1_700_000_000_000)
  try {
    const s = await LevelOutboxStore.open({ dir, quotaBytes: 16_000, clock })
    await s.commit({ records: recs(1, 400) })
    // A quota drop between the read and the ack: the oldest records go.
    await s.read({ limit: 400 })
    await s.commit({ records: recs(401, 400) })
    await s.ackThrough(350)
    const dropped = (await s.stats()).dropped
    assert.ok(KINDS.some((k) => dropped[k] > 0), 'the quota dropped records')
    await s.ackThrough(450)
    // A delete between a read and its ack.
    const before = await s.readEncoded({ afterSeq: 450, limit: 100 })
    await s.delete([before[3].seq, before[10].seq])
    await s.ackThrough(before[50].seq)
    // A read of some kinds only, then an ack.
    await s.read({ afterSeq: before[50].seq, kinds: ['log'], limit: 50 })
    await s.ackThrough(before[80].seq)
    // Records that expire: the read purges them, then the ack.
    const ttl = await s.commit({ records: Array.from({ length: 20 }, (_, k) => rec(900 + k, { ttlMs: 1000 })) })
    await clock.advance(5000)
    const rest = await s.read({ afterSeq: before[80].seq })
    assert.ok(rest.every((r) => !ttl.seqs.includes(r.seq)), 'expired records are not read')
    await s.ackThrough(ttl.seqs[ttl.seqs.length - 1])
    const { books, keys } = await booksMatchKeys(s, dir)
    assert.equal(books, keys)
    assert.is((books as { count: number }).count, 0)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('reads racing acks, as a drain does (the next batch is read while the last ack deletes): every record once, in order, the books equal the keys', async () => {
  const dir = tmp()
  try {
    const s = await LevelOutboxStore.open({ dir })
    const writing = (async () => { for (let i = 1; i <= 4000; i += 250) await s.commit({ records: recs(i, 250) }) })()
    const got: number[] = []
    const acks: Array<Promise<number>> = []
    let after = 0
    while (after < 4000) {
      const batch = await s.readEncoded({ afterSeq: after, limit: 300 })
      if (batch.length === 0) { await new Promise((resolve) => setTimeout(resolve, 1)); continue }
      for (const r of batch) got.push(r.seq)
      const through = batch[batch.length - 1].seq
      // The ack of the batch before this one, not awaited: it runs under the next read.
      if (after > 0) acks.push(s.ackThrough(after))
      after = through
    }
    await writing
    acks.push(s.ackThrough(after))
    assert.is((await Promise.all(acks)).reduce((a, b) => a + b, 0), 4000)
    assert.equal(got, Array.from({ length: 4000 }, (_, i) => i + 1))
    assert.is((await s.stats()).count, 0)
    const { books, keys } = await booksMatchKeys(s, dir)
    assert.equal(books, keys)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a restart between a read and its ack: the ack walks the keys, the books equal them', async () => {
  const dir = tmp()
  try {
    let s = await LevelOutboxStore.open({ dir })
    await s.commit({ records: recs(1, 1000) })
    await s.readEncoded({ limit: 600 })
    await s.ackThrough(200)
    await s.close()
    s = await LevelOutboxStore.open({ dir })
    assert.is(await s.ackThrough(600), 400)
    await s.readEncoded({ afterSeq: 600, limit: 1000 })
    assert.is(await s.ackThrough(1000), 400)
    const { books, keys } = await booksMatchKeys(s, dir)
    assert.equal(books, keys)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('an ack that had to walk its keys leaves the next read standing for the next ack (Ledger.removeAcked): no second walk, the books equal the keys', async () => {
  const dir = tmp()
  // Walks are key iterators on the records (level-plan.ts countOff); reads use the root iterator.
  const proto = AbstractLevel.prototype as unknown as { keys: (...a: unknown[]) => unknown }
  const keys = proto.keys
  let walks = 0
  proto.keys = function (this: unknown, ...a: unknown[]) { walks++; return keys.apply(this, a) }
  try {
    const s = await LevelOutboxStore.open({ dir })
    await s.commit({ records: recs(1, 1000) })
    await s.readEncoded({ limit: 300 })
    // Past what was read: this ack walks, while the next batch is read (as a drain does).
    const [acked, next] = await Promise.all([s.ackThrough(350), s.readEncoded({ afterSeq: 350, limit: 300 })])
    assert.is(acked, 350)
    assert.is(next.length, 300)
    const first = walks
    assert.ok(first > 0, 'the first ack walked')
    assert.is(await s.ackThrough(650), 300)
    assert.is(walks, first, 'the second ack came from its read')
    await s.readEncoded({ afterSeq: 650, limit: 1000 })
    assert.is(await s.ackThrough(1000), 350)
    assert.is(walks, first)
    const { books, keys: stored } = await booksMatchKeys(s, dir)
    assert.equal(books, stored)
  } finally {
    proto.keys = keys
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
