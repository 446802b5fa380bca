// The behaviour every cloud registry backend must have (the pattern of aedes-persistence's
// abstract.js): a backend's test file calls registrySuite(name, factory, options). The
// deployment cases are in ./abstract-suite-deploy.js and run as part of it. Cases only some
// backends can have are gated by `supports` flags (as abstract-level's suite does), and a
// backend that cannot run here (a server not installed) skips with its reason printed.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { IngestResult, Registry } from '../../../cloud-sync/registry/index.js'
import { dataBytes, embedData, encodeFrame } from '../../../src/wire/index.js'
import { deployCases } from './abstract-suite-deploy.js'
import { streamCases } from './abstract-suite-streams.js'
import { pageCases } from './abstract-suite-pages.js'
import { A, ingest, range, rec } from './suite-records.js'
import type { Rec } from './suite-records.js'
import { underCi } from '../../helpers/ci.js'

/** Opens the backend over the same storage each time it is called, until `destroy`. */
export interface RegistryFactory { open: () => Promise<Registry>, destroy: () => Promise<void> }

/** What a backend can do beyond the contract every backend has. */
export interface RegistrySupports {
  /** Several registry instances open on one storage at once (several cloud instances on one database). */
  sharedStorage?: boolean
}

/** Why a case is skipped on a backend without the feature it needs (printed with the skip). */
const NEEDS: Readonly<Record<keyof RegistrySupports, string>> = Object.freeze({
  sharedStorage: 'needs several instances open on one storage (supports.sharedStorage); this backend allows one opener'
})

export interface RegistrySuiteOptions {
  supports?: RegistrySupports
  /**
   * Why the backend cannot run here (a missing server binary): printed, and every case is
   * skipped; under CI (test/helpers/ci.ts) every case fails with it instead.
   */
  skip?: string
  /** Run before the first case and after the last (a server the factory's storage lives on). */
  before?: () => Promise<void>
  after?: () => Promise<void>
}

