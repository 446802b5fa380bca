// The behaviour every cloud registry backend must have (the pattern of aedes-persistence's
// abstract.js): a backend's test file calls registrySuite(test factory, name, open). The
// deployment cases are in ./abstract-suite-deploy.js and run as part of it.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Registry, StoredRecord } from '../../../cloud-sync/registry/index.js'
import { encodeFrame } from '../../../src/wire/index.js'
import { deployCases } from './abstract-suite-deploy.js'

/** Opens the backend over the same storage each time it is called, until `destroy`. */
export interface RegistryFactory { open: () => Promise<Registry>, destroy: () => Promise<void> }

type Rec = Omit<StoredRecord, 'device' | 'receivedAt'>
const rec = (seq: number, fn = 'f', kind: Rec['kind'] = 'result'): Rec => ({ seq, kind, fn, time: 1_700_000_000_000 + seq, data: { n: seq } })
const range = (a: number, b: number, fn?: string): Rec[] => Array.from({ length: b - a + 1 }, (_, i) => rec(a + i, fn))

export function registrySuite (name: string, make: () => RegistryFactory): void {
  const s = suite(`cloud registry [${name}]`)
  const it = (title: string, fn: (reg: Registry, f: RegistryFactory) => Promise<void>): void => {
    s(title, async () => {
      const f = make()
      const reg = await f.open()
      try { await fn(reg, f) } finally { await reg.close().catch(() => {}); await f.destroy() }
    })
  }
  const add = async (reg: Registry, id = 'gh-01'): Promise<void> => { await reg.addDevice({ id, group: 'greenhouse', secretHash: 'h', createdAt: 1 }) }

  it('devices are added, listed and revoked; an id is never reused', async (reg) => {
    const row = await reg.addDevice({ id: 'gh-01', group: 'greenhouse', secretHash: 'h', createdAt: 5 })
    assert.is(row.highWater, 0)
    await reg.addDevice({ id: 'gh-02', secretHash: 'h2', createdAt: 6 })
    assert.equal((await reg.listDevices()).map((d) => [d.id, d.group]), [['gh-01', 'greenhouse'], ['gh-02', undefined]])
    try { await reg.addDevice({ id: 'gh-01', secretHash: 'x', createdAt: 7 }); assert.unreachable() } catch (err) { assert.is((err as { code: string }).code, 'LAMBKIN_DEVICE_EXISTS') }
    assert.ok(await reg.revokeDevice('gh-01', 9))
    assert.not.ok(await reg.revokeDevice('nope', 9))
    assert.is((await reg.getDevice('gh-01'))?.revokedAt, 9)
    try { await reg.addDevice({ id: 'gh-01', secretHash: 'x', createdAt: 10 }); assert.unreachable() } catch (err) { assert.is((err as { code: string }).code, 'LAMBKIN_DEVICE_EXISTS') }
  })

  it('[W4] in-order batches advance the high-water; a re-sent batch is counted as duplicates', async (reg) => {
    await add(reg)
    assert.equal(await reg.ingest('gh-01', range(1, 3), [], 100), { stored: 3, duplicates: 0, gaps: 0, highWater: 3 })
    assert.equal(await reg.ingest('gh-01', range(1, 5), [], 101), { stored: 2, duplicates: 3, gaps: 0, highWater: 5 })
    const d = await reg.getDevice('gh-01')
    assert.equal(d?.counts, { stored: 5, duplicates: 3, gaps: 0, gapSeqs: 0 })
    assert.is(d?.lastSeen, 101)
  })

  it('[W4] out-of-order batches are kept and the high-water waits for the hole, then jumps', async (reg) => {
    await add(reg)
    assert.is((await reg.ingest('gh-01', range(4, 6), [], 1)).highWater, 0)
    assert.is((await reg.ingest('gh-01', range(4, 6), [], 2)).duplicates, 3)
    assert.is((await reg.ingest('gh-01', range(1, 3), [], 3)).highWater, 6)
    assert.is((await reg.records('gh-01', { limit: 100 })).length, 6)
  })

  it('[W4] a declared gap is stored once, counted, and never waited for', async (reg) => {
    await add(reg)
    const r = await reg.ingest('gh-01', [...range(1, 2), ...range(6, 7)], [{ from: 3, to: 5, reason: 'dropped' }], 1)
    assert.equal(r, { stored: 4, duplicates: 0, gaps: 1, highWater: 7 })
    assert.is((await reg.ingest('gh-01', range(6, 7), [{ from: 3, to: 5, reason: 'dropped' }], 2)).gaps, 0)
    assert.equal((await reg.gaps('gh-01')).map((g) => [g.from, g.to, g.reason]), [[3, 5, 'dropped']])
    assert.equal((await reg.getDevice('gh-01'))?.counts, { stored: 4, duplicates: 2, gaps: 1, gapSeqs: 3 })
    // A gap that arrives before the records below it is kept and joined later.
    assert.is((await reg.ingest('gh-01', range(10, 10), [{ from: 9, to: 9, reason: 'excluded' }], 3)).highWater, 7)
    assert.is((await reg.ingest('gh-01', range(8, 8), [], 4)).highWater, 10)
  })

  it('a batch handed over with its wire bytes reads back the same as one without', async (reg) => {
    await add(reg)
    const recs = [rec(1, 'a'), rec(2, 'b', 'log'), rec(3, 'a')]
    await reg.ingest('gh-01', recs, [], 7, encodeFrame({ records: recs }))
    await reg.ingest('gh-01', [rec(4, 'a')], [], 8)
    assert.equal((await reg.records('gh-01', { afterSeq: 0 })).map((r) => [r.seq, r.kind, r.fn, r.receivedAt, r.data]), [[1, 'result', 'a', 7, { n: 1 }], [2, 'log', 'b', 7, { n: 2 }], [3, 'result', 'a', 7, { n: 3 }], [4, 'result', 'a', 8, { n: 4 }]])
    assert.equal((await reg.records('gh-01', { fn: 'a', limit: 2 })).map((r) => r.seq), [4, 3])
    assert.equal((await reg.records('gh-01', { kinds: ['log'] })).map((r) => r.seq), [2])
  })

  it('[W8] a batch far past the high-water, or a gap over stored seqs, is refused and stores nothing', async (reg) => {
    await add(reg)
    await reg.ingest('gh-01', range(1, 3), [], 1)
    const reason = async (p: Promise<unknown>): Promise<string> => {
      try { await p } catch (err) { return `${(err as { code: string }).code} ${String((err as { info: { reason: string } }).info.reason)}` }
      return 'stored'
    }
    assert.is(await reason(reg.ingest('gh-01', range(3_000_000, 3_000_001), [], 2)), 'LAMBKIN_WIRE_INVALID too-far-ahead')
    assert.is(await reason(reg.ingest('gh-01', range(10, 11), [], 3)), 'stored')
    assert.is(await reason(reg.ingest('gh-01', [], [{ from: 4, to: 100, reason: 'dropped' }], 4)), 'LAMBKIN_WIRE_INVALID overlap')
    assert.is(await reason(reg.ingest('gh-01', [], [{ from: 4, to: 9, reason: 'dropped' }], 5)), 'stored')
    const d = await reg.getDevice('gh-01')
    assert.equal([d?.highWater, d?.counts.gapSeqs, d?.counts.stored], [11, 6, 5])
  })

  it('ingest for an unknown device is LAMBKIN_DEVICE_NOT_FOUND and stores nothing', async (reg) => {
    try { await reg.ingest('ghost', range(1, 2), [], 1); assert.unreachable() } catch (err) { assert.is((err as { code: string }).code, 'LAMBKIN_DEVICE_NOT_FOUND') }
    assert.equal(await reg.records('ghost'), [])
  })

  it('concurrent ingests for one device apply one at a time', async (reg) => {
    await add(reg)
    await add(reg, 'gh-02')
    const all = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => reg.ingest('gh-01', range(i * 10 + 1, i * 10 + 10), [], i)),
      ...Array.from({ length: 20 }, (_, i) => reg.ingest('gh-02', range(1, i + 1), [], i))
    ])
    assert.is(all[19].highWater, 200)
    assert.is((await reg.getDevice('gh-01'))?.counts.stored, 200)
    assert.is((await reg.getDevice('gh-02'))?.counts.stored, 20)
    assert.is((await reg.getDevice('gh-02'))?.counts.duplicates, 190)
  })

  it('records: newest first with a limit, by function, by kind, and forward after a seq', async (reg) => {
    await add(reg)
    await reg.ingest('gh-01', [rec(1, 'a'), rec(2, 'b'), rec(3, 'a', 'log'), rec(4, 'a'), rec(5, 'b', 'dead-letter')], [], 1)
    assert.equal((await reg.records('gh-01', { limit: 2 })).map((r) => r.seq), [5, 4])
    assert.equal((await reg.records('gh-01', { fn: 'a' })).map((r) => r.seq), [4, 3, 1])
    assert.equal((await reg.records('gh-01', { fn: 'a', kinds: ['result'] })).map((r) => r.seq), [4, 1])
    assert.equal((await reg.records('gh-01', { afterSeq: 2, limit: 2 })).map((r) => r.seq), [3, 4])
    const one = (await reg.records('gh-01', { limit: 1 }))[0]
    assert.equal({ ...one }, { device: 'gh-01', seq: 5, kind: 'dead-letter', fn: 'b', time: 1_700_000_000_005, receivedAt: 1, data: { n: 5 } })
    assert.equal(await reg.records('gh-02'), [])
  })

  it('status and heartbeats are kept with when they arrived; everything survives a reopen', async (reg, f) => {
    await add(reg)
    await reg.touch('gh-01', { lastSeen: 50, status: { state: 'online', agent: '0.1.0', functions: [{ name: 'f', version: '1' }] } })
    await reg.touch('gh-01', { lastSeen: 60, heartbeat: { time: 59, backlog: { records: 3, bytes: 30 }, uploadedToday: 99, lastSeq: 12 } })
    await reg.touch('ghost', { lastSeen: 60 })
    await reg.ingest('gh-01', range(1, 3), [{ from: 4, to: 4, reason: 'excluded' }], 61)
    await reg.close()
    const again = await f.open()
    try {
      const d = await again.getDevice('gh-01')
      assert.is(d?.status?.state, 'online')
      assert.is(d?.status?.at, 50)
      assert.is(d?.heartbeat?.backlog.records, 3)
      assert.is(d?.lastSeen, 61)
      assert.is(d?.highWater, 4)
      assert.is((await again.records('gh-01')).length, 3)
      assert.is(await again.getDevice('ghost'), undefined)
    } finally {
      await again.close()
    }
  })

  deployCases(it)

  s.run()
}
