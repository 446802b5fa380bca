// The registry contract's cases for outbox streams [W4]: a new stream beside the old, following
// and paging across streams, and conflicts (the same seq with other bytes). Run by registrySuite.
import * as assert from 'uvu/assert'
import type { Registry, StoredRecord } from '../../../cloud-sync/registry/index.js'
import type { Case } from './abstract-suite-deploy.js'
import { A, B, ingest, range, rec } from './suite-records.js'

export function streamCases (it: Case, add: (reg: Registry, id?: string) => Promise<void>): void {
  const seqs = (rs: StoredRecord[]): Array<[string, number]> => rs.map((r) => [r.stream, r.seq])

  it('[W4] a new stream from a known device is new data: its seqs start again and are stored beside the old', async (reg) => {
    await add(reg)
    await ingest(reg, 'gh-01', range(1, 3), [], 10)
    const r = await ingest(reg, 'gh-01', range(1, 2), [], 11, { stream: A })
    assert.equal(r, { stored: 2, duplicates: 0, gaps: 0, highWater: 2, stream: A, newStream: true })
    assert.is((await ingest(reg, 'gh-01', range(1, 3), [], 12, { stream: A })).newStream, false)
    const d = await reg.getDevice('gh-01')
    assert.equal([d?.streams, d?.stream, d?.highWater, d?.counts.stored, d?.counts.duplicates], [2, A, 3, 6, 2])
    assert.equal((await reg.streams('gh-01')).map((st) => [st.id, st.ord, st.highWater, st.counts.stored]), [['legacy', 1, 3, 3], [A, 2, 3, 3]])
    // Records in (stream first seen, seq) order: newest first, or oldest first after a position.
    assert.equal(seqs(await reg.records('gh-01', { limit: 4 })), [[A, 3], [A, 2], [A, 1], ['legacy', 3]])
    assert.equal(seqs(await reg.records('gh-01', { afterSeq: 2, stream: 'legacy' })), [['legacy', 3], [A, 1], [A, 2], [A, 3]])
    assert.equal(seqs(await reg.records('gh-01', { afterSeq: 1 })), [[A, 2], [A, 3]], 'without a stream: the current one')
    assert.equal(seqs(await reg.records('gh-01', { afterSeq: 0, stream: A, fn: 'f' })), [[A, 1], [A, 2], [A, 3]])
    await ingest(reg, 'gh-01', [], [{ from: 1, to: 2, reason: 'excluded' }], 13, { stream: B })
    assert.equal((await reg.gaps('gh-01')).map((g) => [g.stream, g.from, g.to]), [[B, 1, 2]])
    assert.equal((await reg.streams('gh-01')).map((st) => st.id), ['legacy', A, B])
  })

  it('[W4] a follower is not given records above a hole: batches that commit out of order reach it in seq order', async (reg) => {
    await add(reg)
    await ingest(reg, 'gh-01', range(1, 5), [], 1, { stream: A })
    // The batch after the next commits first (two instances, or a retried batch).
    await ingest(reg, 'gh-01', range(11, 15), [], 2, { stream: A })
    assert.equal(seqs(await reg.records('gh-01', { afterSeq: 0 })), range(1, 5).map((r) => [A, r.seq]), 'held back above the hole')
    assert.equal(seqs(await reg.records('gh-01', { afterSeq: 5 })), [], 'a follower at 5 waits')
    assert.equal(seqs(await reg.records('gh-01', { limit: 3 })), [[A, 15], [A, 14], [A, 13]], 'the newest-first listing shows everything stored')
    await ingest(reg, 'gh-01', range(6, 10), [], 3, { stream: A })
    assert.equal(seqs(await reg.records('gh-01', { afterSeq: 5 })), range(6, 15).map((r) => [A, r.seq]), 'the hole filled: 6..15 in order')
    // A hole declared a gap releases what is above it too.
    await ingest(reg, 'gh-01', range(18, 19), [], 4, { stream: A })
    assert.equal(seqs(await reg.records('gh-01', { afterSeq: 15 })), [])
    await ingest(reg, 'gh-01', [], [{ from: 16, to: 17, reason: 'dropped' }], 5, { stream: A })
    assert.equal(seqs(await reg.records('gh-01', { afterSeq: 15 })), [[A, 18], [A, 19]])
  })

  it('[W4] paging back: records before a (stream, seq) position, newest first, across chunks and streams', async (reg) => {
    await add(reg)
    await ingest(reg, 'gh-01', range(1, 3), [], 10)
    await ingest(reg, 'gh-01', [...range(1, 4, 'f'), rec(5, 'g'), ...range(6, 9, 'f')], [], 11, { stream: A })
    await ingest(reg, 'gh-01', range(10, 12, 'f'), [], 12, { stream: A })
    const all = seqs(await reg.records('gh-01', { limit: 100 }))
    // Every page starts right after the last record of the one before, whatever the page size.
    for (const size of [1, 2, 5]) {
      const walked: Array<[string, number]> = []
      let before: { stream: string, seq: number } | undefined
      // Bounded, so a backend that ignores `before` fails here instead of looping.
      for (let n = 0; n <= all.length; n++) {
        const page = await reg.records('gh-01', { limit: size, before })
        if (page.length === 0) break
        walked.push(...seqs(page))
        before = { stream: page[page.length - 1].stream, seq: page[page.length - 1].seq }
      }
      assert.equal(walked, all, `pages of ${size}`)
    }
    // Inside a chunk, at a chunk's edge, across streams; by function; an unknown stream has nothing.
    assert.equal(seqs(await reg.records('gh-01', { limit: 3, before: { stream: A, seq: 7 } })), [[A, 6], [A, 5], [A, 4]])
    assert.equal(seqs(await reg.records('gh-01', { limit: 2, before: { stream: A, seq: 10 } })), [[A, 9], [A, 8]])
    assert.equal(seqs(await reg.records('gh-01', { limit: 3, before: { stream: A, seq: 2 } })), [[A, 1], ['legacy', 3], ['legacy', 2]])
    assert.equal(seqs(await reg.records('gh-01', { fn: 'f', limit: 3, before: { stream: A, seq: 7 } })), [[A, 6], [A, 4], [A, 3]])
    assert.equal(seqs(await reg.records('gh-01', { fn: 'g', before: { stream: A, seq: 12 } })), [[A, 5]])
    assert.equal(seqs(await reg.records('gh-01', { before: { stream: 'legacy', seq: 1 } })), [])
    assert.equal(seqs(await reg.records('gh-01', { before: { stream: B, seq: 5 } })), [])
  })

  it('[W4] the same seq with other bytes is a conflict: refused whole, nothing stored, counted on the stream and the device', async (reg) => {
    await add(reg)
    await ingest(reg, 'gh-01', range(1, 5), [], 1, { stream: A })
    assert.equal(await ingest(reg, 'gh-01', range(1, 5), [], 2, { stream: A }), { stored: 0, duplicates: 5, gaps: 0, highWater: 5, stream: A, newStream: false })
    const other = [...range(4, 4), { ...rec(5), data: { n: 'another board' } }, ...range(6, 8)]
    assert.equal(await ingest(reg, 'gh-01', other, [], 3, { stream: A }), { stored: 0, duplicates: 0, gaps: 0, highWater: 5, stream: A, newStream: false, conflict: { seq: 5 } })
    assert.equal((await reg.records('gh-01', { limit: 100 })).map((r) => r.seq), [5, 4, 3, 2, 1], 'nothing of the refused batch is stored')
    assert.equal((await reg.records('gh-01', { limit: 1 }))[0].data, { n: 5 }, 'the first board\'s record is kept')
    // Other fields count too: the time, the kind, the function.
    assert.equal((await ingest(reg, 'gh-01', [{ ...rec(2), time: 1 }], [], 4, { stream: A })).conflict, { seq: 2 })
    assert.equal((await ingest(reg, 'gh-01', [{ ...rec(3), kind: 'emit' }], [], 5, { stream: A })).conflict, { seq: 3 })
    assert.equal((await ingest(reg, 'gh-01', [{ ...rec(3), fn: 'g' }], [], 6, { stream: A })).conflict, { seq: 3 })
    const d = await reg.getDevice('gh-01')
    assert.equal(d?.conflict, { count: 4, firstAt: 3, lastAt: 6, stream: A, seq: 3 })
    assert.equal(d?.counts, { stored: 5, duplicates: 5, gaps: 0, gapSeqs: 0 })
    assert.equal((await reg.streams('gh-01'))[0].conflicts, { count: 4, lastAt: 6, seq: 3 })
    // The same seqs in another stream are new data, never a conflict.
    assert.is((await ingest(reg, 'gh-01', other, [], 7, { stream: B })).stored, 5)
    assert.is((await ingest(reg, 'gh-01', range(6, 7), [], 8, { stream: A })).stored, 2)
  })

  it('[W4] a cleared conflict is gone from the device row (also after a reopen), its streams keep their counts, and the next refused batch holds a new one', async (first, f) => {
    let reg = first
    await add(reg)
    assert.is(await reg.clearConflict('nope'), undefined)
    assert.equal(await reg.clearConflict('gh-01'), { cleared: null })
    await ingest(reg, 'gh-01', range(1, 5), [], 1, { stream: A })
    const other = [{ ...rec(5), data: { n: 'another board' } }]
    await ingest(reg, 'gh-01', other, [], 2, { stream: A })
    await ingest(reg, 'gh-01', other, [], 3, { stream: A })
    assert.equal(await reg.clearConflict('gh-01'), { cleared: { count: 2, firstAt: 2, lastAt: 3, stream: A, seq: 5 } })
    await reg.close()
    reg = await f.open()
    try {
      const d = await reg.getDevice('gh-01')
      assert.is(d?.conflict, undefined)
      assert.is(d?.highWater, 5)
      assert.equal((await reg.listDevices())[0].conflict, undefined)
      assert.equal((await reg.streams('gh-01'))[0].conflicts, { count: 2, lastAt: 3, seq: 5 })
      assert.equal((await reg.records('gh-01', { limit: 100 })).map((r) => r.seq), [5, 4, 3, 2, 1])
      // Both boards still run: the next refused batch shows the conflict again, counted anew.
      assert.equal((await ingest(reg, 'gh-01', other, [], 9, { stream: A })).conflict, { seq: 5 })
      assert.equal((await reg.getDevice('gh-01'))?.conflict, { count: 1, firstAt: 9, lastAt: 9, stream: A, seq: 5 })
    } finally {
      await reg.close()
    }
  })

  it('[W4] duplicates are compared across the chunks they lie in, also after out-of-order arrival', async (reg) => {
    await add(reg)
    await ingest(reg, 'gh-01', range(3, 9), [], 1, { stream: A })
    assert.is((await ingest(reg, 'gh-01', range(1, 10), [], 2, { stream: A })).stored, 3)
    assert.is((await ingest(reg, 'gh-01', range(1, 12), [], 3, { stream: A })).duplicates, 10)
    for (const seq of [1, 2, 5, 9, 10, 12]) {
      const batch = range(1, 12).map((r) => r.seq === seq ? { ...r, data: { n: -seq } } : r)
      assert.equal((await ingest(reg, 'gh-01', batch, [], 4, { stream: A })).conflict, { seq }, `seq ${seq}`)
    }
    assert.equal((await reg.records('gh-01', { afterSeq: 0 })).map((r) => r.data), range(1, 12).map((r) => r.data))
  })

  it('[W4] a record under a seq its stream declared dropped is a conflict; under an excluded one, a duplicate', async (reg) => {
    await add(reg)
    await ingest(reg, 'gh-01', range(3, 3), [{ from: 1, to: 2, reason: 'dropped' }], 1, { stream: A })
    await ingest(reg, 'gh-01', range(6, 6), [{ from: 4, to: 5, reason: 'excluded' }], 2, { stream: A })
    assert.equal((await ingest(reg, 'gh-01', range(2, 3), [], 3, { stream: A })).conflict, { seq: 2 })
    assert.equal(await ingest(reg, 'gh-01', range(5, 7), [], 4, { stream: A }), { stored: 1, duplicates: 2, gaps: 0, highWater: 7, stream: A, newStream: false })
  })
}