export function registrySuite (name: string, make: () => RegistryFactory, opts: RegistrySuiteOptions = {}): void {
  const s = suite(`cloud registry [${name}]`)
  const cannot = opts.skip
  if (cannot === undefined) {
    if (opts.before !== undefined) s.before(opts.before)
    if (opts.after !== undefined) s.after(opts.after)
  } else if (!underCi()) {
    console.log(`cloud registry [${name}] skipped: ${cannot}`)
  }
  const supports = opts.supports ?? {}
  const it = (title: string, fn: (reg: Registry, f: RegistryFactory) => Promise<void>, needs?: keyof RegistrySupports): void => {
    if (cannot !== undefined) {
      if (underCi()) s(title, () => { throw new Error(`cloud registry [${name}] cannot run under CI: ${cannot}`) })
      else s.skip(title, () => {})
      return
    }
    if (needs !== undefined && supports[needs] !== true) {
      console.log(`cloud registry [${name}] skipped "${title}": ${NEEDS[needs]}`)
      s.skip(title, () => {})
      return
    }
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
    assert.equal(await ingest(reg, 'gh-01', range(1, 3), [], 100), { stored: 3, duplicates: 0, gaps: 0, highWater: 3, stream: 'legacy', newStream: true })
    assert.equal(await ingest(reg, 'gh-01', range(1, 5), [], 101), { stored: 2, duplicates: 3, gaps: 0, highWater: 5, stream: 'legacy', newStream: false })
    const d = await reg.getDevice('gh-01')
    assert.equal(d?.counts, { stored: 5, duplicates: 3, gaps: 0, gapSeqs: 0 })
    assert.is(d?.lastSeen, 101)
  })

  it('[W4] out-of-order batches are kept and the high-water waits for the hole, then jumps', async (reg) => {
    await add(reg)
    assert.is((await ingest(reg, 'gh-01', range(4, 6), [], 1)).highWater, 0)
    assert.is((await ingest(reg, 'gh-01', range(4, 6), [], 2)).duplicates, 3)
    assert.is((await ingest(reg, 'gh-01', range(1, 3), [], 3)).highWater, 6)
    assert.is((await reg.records('gh-01', { limit: 100 })).length, 6)
  })

  it('[W4] a declared gap is stored once, counted, and never waited for', async (reg) => {
    await add(reg)
    const r = await ingest(reg, 'gh-01', [...range(1, 2), ...range(6, 7)], [{ from: 3, to: 5, reason: 'dropped' }], 1)
    assert.equal(r, { stored: 4, duplicates: 0, gaps: 1, highWater: 7, stream: 'legacy', newStream: true })
    assert.is((await ingest(reg, 'gh-01', range(6, 7), [{ from: 3, to: 5, reason: 'dropped' }], 2)).gaps, 0)
    assert.equal((await reg.gaps('gh-01')).map((g) => [g.from, g.to, g.reason]), [[3, 5, 'dropped']])
    assert.equal((await reg.getDevice('gh-01'))?.counts, { stored: 4, duplicates: 2, gaps: 1, gapSeqs: 3 })
    // A gap that arrives before the records below it is kept and joined later.
    assert.is((await ingest(reg, 'gh-01', range(10, 10), [{ from: 9, to: 9, reason: 'excluded' }], 3)).highWater, 7)
    assert.is((await ingest(reg, 'gh-01', range(8, 8), [], 4)).highWater, 10)
  })

  it('a batch handed over with its wire bytes reads back the same as one without', async (reg) => {
    await add(reg)
    const recs = [rec(1, 'a'), rec(2, 'b', 'log'), rec(3, 'a')]
    await ingest(reg, 'gh-01', recs, [], 7, { raw: encodeFrame({ records: recs }) })
    await ingest(reg, 'gh-01', [rec(4, 'a')], [], 8)
    assert.equal((await reg.records('gh-01', { afterSeq: 0 })).map((r) => [r.seq, r.kind, r.fn, r.receivedAt, r.data]), [[1, 'result', 'a', 7, { n: 1 }], [2, 'log', 'b', 7, { n: 2 }], [3, 'result', 'a', 7, { n: 3 }], [4, 'result', 'a', 8, { n: 4 }]])
    assert.equal((await reg.records('gh-01', { fn: 'a', limit: 2 })).map((r) => r.seq), [4, 3])
    assert.equal((await reg.records('gh-01', { kinds: ['log'] })).map((r) => r.seq), [2])
  })

  it('[W4] data embedded as CBOR (tag 24), with or without the frame bytes, reads back as values; sent again decoded it is a duplicate, with other bytes a conflict', async (reg) => {
    await add(reg)
    const emb = (r: Rec): Rec => ({ ...r, data: embedData(dataBytes(r.data)) })
    const recs = [emb(rec(1, 'a')), emb(rec(2, 'b', 'log')), rec(3, 'a')]
    await ingest(reg, 'gh-01', recs, [], 7, { raw: encodeFrame({ records: recs }) })
    await ingest(reg, 'gh-01', [emb(rec(4, 'a'))], [], 8)
    assert.equal((await reg.records('gh-01', { afterSeq: 0 })).map((r) => [r.seq, r.kind, r.fn, r.data]), [[1, 'result', 'a', { n: 1 }], [2, 'log', 'b', { n: 2 }], [3, 'result', 'a', { n: 3 }], [4, 'result', 'a', { n: 4 }]])
    assert.equal((await reg.records('gh-01', { fn: 'a', limit: 2 })).map((r) => r.data), [{ n: 4 }, { n: 3 }])
    // The same records again, each in the other form: duplicates, nothing refused.
    const again = [rec(1, 'a'), rec(2, 'b', 'log'), emb(rec(3, 'a')), rec(4, 'a')]
    const r = await ingest(reg, 'gh-01', again, [], 9, { raw: encodeFrame({ records: again }) })
    assert.equal([r.stored, r.duplicates, r.conflict], [0, 4, undefined])
    const other = { ...rec(2, 'b', 'log'), data: embedData(dataBytes({ n: 'other' })) }
    assert.equal((await ingest(reg, 'gh-01', [other], [], 10)).conflict, { seq: 2 })
    assert.equal((await reg.records('gh-01', { afterSeq: 1, limit: 1 })).map((x) => x.data), [{ n: 2 }])
  })

  it('[W8] a batch far past the high-water, or a gap over stored seqs, is refused and stores nothing', async (reg) => {
    await add(reg)
    await ingest(reg, 'gh-01', range(1, 3), [], 1)
    const reason = async (p: Promise<unknown>): Promise<string> => {
      try { await p } catch (err) { return `${(err as { code: string }).code} ${String((err as { details: { reason: string } }).details.reason)}` }
      return 'stored'
    }
    assert.is(await reason(ingest(reg, 'gh-01', range(3_000_000, 3_000_001), [], 2)), 'LAMBKIN_WIRE_INVALID too-far-ahead')
    assert.is(await reason(ingest(reg, 'gh-01', range(10, 11), [], 3)), 'stored')
    assert.is(await reason(ingest(reg, 'gh-01', [], [{ from: 4, to: 100, reason: 'dropped' }], 4)), 'LAMBKIN_WIRE_INVALID overlap')
    assert.is(await reason(ingest(reg, 'gh-01', [], [{ from: 4, to: 9, reason: 'dropped' }], 5)), 'stored')
    const d = await reg.getDevice('gh-01')
    assert.equal([d?.highWater, d?.counts.gapSeqs, d?.counts.stored], [11, 6, 5])
  })

  it('ingest for an unknown device is LAMBKIN_DEVICE_NOT_FOUND and stores nothing', async (reg) => {
    try { await ingest(reg, 'ghost', range(1, 2), [], 1); assert.unreachable() } catch (err) { assert.is((err as { code: string }).code, 'LAMBKIN_DEVICE_NOT_FOUND') }
    assert.equal(await reg.records('ghost'), [])
  })

  it('concurrent ingests for one device apply one at a time', async (reg) => {
    await add(reg)
    await add(reg, 'gh-02')
    const all = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => ingest(reg, 'gh-01', range(i * 10 + 1, i * 10 + 10), [], i)),
      ...Array.from({ length: 20 }, (_, i) => ingest(reg, 'gh-02', range(1, i + 1), [], i))
    ])
    assert.is(all[19].highWater, 200)
    assert.is((await reg.getDevice('gh-01'))?.counts.stored, 200)
    assert.is((await reg.getDevice('gh-02'))?.counts.stored, 20)
    assert.is((await reg.getDevice('gh-02'))?.counts.duplicates, 190)
  })

  it('records: newest first with a limit, by function, by kind, and forward after a seq', async (reg) => {
    await add(reg)
    await ingest(reg, 'gh-01', [rec(1, 'a'), rec(2, 'b'), rec(3, 'a', 'log'), rec(4, 'a'), rec(5, 'b', 'dead-letter')], [], 1)
    assert.equal((await reg.records('gh-01', { limit: 2 })).map((r) => r.seq), [5, 4])
    assert.equal((await reg.records('gh-01', { fn: 'a' })).map((r) => r.seq), [4, 3, 1])
    assert.equal((await reg.records('gh-01', { fn: 'a', kinds: ['result'] })).map((r) => r.seq), [4, 1])
    assert.equal((await reg.records('gh-01', { afterSeq: 2, limit: 2 })).map((r) => r.seq), [3, 4])
    const one = (await reg.records('gh-01', { limit: 1 }))[0]
    assert.equal({ ...one }, { device: 'gh-01', stream: 'legacy', seq: 5, kind: 'dead-letter', fn: 'b', time: 1_700_000_000_005, receivedAt: 1, data: { n: 5 } })
    assert.equal(await reg.records('gh-02'), [])
  })

  it('status and heartbeats are kept with when they arrived; everything survives a reopen', async (reg, f) => {
    await add(reg)
    await reg.touch('gh-01', { lastSeen: 50, status: { state: 'online', agent: '0.1.0', functions: [{ name: 'f', version: '1' }] } })
    await reg.touch('gh-01', { lastSeen: 60, heartbeat: { time: 59, backlog: { records: 3, bytes: 30 }, uploadedToday: 99, lastSeq: 12 } })
    await reg.touch('ghost', { lastSeen: 60 })
    await ingest(reg, 'gh-01', range(1, 3), [{ from: 4, to: 4, reason: 'excluded' }], 61)
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

  it('[W3] an offline status keeps the last known agent, functions and backlog; the next online status replaces them', async (reg, f) => {
    await add(reg)
    await reg.touch('gh-01', { lastSeen: 50, status: { state: 'online', agent: '0.2.0', functions: [{ name: 'f', version: '1' }], heartbeatMs: 30_000 } })
    await reg.touch('gh-01', { lastSeen: 60, heartbeat: { time: 59, backlog: { records: 7, bytes: 70 }, uploadedToday: 9, lastSeq: 12 } })
    await reg.touch('gh-01', { lastSeen: 70, status: { state: 'offline', time: 69 } })
    await reg.close()
    const again = await f.open()
    try {
      const d = await again.getDevice('gh-01')
      assert.equal([d?.status?.state, d?.status?.at, d?.status?.time, d?.status?.agent, d?.status?.functions, d?.status?.heartbeatMs], ['offline', 70, 69, '0.2.0', [{ name: 'f', version: '1' }], 30_000])
      assert.is(d?.heartbeat?.backlog.records, 7)
      await again.touch('gh-01', { lastSeen: 80, status: { state: 'online', agent: '0.3.0' } })
      const back = await again.getDevice('gh-01')
      assert.equal([back?.status?.state, back?.status?.agent, back?.status?.functions], ['online', '0.3.0', undefined], 'an online status says it all')
    } finally {
      await again.close()
    }
  })

  streamCases(it, add)
  pageCases(it)

  it('takeovers are counted with the last few times, and kept', async (reg, f) => {
    await add(reg)
    for (let t = 1; t <= 12; t++) await reg.noteTakeover('gh-01', t * 100)
    await reg.noteTakeover('ghost', 5)
    await reg.close()
    const again = await f.open()
    try {
      const t = (await again.getDevice('gh-01'))?.takeovers
      assert.equal([t?.count, t?.lastAt, t?.recent.length, t?.recent[0]], [12, 1200, 10, 300])
    } finally {
      await again.close()
    }
  })

  it('[W4] two instances on one storage given the same batches at once store each record once, and agree on the cursor', async (reg, f) => {
    await add(reg)
    const other = await f.open()
    try {
      const batches = Array.from({ length: 20 }, (_, i) => range(i * 25 + 1, i * 25 + 25))
      // As two cloud instances would after a redelivery: one takes the batches in order, the other in reverse.
      const run = async (r: Registry, list: Rec[][]): Promise<IngestResult[]> => {
        const out: IngestResult[] = []
        for (const b of list) out.push(await ingest(r, 'gh-01', b, [], 5, { stream: A }))
        return out
      }
      const [x, y] = await Promise.all([run(reg, batches), run(other, [...batches].reverse())])
      const all = [...x, ...y]
      assert.is(all.reduce((n, r) => n + r.stored, 0), 500, 'each record stored once')
      assert.is(all.reduce((n, r) => n + r.duplicates, 0), 500, 'and once counted as a duplicate')
      assert.is(Math.max(...all.map((r) => r.highWater)), 500)
      assert.equal((await reg.records('gh-01', { afterSeq: 0, stream: A, limit: 1000 })).map((r) => r.seq), range(1, 500).map((r) => r.seq))
      for (const r of [reg, other]) {
        const d = await r.getDevice('gh-01')
        assert.equal([d?.highWater, d?.counts.stored, d?.counts.duplicates], [500, 500, 500])
      }
      assert.is((await other.ingest('gh-01', { stream: A, records: range(501, 502), gaps: [] }, 6)).highWater, 502)
    } finally {
      await other.close()
    }
  }, 'sharedStorage')

  deployCases(it)

  s.run()
}
