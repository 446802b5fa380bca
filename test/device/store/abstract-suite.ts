// The behaviour every outbox store backend must have (abstract-level style): run
// outboxStoreSuite(name, factory) from a backend's test file. Quota and TTL cases live in
// ./abstract-suite-limits.js, publish cases in ./abstract-suite-publishes.js, opening in
// ./abstract-suite-open.js, crashes and full disks in ./abstract-suite-durability.js; all run as part of it.
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Harness, NEEDS, rec, rejects } from './abstract-suite-helpers.js'
import type { Case, StoreFactory, StoreSupports } from './abstract-suite-helpers.js'
import { durabilityCases } from './abstract-suite-durability.js'
import { limitCases } from './abstract-suite-limits.js'
import { openCases } from './abstract-suite-open.js'
import { publishCases } from './abstract-suite-publishes.js'
import type { RecordKind } from '../../../device/store/types.js'

export { Harness, rec, rejects }
export type { Case, StoreFactory, StoreSupports }

/**
 * Runs every case against the backend `factory` opens. `supports` names what the backend can
 * do beyond the contract; a case needing more is skipped and its reason printed.
 */
export function outboxStoreSuite (name: string, factory: StoreFactory, opts: { supports?: StoreSupports } = {}): void {
  const s = suite(`outbox store [${name}]`)
  const supports = opts.supports ?? {}
  const it: Case = (title, fn, needs) => {
    if (needs !== undefined && (supports[needs] === undefined || supports[needs] === false)) {
      console.log(`outbox store [${name}] skipped "${title}": ${NEEDS[needs]}`)
      s.skip(title, async () => {})
      return
    }
    s(title, async () => {
      const h = new Harness(factory, supports)
      try { await fn(h) } finally { await h.done() }
    })
  }

  it('seqs start at 1, are contiguous across units, and read returns records in seq order', async (h) => {
    const st = await h.open()
    const a = await st.commit({ records: [rec('result', { v: 1 }), rec('log', 'hello', { fn: undefined })] })
    const b = await st.commit({ records: [rec('metric', 3.5), rec('emit', [1, 'x', null]), rec('dead-letter', { err: 'x' })] })
    assert.equal(a.seqs, [1, 2])
    assert.equal(b.seqs, [3, 4, 5])
    const got = await st.read()
    assert.equal(got.map((r) => [r.seq, r.kind, r.data]), [[1, 'result', { v: 1 }], [2, 'log', 'hello'], [3, 'metric', 3.5], [4, 'emit', [1, 'x', null]], [5, 'dead-letter', { err: 'x' }]])
    assert.is(got[0].fn, 'f')
    assert.is(got[1].fn, undefined, 'no fn given, none returned')
    assert.is(got[0].time, 1_700_000_000_000)
    assert.ok(got.every((r) => r.bytes > 0 && r.expiresAt === undefined))
    const st1 = await st.stats()
    assert.is(st1.count, 5)
    assert.is(st1.lastSeq, 5)
    assert.is(st1.bytes, got.reduce((n, r) => n + r.bytes, 0))
    assert.equal(st1.byKind.result, { count: 1, bytes: got[0].bytes })
  })

  it('concurrent commits all resolve, with distinct seqs in call order', async (h) => {
    const st = await h.open()
    const res = await Promise.all(Array.from({ length: 200 }, async (_, i) => await st.commit({ records: [rec('result', i), rec('log', i)] })))
    assert.equal(res.map((r) => r.seqs), Array.from({ length: 200 }, (_, i) => [2 * i + 1, 2 * i + 2]))
    const got = await st.read({ limit: 1000 })
    assert.is(got.length, 400)
    assert.equal(got.filter((r) => r.kind === 'result').map((r) => r.data), Array.from({ length: 200 }, (_, i) => i))
  })

  it('[W4] a store has a random stream id of its own, kept across reopen; a store made new gets another', async (h) => {
    let st = await h.open()
    const id = st.streamId
    assert.match(String(id), /^[0-9a-f]{16}$/)
    await st.commit({ records: [rec('result')] })
    await st.close()
    st = await h.open()
    assert.is(st.streamId, id, 'the same store, the same stream')
    const other = await h.open({}, path.join(h.dir, 'moved-aside'))
    assert.match(String(other.streamId), /^[0-9a-f]{16}$/)
    assert.is.not(other.streamId, id, 'a new store is a new stream')
  })

  it('seqs never repeat after ack and reopen [W4]', async (h) => {
    let st = await h.open()
    await st.commit({ records: [rec('result'), rec('result'), rec('log')] })
    assert.is(await st.ackThrough(3), 3)
    assert.is((await st.stats()).count, 0)
    await st.close()
    st = await h.open()
    assert.is((await st.stats()).lastSeq, 3, 'the high-water mark survives with no records left')
    assert.equal((await st.commit({ records: [rec('result')] })).seqs, [4])
    await st.close()
    st = await h.open()
    assert.equal((await st.read()).map((r) => r.seq), [4])
    assert.equal((await st.commit({ records: [rec('emit')] })).seqs, [5])
  })

  it('a unit commits records, state, publishes and meta together; null deletes state and meta', async (h) => {
    let st = await h.open()
    const r = await st.commit({
      records: [rec('result', { ok: true })],
      state: [{ fn: 'counter', value: { n: 1 } }, { fn: 'other', value: [1, 2] }],
      publishes: [{ topic: 'alarms/x', payload: 'hot', qos: 1, retain: false }],
      meta: [{ key: 'schedule:f', value: 1234 }]
    })
    assert.equal(r, { seqs: [1], publishIds: [1] })
    assert.equal(await st.getState('counter'), { n: 1 })
    assert.equal(await st.getMeta('schedule:f'), 1234)
    await st.commit({ state: [{ fn: 'counter', value: { n: 2 } }, { fn: 'counter', value: { n: 3 } }, { fn: 'other', value: null }], meta: [{ key: 'schedule:f', value: null }] })
    await st.close()
    st = await h.open()
    assert.equal(await st.getState('counter'), { n: 3 }, 'the last write to a function state in a unit wins')
    assert.is(await st.getState('other'), undefined)
    assert.is(await st.getState('never'), undefined)
    assert.is(await st.getMeta('schedule:f'), undefined)
    assert.is((await st.read()).length, 1)
  })

  it('names a user chose (constructor, __proto__, toString) are state and meta keys like any other, kept across reopen', async (h) => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty']
    let st = await h.open()
    assert.is(await st.getState('constructor'), undefined, 'nothing stored yet, not a built-in')
    assert.is(await st.getMeta('__proto__'), undefined)
    await st.commit({ state: names.map((fn, i) => ({ fn, value: { i } })), meta: names.map((n, i) => ({ key: `once:${n}`, value: i })), records: [rec('result', 1, { fn: '__proto__' })] })
    await st.close()
    st = await h.open()
    for (const [i, n] of names.entries()) assert.equal(await st.getState(n), { i }, n)
    assert.equal(await st.metaEntries('once:'), names.map((n, i) => ({ key: `once:${n}`, value: i })).sort((a, b) => a.key < b.key ? -1 : 1))
    assert.is((await st.read())[0].fn, '__proto__')
    await st.commit({ state: [{ fn: '__proto__', value: null }] })
    assert.is(await st.getState('__proto__'), undefined, 'and deleted like any other')
  })

  it('metaEntries lists one owner\'s meta keys by prefix, in key order, with their values', async (h) => {
    const st = await h.open()
    await st.commit({ meta: [{ key: 'once:b', value: 2 }, { key: 'once:a', value: { x: 1 } }, { key: 'onc', value: 0 }, { key: 'oncf', value: 0 }, { key: 'schedule:f', value: 3 }] })
    assert.equal(await st.metaEntries('once:'), [{ key: 'once:a', value: { x: 1 } }, { key: 'once:b', value: 2 }])
    assert.equal(await st.metaEntries('nothing:'), [])
  })

  it('commits issued together keep their order: the last state and meta written win, and every record stays', async (h) => {
    let st = await h.open()
    await st.commit({ state: [{ fn: 'gone', value: { n: 0 } }, { fn: 'back', value: { n: 0 } }] })
    // Issued without waiting, as an agent's busy function does: a backend may group them.
    const commits = Array.from({ length: 40 }, (_, i) => st.commit({
      records: [rec('result', i)],
      state: [{ fn: 'busy', value: { n: i } }, ...(i === 10 ? [{ fn: 'gone', value: null }, { fn: 'back', value: null }] : []), ...(i === 20 ? [{ fn: 'back', value: { n: 20 } }] : [])],
      meta: [{ key: 'cursor', value: i % 7 === 6 ? null : i }]
    }))
    const seqs = (await Promise.all(commits)).map((c) => c.seqs[0])
    assert.equal(seqs, [...seqs].sort((a, b) => a - b), 'seqs follow the order the commits were issued in')
    await st.close()
    st = await h.open()
    assert.equal(await st.getState('busy'), { n: 39 })
    assert.is(await st.getState('gone'), undefined, 'a delete later in the group stands')
    assert.equal(await st.getState('back'), { n: 20 }, 'a put after a delete stands')
    assert.is(await st.getMeta('cursor'), 39)
    assert.equal((await st.read()).map((r) => r.data), Array.from({ length: 40 }, (_, i) => i))
  })

  it('a unit that cannot be stored writes nothing at all', async (h) => {
    const st = await h.open({ quotaBytes: 4096 })
    await rejects(st.commit({ records: [rec('result', 'ok'), rec('result', 'x'.repeat(5000))], state: [{ fn: 'f', value: { n: 1 } }] }), 'LAMBKIN_STORE_FULL', 'a record above the whole quota')
    await rejects(st.commit({ records: [rec('result', 'ok')], state: [{ fn: 'f', value: { fn: () => 1 } }] }), 'LAMBKIN_STORE_ERROR', 'a value that cannot be encoded')
    assert.is(await st.getState('f'), undefined)
    assert.is((await st.stats()).count, 0)
    assert.equal((await st.commit({ records: [rec('result', 'after')] })).seqs, [1], 'refused units used no seqs')
  })

  it('read pages with afterSeq and limit and filters by kind', async (h) => {
    const st = await h.open()
    const kinds: RecordKind[] = ['log', 'result', 'metric']
    await st.commit({ records: Array.from({ length: 30 }, (_, i) => rec(kinds[i % 3], i)) })
    const seen: number[] = []
    let after = 0
    for (;;) {
      const page = await st.read({ afterSeq: after, limit: 7 })
      if (page.length === 0) break
      assert.ok(page.length <= 7)
      seen.push(...page.map((r) => r.seq))
      after = page[page.length - 1].seq
    }
    assert.equal(seen, Array.from({ length: 30 }, (_, i) => i + 1))
    const results = await st.read({ kinds: ['result'], limit: 3, afterSeq: 2 })
    assert.equal(results.map((r) => r.seq), [5, 8, 11])
    assert.equal((await st.read({ kinds: ['result', 'metric'] })).length, 20)
    assert.equal(await st.read({ afterSeq: 30 }), [])
  })

  it('ackThrough deletes everything at or below a seq; delete removes chosen seqs', async (h) => {
    let st = await h.open()
    await st.commit({ records: Array.from({ length: 10 }, (_, i) => rec(i % 2 === 0 ? 'result' : 'log', i)) })
    assert.is(await st.ackThrough(4), 4)
    assert.is(await st.ackThrough(4), 0, 'acking again is harmless')
    assert.is(await st.delete([6, 8, 8, 99]), 2)
    assert.equal((await st.read()).map((r) => r.seq), [5, 7, 9, 10])
    const s1 = await st.stats()
    assert.is(s1.count, 4)
    assert.equal([s1.byKind.result.count, s1.byKind.log.count], [3, 1])
    await st.close()
    st = await h.open()
    const s2 = await st.stats()
    assert.equal([s2.count, s2.bytes, s2.byKind], [s1.count, s1.bytes, s1.byKind], 'totals are rebuilt the same at open')
    assert.is(await st.ackThrough(100), 4)
    assert.equal((await st.commit({ records: [rec('log')] })).seqs, [11])
  })

  it('durable publishes queue in id order, survive reopen, and leave when removed', async (h) => {
    let st = await h.open()
    const bytes = new Uint8Array([0, 1, 255])
    const a = await st.commit({ publishes: [{ topic: 'a/1', payload: 'one', qos: 1, retain: false }, { topic: 'a/2', payload: bytes, qos: 1, retain: true }] })
    const b = await st.commit({ publishes: [{ topic: 'a/3', payload: '', qos: 0, retain: false }] })
    assert.equal([a.publishIds, b.publishIds, a.seqs], [[1, 2], [3], []])
    await st.close()
    st = await h.open()
    assert.equal(await st.pendingPublishes(), [
      { id: 1, topic: 'a/1', payload: 'one', qos: 1, retain: false },
      { id: 2, topic: 'a/2', payload: bytes, qos: 1, retain: true },
      { id: 3, topic: 'a/3', payload: '', qos: 0, retain: false }
    ])
    await st.removePublish(2)
    await st.removePublish(2)
    assert.equal((await st.pendingPublishes()).map((p) => p.id), [1, 3])
    assert.is((await st.stats()).pendingPublishes, 2)
    await st.removePublish(1)
    await st.removePublish(3)
    await st.close()
    st = await h.open()
    assert.equal((await st.commit({ publishes: [{ topic: 'a/4', payload: 'x', qos: 1, retain: false }] })).publishIds, [4], 'publish ids never repeat')
  })

  it('bad arguments are refused with an error naming the field', async (h) => {
    const st = await h.open()
    const bad = async (unit: unknown, field: string): Promise<void> => {
      const e = await rejects(st.commit(unit as never), 'LAMBKIN_STORE_ERROR', field)
      assert.ok(e.message.includes(field), e.message)
    }
    await bad({ records: [{ kind: 'nope', time: 1, data: 1 }] }, 'records[0].kind')
    await bad({ records: [rec('log'), { kind: 'log', time: 'soon', data: 1 }] }, 'records[1].time')
    await bad({ records: [rec('log', 1, { ttlMs: -1 })] }, 'records[0].ttlMs')
    await bad({ state: [{ fn: '', value: 1 }] }, 'state[0].fn')
    await bad({ publishes: [{ topic: 'a/#', payload: 'x', qos: 1, retain: false }] }, 'publishes[0].topic')
    await bad({ publishes: [{ topic: 'a', payload: 5, qos: 1, retain: false }] }, 'publishes[0].payload')
    await bad(null, 'unit')
    await rejects(st.read({ limit: 0 }), 'LAMBKIN_STORE_ERROR', 'limit 0')
    await rejects(st.read({ kinds: ['nope' as RecordKind] }), 'LAMBKIN_STORE_ERROR', 'unknown kind')
    await rejects(st.ackThrough(-1), 'LAMBKIN_STORE_ERROR', 'negative seq')
    await rejects(st.delete([1.5]), 'LAMBKIN_STORE_ERROR', 'fractional seq')
    assert.is((await st.stats()).lastSeq, 0)
  })

  it('close waits for commits in flight, and a closed store refuses every call', async (h) => {
    let st = await h.open()
    const pending = Array.from({ length: 50 }, async (_, i) => await st.commit({ records: [rec('result', i)] }))
    await st.close()
    assert.is((await Promise.all(pending)).length, 50)
    await st.close()
    assert.is(st.status, 'closed')
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['commit', async () => await st.commit({ records: [rec('log')] })], ['read', async () => await st.read()],
      ['ackThrough', async () => await st.ackThrough(1)], ['delete', async () => await st.delete([1])],
      ['stats', async () => await st.stats()], ['getState', async () => await st.getState('f')],
      ['getMeta', async () => await st.getMeta('k')], ['pendingPublishes', async () => await st.pendingPublishes()],
      ['removePublish', async () => await st.removePublish(1)], ['flush', async () => await st.flush()]
    ]
    for (const [what, call] of calls) await rejects(call(), 'LAMBKIN_CLOSED', what)
    st = await h.open()
    assert.is((await st.read()).length, 50, 'everything that resolved before close is there')
  })

  it('commitThen: told once written (never before it returns), in order with commit(); close waits for it; closed, it is told LAMBKIN_CLOSED', async (h) => {
    let st = await h.open()
    const told: Array<{ i: number, seqs: number[] }> = []
    let returned = false
    const all = Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve, reject) => {
      if (i % 2 === 0) {
        st.commit({ records: [rec('result', i)] }).then((r) => { told.push({ i, seqs: r.seqs }); resolve() }, reject)
        return
      }
      st.commitThen({ records: [rec('result', i)] }, undefined, (err, r) => {
        if (!returned) { reject(new Error('told before commitThen returned')); return }
        if (err !== undefined || r === undefined) { reject(err); return }
        told.push({ i, seqs: r.seqs })
        resolve()
      })
    }))
    returned = true
    await st.close()
    await Promise.all(all)
    assert.equal(told.sort((a, b) => a.i - b.i).map((t) => t.seqs), Array.from({ length: 20 }, (_, i) => [i + 1]), 'each unit its seq, in call order')
    const closed = await new Promise<unknown>((resolve) => { st.commitThen({ records: [rec('log')] }, undefined, (err) => { resolve(err) }) })
    assert.is((closed as { code?: string }).code, 'LAMBKIN_CLOSED')
    st = await h.open()
    assert.is((await st.read()).length, 20, 'everything told written before close is there')
  })

  limitCases(it)
  publishCases(it)
  openCases(it)
  durabilityCases(it)
  s.run()
}
