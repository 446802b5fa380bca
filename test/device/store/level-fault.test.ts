// The outbox store on a full disk (a real tmpfs, real LevelDB): after the first failed write it
// takes nothing more (LAMBKIN_STORE_FAULT) until it has reopened and verified itself, which it
// retries on its clock; what it acknowledges after that survives the next open, and seqs go on.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import { LevelOutboxStore } from '../../../device/store/index.js'
import type { FaultEvent } from '../../../src/store-fault.js'
import { FakeClock } from '../../helpers/fake-clock.js'
import { mountTmpfs } from '../../helpers/tmpfs.js'

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as { code?: string }).code }
  return undefined
}

const big = (i: number): { kind: 'result', time: number, data: unknown } => ({ kind: 'result', time: 1, data: { i, pad: 'x'.repeat(20_000) } })

test('a failed write faults the store until it reopened and verified itself; what it acknowledged after is kept', async () => {
  const fs = mountTmpfs(4 * 1024 * 1024)
  if ('skip' in fs) { console.log(`skipped: ${fs.skip}`); return }
  const dir = path.join(fs.dir, 'data')
  const clock = new FakeClock(Date.UTC(2025, 0, 1))
  const events: FaultEvent[] = []
  let st = await LevelOutboxStore.open({ dir, clock, onFault: (e) => events.push(e) })
  try {
    for (let i = 0; i < 5; i++) await st.commit({ records: [big(i)] })
    fs.fill()
    const codes: Array<string | undefined> = []
    for (let i = 5; i < 60; i++) codes.push(await codeOf(st.commit({ records: [big(i)] })))
    const first = codes.findIndex((c) => c !== undefined)
    assert.ok(first >= 0, 'the disk filled up')
    assert.is(codes[first], 'LAMBKIN_STORE_ERROR', 'the failed write itself')
    assert.ok(codes.slice(first + 1).every((c) => c === 'LAMBKIN_STORE_FAULT'), `every later commit fails fast: ${codes.join(' ')}`)
    const acked = 5 + first
    const s = await st.stats()
    assert.is(s.fault?.code, 'LAMBKIN_STORE_FAULT')
    assert.match(s.fault?.message ?? '', /No space left/)
    assert.is(await codeOf(st.read()), 'LAMBKIN_STORE_FAULT', 'reads wait for the reopen too')
    assert.equal(events.map((e) => e.type), ['tripped'])

    // Still full: the reopen fails and is tried again later.
    await clock.advance(1000)
    assert.ok(events.some((e) => e.type === 'retry-failed') || events.some((e) => e.type === 'recovered'), events.map((e) => e.type).join())
    fs.free()
    // Even with room again, nothing is taken before the reopen.
    if ((await st.stats()).fault !== undefined) assert.is(await codeOf(st.commit({ records: [big(99)] })), 'LAMBKIN_STORE_FAULT')
    await clock.advance(60_000)
    assert.is((await st.stats()).fault, undefined, 'recovered by itself')
    assert.is(events[events.length - 1].type, 'recovered')
    const after: number[] = []
    for (let i = 0; i < 40; i++) after.push((await st.commit({ records: [{ kind: 'result', time: 1, data: { i: 100 + i } }] })).seqs[0])
    assert.is(after[0], acked + 1, 'seqs go on after the last acknowledged one')
    await st.close()
    st = await LevelOutboxStore.open({ dir, clock })
    const kept = (await st.read({ limit: 1000 })).map((r) => (r.data as { i: number }).i)
    assert.equal(kept.filter((i) => i >= 100).length, 40, 'all 40 acknowledged after the fault are there')
    assert.is(kept.filter((i) => i < 100).length, acked, 'and all before it')
    assert.is((await st.stats()).lastSeq, acked + 40, 'the last seq did not roll back')
  } finally {
    await st.close().catch(() => {})
    fs.unmount()
  }
})

test.run()
