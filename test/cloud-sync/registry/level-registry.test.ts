// The LevelDB registry: the abstract suite, then what only this backend has (how much it
// writes per batch, and bringing up a registry written before outbox streams).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Level } from 'level'
import { Encoder } from 'cbor-x'
import { LevelRegistry } from '../../../cloud-sync/registry/index.js'
import { registrySuite } from './abstract-suite.js'

registrySuite('level', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-registry-'))
  return {
    open: async () => await LevelRegistry.open(dir),
    destroy: async () => { rmSync(dir, { recursive: true, force: true }) }
  }
})

const test = suite('LevelRegistry')
const raw = (dir: string): Level<string, Uint8Array> => new Level<string, Uint8Array>(path.join(dir, 'registry'), { keyEncoding: 'utf8', valueEncoding: 'view' })
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const rec = (seq: number, n = seq): { seq: number, kind: 'result', fn: string, time: number, data: unknown } => ({ seq, kind: 'result', fn: 'f', time: 1_700_000_000_000 + seq, data: { n } })

test('[W4] gap bookkeeping does not grow per batch: 4,000 holes, and every stored value stays small', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-registry-'))
  try {
    const reg = await LevelRegistry.open(dir)
    await reg.addDevice({ id: 'gh-01', secretHash: 'h', createdAt: 1 })
    // One-record batches two seqs apart: every odd seq is a hole above the high-water.
    for (let i = 1; i <= 4000; i++) await reg.ingest('gh-01', { stream: '0123456789abcdef', records: [rec(2 * i)], gaps: [] }, i)
    assert.is((await reg.getDevice('gh-01'))?.highWater, 0)
    await reg.close()
    const db = raw(dir)
    let largest = 0
    let ranges = 0
    try {
      for await (const [key, value] of db.iterator()) {
        largest = Math.max(largest, value.byteLength)
        if (key.startsWith('!a!')) ranges++
      }
    } finally {
      await db.close()
    }
    // Before streams, the device row carried the whole list: 53 KiB rewritten by each batch.
    assert.ok(largest < 1024, `the largest stored value is ${largest} bytes`)
    assert.is(ranges, 4000, 'one key per range above the high-water')
    const again = await LevelRegistry.open(dir)
    try {
      assert.is((await again.ingest('gh-01', { stream: '0123456789abcdef', records: [rec(1)], gaps: [] }, 9)).highWater, 2)
      assert.is((await again.ingest('gh-01', { stream: '0123456789abcdef', records: [rec(3)], gaps: [] }, 9)).highWater, 4)
    } finally {
      await again.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a registry from before streams is brought up at open: its records, gaps and ranges become the legacy stream', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-registry-'))
  try {
    // Format 1, as cloud-sync wrote it before outbox streams.
    const db = raw(dir)
    await db.open()
    const sub = (name: string): ReturnType<typeof db.sublevel<string, Uint8Array>> => db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
    const pad = (n: number): string => String(n).padStart(16, '0')
    await db.batch([
      { type: 'put', sublevel: sub('d'), key: 'gh-01', value: cbor.encode({ id: 'gh-01', secretHash: 'h', createdAt: 1, lastSeen: 9, highWater: 3, counts: { stored: 3, duplicates: 0, gaps: 1, gapSeqs: 1 }, above: [[6, 6]] }) },
      { type: 'put', sublevel: sub('d'), key: 'gh-02', value: cbor.encode({ id: 'gh-02', secretHash: 'h', createdAt: 1, highWater: 0, counts: { stored: 0, duplicates: 0, gaps: 0, gapSeqs: 0 } }) },
      { type: 'put', sublevel: sub('c'), key: `gh-01!${pad(2)}`, value: cbor.encode({ r: 5, recs: [1, 2].map((s) => ({ s, k: 'result', f: 'f', t: rec(s).time, d: { n: s } })) }) },
      { type: 'put', sublevel: sub('c'), key: `gh-01!${pad(6)}`, value: cbor.encode({ r: 6, recs: [{ s: 6, k: 'result', f: 'f', t: rec(6).time, d: { n: 6 } }] }) },
      { type: 'put', sublevel: sub('f'), key: `gh-01!f!${pad(2)}`, value: new Uint8Array(0) },
      { type: 'put', sublevel: sub('f'), key: `gh-01!f!${pad(6)}`, value: new Uint8Array(0) },
      { type: 'put', sublevel: sub('k'), key: `gh-01!result!${pad(2)}`, value: new Uint8Array(0) },
      { type: 'put', sublevel: sub('g'), key: `gh-01!${pad(3)}`, value: cbor.encode({ device: 'gh-01', from: 3, to: 3, reason: 'dropped', receivedAt: 5 }) }
    ])
    await db.close()
    for (let open = 0; open < 2; open++) {
      const reg = await LevelRegistry.open(dir)
      try {
        const d = await reg.getDevice('gh-01')
        assert.equal([d?.streams, d?.stream, d?.highWater, d?.counts.stored, 'above' in (d ?? {})], [1, 'legacy', 3, 3, false])
        assert.equal((await reg.getDevice('gh-02'))?.streams, 0)
        assert.equal((await reg.records('gh-01')).map((r) => [r.stream, r.seq]), [['legacy', 6], ['legacy', 2], ['legacy', 1]])
        // 6 sits above the hole 4..5, so a follower is not given it yet (RecordQuery.afterSeq).
        assert.equal((await reg.records('gh-01', { fn: 'f', afterSeq: 1 })).map((r) => r.seq), [2])
        assert.equal((await reg.gaps('gh-01')).map((g) => [g.stream, g.from, g.to]), [['legacy', 3, 3]])
      } finally {
        await reg.close()
      }
    }
    const reg = await LevelRegistry.open(dir)
    try {
      // A batch without a stream goes on where the old one stopped; the range kept above the mark joins.
      assert.is((await reg.ingest('gh-01', { records: [rec(4), rec(5)], gaps: [] }, 10)).highWater, 6)
      assert.equal((await reg.ingest('gh-01', { records: [rec(2, 99)], gaps: [] }, 11)).conflict, { seq: 2 })
      assert.equal((await reg.ingest('gh-01', { records: [rec(3)], gaps: [] }, 12)).conflict, { seq: 3 }, 'a record under a dropped gap')
    } finally {
      await reg.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
