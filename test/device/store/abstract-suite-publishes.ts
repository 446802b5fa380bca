// Abstract suite cases about pending QoS 1 publishes and the quota: they count against it,
// are dropped after emits and before results (counted), page with a limit, and a commit whose
// own publishes exceed the whole quota is refused whole.
import * as assert from 'uvu/assert'
import { rec, rejects } from './abstract-suite-helpers.js'
import type { Case } from './abstract-suite-helpers.js'
import type { NewPublish } from '../../../device/store/types.js'

const pub = (n: number, bytes = 400): NewPublish => ({ topic: `alarms/${n}`, payload: 'p'.repeat(bytes), qos: 1, retain: false })

export function publishCases (it: Case): void {
  it('pending publishes count against the quota, go after emits and before results, and the drops are counted', async (h) => {
    let st = await h.open({ quotaBytes: 4096 })
    // Four publishes of ~430 bytes, then results until the quota is reached.
    const ids = (await st.commit({ publishes: [pub(1), pub(2), pub(3), pub(4)] })).publishIds
    const s1 = await st.stats()
    assert.is(s1.pendingPublishes, 4)
    assert.ok(s1.publishBytes >= 4 * 400, `publishBytes ${s1.publishBytes}`)
    await st.commit({ records: [rec('emit', 'e'.repeat(400)), rec('log', 'l'.repeat(400))] })
    // Results that take the store over: the log, then the emit, then the oldest publishes go.
    for (let i = 0; i < 6; i++) await st.commit({ records: [rec('result', 'r'.repeat(400))] })
    const s2 = await st.stats()
    assert.ok(s2.bytes + s2.publishBytes <= 4096, `records ${s2.bytes} + publishes ${s2.publishBytes} <= 4096`)
    assert.is(s2.dropped.log, 1)
    assert.is(s2.dropped.emit, 1)
    assert.ok(s2.droppedPublishes >= 1, 'some publishes were dropped')
    assert.is(s2.dropped.result, 0, 'no result went while publishes were left to drop')
    const left = (await st.pendingPublishes()).map((p) => p.id)
    assert.equal(left, ids.slice(s2.droppedPublishes), 'the oldest publishes went first')
    assert.is(s2.pendingPublishes, left.length)
    // Removing an acknowledged publish gives its bytes back; the books survive a reopen.
    await st.removePublish(left[0])
    await st.close()
    st = await h.open({ quotaBytes: 4096 })
    const s3 = await st.stats()
    assert.is(s3.pendingPublishes, left.length - 1)
    assert.is(s3.droppedPublishes, s2.droppedPublishes, 'the publish drop counter survives a restart')
    assert.ok(s3.publishBytes < s2.publishBytes)
  })

  it('a commit whose own publishes exceed the whole quota is refused with LAMBKIN_STORE_FULL and writes nothing', async (h) => {
    const st = await h.open({ quotaBytes: 4096 })
    await rejects(st.commit({ records: [rec('result', 'ok')], publishes: Array.from({ length: 12 }, (_, i) => pub(i)) }), 'LAMBKIN_STORE_FULL', 'publishes over the quota')
    const s = await st.stats()
    assert.equal([s.count, s.pendingPublishes, s.lastSeq], [0, 0, 0])
  })

  it('pendingPublishes pages with afterId and limit, in id order', async (h) => {
    const st = await h.open()
    await st.commit({ publishes: Array.from({ length: 10 }, (_, i) => pub(i, 10)) })
    assert.equal((await st.pendingPublishes({ limit: 3 })).map((p) => p.id), [1, 2, 3])
    await st.removePublish(2)
    assert.equal((await st.pendingPublishes({ limit: 3 })).map((p) => p.id), [1, 3, 4])
    assert.equal((await st.pendingPublishes({ afterId: 4, limit: 2 })).map((p) => p.id), [5, 6])
    assert.equal((await st.pendingPublishes({ afterId: 9 })).map((p) => p.id), [10])
    assert.is((await st.pendingPublishes()).length, 9)
  })

  it('removePublishes takes several acknowledged publishes in one call, skips unknown and repeated ids, and refuses a bad id whole', async (h) => {
    let st = await h.open()
    await st.commit({ publishes: Array.from({ length: 6 }, (_, i) => pub(i, 10)) })
    await rejects(st.removePublishes([1, -1]), 'LAMBKIN_STORE_ERROR', 'id -1')
    assert.is((await st.pendingPublishes()).length, 6, 'nothing went with a bad id among them')
    await Promise.all([st.removePublishes([2, 4, 4, 99]), st.removePublishes([]), st.commit({ publishes: [pub(7, 10)] })])
    assert.equal((await st.pendingPublishes()).map((p) => p.id), [1, 3, 5, 6, 7])
    await st.close()
    st = await h.open()
    const s = await st.stats()
    assert.is(s.pendingPublishes, 5, 'the removals survive a reopen')
    assert.equal((await st.pendingPublishes()).map((p) => p.id), [1, 3, 5, 6, 7])
  })

  it('publishes removed in the same group commit as a quota drop leave the books once', async (h) => {
    let st = await h.open({ quotaBytes: 4096 })
    const ids = (await st.commit({ publishes: [pub(1), pub(2), pub(3), pub(4)] })).publishIds
    await st.commit({ records: [rec('result', 'r'.repeat(400)), rec('result', 'r'.repeat(400))] })
    // Issued together: the removals and the commit that takes the store over its quota share
    // one write, and the quota must not pick the publishes being removed a second time.
    const removals = [st.removePublish(ids[0]), st.removePublish(ids[1])]
    // Even without the two removed, eight results and two publishes exceed 4096 bytes by a little.
    const over = st.commit({ records: Array.from({ length: 6 }, () => rec('result', 'r'.repeat(400))) })
    await Promise.all([...removals, over])
    const s = await st.stats()
    const left = await st.pendingPublishes()
    assert.equal(left.map((p) => p.id), [ids[3]], 'the removed publishes are gone, and the oldest one left was dropped')
    assert.is(s.pendingPublishes, 1, 'the count matches what is stored')
    assert.is(s.droppedPublishes, 1, 'only a publish still pending was counted as dropped')
    assert.ok(s.bytes + s.publishBytes <= 4096)
    await st.close()
    st = await h.open({ quotaBytes: 4096 })
    const again = await st.stats()
    assert.equal([again.pendingPublishes, again.publishBytes], [s.pendingPublishes, s.publishBytes], 'the books match the data after a reopen')
  })

  it('a publish written before a restart is removed by its id, once', async (h) => {
    let st = await h.open()
    const ids = (await st.commit({ publishes: [pub(1, 10), pub(2, 10), pub(3, 10)] })).publishIds
    await st.close()
    st = await h.open()
    await Promise.all([st.removePublish(ids[1]), st.removePublish(ids[1]), st.commit({ publishes: [pub(4, 10)] })])
    await st.removePublish(ids[0])
    const s = await st.stats()
    assert.equal((await st.pendingPublishes()).map((p) => p.id), [ids[2], ids[2] + 1])
    assert.is(s.pendingPublishes, 2)
    await st.close()
    st = await h.open()
    assert.is((await st.stats()).publishBytes, s.publishBytes)
  })

  it('a reply keeps its MQTT 5 correlation data and response topic through a reopen; publishes without them have none', async (h) => {
    let st = await h.open()
    await st.commit({ publishes: [{ ...pub(1, 10), correlationData: 'AQID/w==', responseTopic: 'replies/a' }, pub(2, 10)] })
    await st.close()
    st = await h.open()
    const [reply, plain] = await st.pendingPublishes()
    assert.equal([reply.correlationData, reply.responseTopic], ['AQID/w==', 'replies/a'])
    assert.ok(!('correlationData' in plain) && !('responseTopic' in plain))
    const e = await rejects(st.commit({ publishes: [{ ...pub(3, 10), responseTopic: 'replies/#' }] }), 'LAMBKIN_STORE_ERROR', 'a wildcard response topic')
    assert.match(e.message, 'publishes[0].responseTopic')
  })

  it('[W9] a publish keeps its hop, trace id and function through a reopen; one without them has none; a bad hop is refused', async (h) => {
    let st = await h.open()
    const hop = { traceId: 'trace-1', hop: 7 }
    await st.commit({ publishes: [{ ...pub(1, 10), hop, fn: 'constructor' }, pub(2, 10)] })
    await st.close()
    st = await h.open()
    const [chained, plain] = await st.pendingPublishes()
    assert.equal([chained.hop, chained.fn], [hop, 'constructor'])
    assert.ok(!('hop' in plain) && !('fn' in plain))
    for (const bad of [{ traceId: '', hop: 1 }, { traceId: 't', hop: -1 }, { traceId: 't', hop: 1.5 }]) {
      const e = await rejects(st.commit({ publishes: [{ ...pub(3, 10), hop: bad }] }), 'LAMBKIN_STORE_ERROR', `hop ${JSON.stringify(bad)}`)
      assert.match(e.message, 'publishes[0].hop')
    }
    assert.is((await st.pendingPublishes()).length, 2, 'nothing of a refused commit was written')
  })
}
