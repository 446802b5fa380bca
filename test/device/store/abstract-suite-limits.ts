// Abstract suite cases about limits: the byte quota and its drop order, TTL expiry and the
// sync timer, all with an injected clock.
import * as assert from 'uvu/assert'
import { FakeClock } from '../../helpers/fake-clock.js'
import { rec, rejects } from './abstract-suite-helpers.js'
import { planBatch } from '../../../device/sync/upload-plan.js'
import type { Case } from './abstract-suite-helpers.js'
import type { OutboxStore } from '../../../device/store/outbox-store.js'
import type { RecordKind } from '../../../device/store/types.js'

const kindsOf = async (st: OutboxStore): Promise<string> => (await st.read()).map((r) => `${r.kind[0]}${r.seq}`).join(' ')

/**
 * Waits for the store's own background work (the timer's fsync) to show. Polls with a generous
 * bound because an fsync on a loaded machine can take long; it asserts the outcome, not a time.
 */
async function eventually (cond: () => Promise<boolean>, boundMs = 10_000): Promise<boolean> {
  const end = Date.now() + boundMs
  while (Date.now() < end) {
    if (await cond()) return true
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return await cond()
}

export function limitCases (it: Case): void {
  it('over quota, the oldest records of the lowest-priority kind go first, and drops are counted', async (h) => {
    // Measure one record's size in this backend, then allow nine and a half of them.
    const probe = await h.open({}, h.dir + '/probe')
    await probe.commit({ records: [rec('log', 'x'.repeat(100))] })
    const size = (await probe.read())[0].bytes
    const quotaBytes = Math.max(1024, 9 * size + Math.floor(size / 2))
    const fit = Math.floor(quotaBytes / size)
    let st = await h.open({ quotaBytes })
    const put = async (kind: RecordKind, n = 1): Promise<number[]> => (await st.commit({ records: Array.from({ length: n }, () => rec(kind, 'x'.repeat(100))) })).seqs
    // Dead letters fill what is beyond the 9 records this test reasons about.
    if (fit > 9) await put('dead-letter', fit - 9)
    const base = fit - 9
    const s = (n: number): number => base + n
    await put('log', 3); await put('metric', 3); await put('result', 3)
    assert.equal((await st.stats()).dropped.log, 0)
    await put('result')
    assert.not.ok((await st.read()).some((r) => r.seq === s(1)), 'the oldest log went first')
    await put('result', 2)
    assert.equal((await st.read({ kinds: ['log'] })).length, 0, 'all logs are gone before any metric')
    assert.equal((await st.read({ kinds: ['metric'] })).map((r) => r.seq), [s(4), s(5), s(6)])
    await put('emit')
    assert.equal((await st.read({ kinds: ['metric'] })).map((r) => r.seq), [s(5), s(6)], 'then the oldest metric')
    const [late] = await put('log')
    assert.is(late, s(14), 'a dropped record still took its seq')
    assert.not.ok((await st.read()).some((r) => r.seq === late), 'a new log into a store full of higher kinds is itself dropped')
    const st1 = await st.stats()
    assert.equal(st1.dropped, { log: 4, metric: 1, emit: 0, result: 0, 'dead-letter': 0 })
    assert.ok(st1.bytes <= quotaBytes, `bytes ${st1.bytes} <= quota ${quotaBytes}`)
    assert.is(st1.count, fit)
    const before = await kindsOf(st)
    await st.close()
    st = await h.open({ quotaBytes })
    assert.equal((await st.stats()).dropped, st1.dropped, 'drop counters survive a restart')
    assert.is(await kindsOf(st), before)
    await put('result', 2)
    assert.equal((await st.read({ kinds: ['metric'] })).length, 0, 'after a reopen the drop order holds')
    assert.is((await st.stats()).dropped.metric, 3)
  })

  it('drop order stays right through acks, deletes and reopens (against a model)', async (h) => {
    const probe = await h.open({}, h.dir + '/probe')
    await probe.commit({ records: [rec('log', 'q'.repeat(60))] })
    const size = (await probe.read())[0].bytes
    const quotaBytes = Math.max(1024, 12 * size)
    const cap = Math.floor(quotaBytes / size)
    let st = await h.open({ quotaBytes })
    const kinds: RecordKind[] = ['log', 'metric', 'emit', 'result', 'dead-letter']
    const prio = (k: RecordKind): number => kinds.indexOf(k)
    let model: Array<{ seq: number, kind: RecordKind }> = []
    let seed = 42
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
    for (let step = 0; step < 150; step++) {
      const op = rand(10)
      if (op < 7) {
        const ks = Array.from({ length: 1 + rand(3) }, () => kinds[rand(5)])
        const { seqs } = await st.commit({ records: ks.map((k) => rec(k, 'q'.repeat(60))) })
        ks.forEach((kind, i) => model.push({ seq: seqs[i], kind }))
        while (model.length > cap) {
          const low = Math.min(...model.map((r) => prio(r.kind)))
          model.splice(model.findIndex((r) => prio(r.kind) === low), 1)
        }
      } else if (op === 7 && model.length > 0) {
        const upTo = model[rand(model.length)].seq
        await st.ackThrough(upTo)
        model = model.filter((r) => r.seq > upTo)
      } else if (op === 8 && model.length > 0) {
        const gone = model[rand(model.length)].seq
        await st.delete([gone])
        model = model.filter((r) => r.seq !== gone)
      } else {
        await st.close()
        st = await h.open({ quotaBytes })
      }
      const got = (await st.read()).map((r) => `${r.seq}${r.kind}`).join(' ')
      assert.is(got, model.map((r) => `${r.seq}${r.kind}`).join(' '), `step ${step}`)
    }
    assert.ok((await st.stats()).bytes <= quotaBytes)
  })

  it('a record larger than the whole quota is refused with STORE_FULL; the store goes on', async (h) => {
    const st = await h.open({ quotaBytes: 1024 })
    await st.commit({ records: [rec('result', 'small')] })
    const e = await rejects(st.commit({ records: [rec('log', 'a'), rec('result', 'y'.repeat(2000))] }), 'LAMBKIN_STORE_FULL', 'too big')
    assert.ok(/quota/.test(e.message), e.message)
    assert.equal((await st.read()).map((r) => r.data), ['small'], 'nothing of the refused unit was written')
    assert.equal((await st.commit({ records: [rec('log', 'b')] })).seqs, [2])
    assert.equal((await st.stats()).dropped.log, 0, 'a refusal is not a drop')
  })

  it('records past their TTL are skipped by read, purged and counted as expired', async (h) => {
    const clock = new FakeClock(10_000)
    let st = await h.open({ clock, ttlMs: { log: 1000 } })
    await st.commit({
      records: [rec('log', 'l'), rec('metric', 'm', { ttlMs: 500 }), rec('result', 'r'), rec('log', 'forever', { ttlMs: 0 })]
    })
    const all = await st.read()
    assert.equal(all.map((r) => r.expiresAt), [11_000, 10_500, undefined, undefined])
    await clock.advance(499)
    assert.is((await st.read()).length, 4, 'not yet')
    await clock.advance(1)
    assert.equal((await st.read()).map((r) => r.data), ['l', 'r', 'forever'])
    const s1 = await st.stats()
    assert.equal([s1.expired, s1.count, s1.byKind.metric.count], [1, 3, 0])
    await clock.advance(5000)
    assert.equal((await st.read({ kinds: ['result'] })).map((r) => r.data), ['r'], 'a filtered read does not touch other kinds')
    assert.equal((await st.read()).map((r) => r.data), ['r', 'forever'])
    await st.close()
    st = await h.open({ clock })
    const s2 = await st.stats()
    assert.equal([s2.expired, s2.count], [2, 2], 'expiry is counted and survives a restart')
  })

  it('a wall clock stepped 5 years forward (NTP on a board without RTC) expires nothing: TTLs count on the monotonic clock', async (h) => {
    // Booted at 1970 + 1 day, as a board without RTC does before NTP.
    const clock = new FakeClock(86_400_000)
    const st = await h.open({ clock, ttlMs: { log: 3_600_000 } })
    await st.commit({ records: [rec('log', 'a'), rec('log', 'b'), rec('result', 'r'), rec('metric', 'm', { ttlMs: 7_200_000 })] })
    clock.jumpTo(clock.now() + 5 * 365 * 86_400_000)
    const after = await st.read()
    assert.equal(after.map((r) => r.data), ['a', 'b', 'r', 'm'], 'nothing expired at the step')
    const plan = planBatch(after, { from: 1, maxRecords: 100, maxBytes: 1e6, exclude: () => false })
    assert.equal(plan.gaps, [], 'and nothing is declared as a gap')
    assert.is((await st.stats()).expired, 0)
    await clock.advance(3_600_000)
    assert.equal((await st.read()).map((r) => r.data), ['r', 'm'], 'an hour later the logs expire, counted from the commit')
    await clock.advance(3_600_000)
    assert.equal((await st.read()).map((r) => r.data), ['r'])
    assert.is((await st.stats()).expired, 3)
  })

  it('writes are fsynced on the sync timer, by flush() and by close()', async (h) => {
    const clock = new FakeClock()
    let st = await h.open({ clock, syncIntervalMs: 200 })
    await st.commit({ records: [rec('result')] })
    assert.is((await st.stats()).syncedSeq, 0, 'not synced yet')
    await clock.advance(199)
    assert.is((await st.stats()).syncedSeq, 0)
    await clock.advance(1)
    assert.ok(await eventually(async () => (await st.stats()).syncedSeq === 1), 'the timer synced the write')
    await st.commit({ records: [rec('result'), rec('log')] })
    await st.flush()
    assert.is((await st.stats()).syncedSeq, 3, 'flush syncs now')
    await st.commit({ records: [rec('result')] })
    await st.close()
    st = await h.open({ clock })
    assert.equal((await st.read()).map((r) => r.seq), [1, 2, 3, 4])
  })
}
