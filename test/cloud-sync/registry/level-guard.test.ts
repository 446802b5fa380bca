// level-guard.ts on a real full disk (tmpfs): the registry faults at the first failed write,
// refuses every later one with LAMBKIN_STORE_FAULT while reads go on, retries its reopen on its
// clock, and once the disk has room takes writes again with everything acknowledged kept.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import { LevelRegistry } from '../../../cloud-sync/registry/index.js'
import type { FaultEvent } from '../../../src/store-fault.js'
import { FakeClock } from '../../helpers/fake-clock.js'
import { mountTmpfs } from '../../helpers/tmpfs.js'

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as { code?: string }).code }
  return undefined
}

const batch = (from: number, n: number): Array<{ seq: number, kind: 'result', time: number, data: unknown }> =>
  Array.from({ length: n }, (_, i) => ({ seq: from + i, kind: 'result' as const, time: 1, data: { pad: 'z'.repeat(2000) } }))

test('a failed write faults the registry until it reopened and verified itself; acknowledged batches survive', async () => {
  const disk = mountTmpfs(4 * 1024 * 1024)
  if ('skip' in disk) { console.log(`skipped: ${disk.skip}`); return }
  const dir = path.join(disk.dir, 'cloud')
  const clock = new FakeClock(Date.UTC(2025, 0, 1))
  const events: FaultEvent[] = []
  let reg = await LevelRegistry.open(dir, { clock, onFault: (e) => events.push(e) })
  try {
    await reg.addDevice({ id: 'd1', secretHash: 'x', createdAt: 1 })
    let seq = 1
    for (let i = 0; i < 5; i++, seq += 10) await reg.ingest('d1', { records: batch(seq, 10), gaps: [] }, 1)
    disk.fill()
    const codes: Array<string | undefined> = []
    for (let i = 0; i < 40; i++) {
      const c = await codeOf(reg.ingest('d1', { records: batch(seq, 10), gaps: [] }, 1))
      codes.push(c)
      if (c === undefined) seq += 10
    }
    const first = codes.findIndex((c) => c !== undefined)
    assert.ok(first >= 0, 'the disk filled up')
    assert.ok(codes.slice(first + 1).every((c) => c === 'LAMBKIN_STORE_FAULT'), codes.join(' '))
    const acked = (await reg.getDevice('d1'))?.highWater ?? 0
    assert.is(acked, seq - 1)
    assert.is(reg.storeFault?.()?.code, 'LAMBKIN_STORE_FAULT')
    assert.is((await reg.records('d1', { limit: 10_000 })).length, acked, 'reads go on while faulted')

    await clock.advance(1000)
    assert.is(events.map((e) => e.type).join(), 'tripped,retry-failed', 'no room yet: the database stays open')
    assert.is((await reg.listDevices()).length, 1)
    disk.free()
    await clock.advance(2000)
    assert.is(reg.storeFault?.(), undefined, 'recovered by itself')
    assert.is(events[events.length - 1].type, 'recovered')
    assert.is((events[events.length - 1] as { note?: string }).note, undefined, 'nothing acknowledged was missing')
    const r = await reg.ingest('d1', { records: batch(seq, 10), gaps: [] }, 1)
    assert.is(r.highWater, seq + 9)
    await reg.close()
    reg = await LevelRegistry.open(dir)
    assert.is((await reg.getDevice('d1'))?.highWater, seq + 9)
    assert.is((await reg.records('d1', { limit: 10_000 })).length, seq + 9, 'every acknowledged record is there after a reopen')
  } finally {
    await reg.close().catch(() => {})
    disk.unmount()
  }
})

test.run()
