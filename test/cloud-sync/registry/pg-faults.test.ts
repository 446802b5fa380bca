// The PostgreSQL registry when its database goes away (docs/postgres.md, "Faults"): calls fail
// with LAMBKIN_DB_UNAVAILABLE instead of hanging, the registry shows the fault, and everything
// resumes by itself when the server is back. Under an ingest load from two instances, a
// restart (clean, then a crash) loses nothing acknowledged and stores nothing twice.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PgRegistry } from '../../../cloud-sync/registry/pg/index.js'
import type { Registry } from '../../../cloud-sync/registry/index.js'
import { pgCases, postgresBin, startPostgres } from '../../helpers/postgres.js'
import type { PgServer } from '../../helpers/postgres.js'

const test = suite('PgRegistry faults')
const found = postgresBin()
let server: PgServer

test.before(async () => {
  if ('skip' in found) return
  const s = await startPostgres()
  if ('skip' in s) throw new Error(s.skip)
  server = s
})
test.after(async () => { await server?.close() })

const pgTest = pgCases(test, 'PgRegistry faults', found)

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p } catch (err) { return String((err as { code?: string }).code) }
  return 'resolved'
}
const batch = (from: number, n: number): Array<{ seq: number, kind: 'result', time: number, data: unknown }> =>
  Array.from({ length: n }, (_, i) => ({ seq: from + i, kind: 'result' as const, time: from + i, data: { n: from + i } }))

pgTest('the database stopped: calls fail with LAMBKIN_DB_UNAVAILABLE, the registry shows it, and it clears by itself when the server is back', async () => {
  const url = await server.createDatabase()
  const logs: string[] = []
  const reg = await PgRegistry.open({ url, retentionDays: 0, log: (l) => logs.push(l) })
  try {
    await reg.addDevice({ id: 'd1', secretHash: 'h', createdAt: 1 })
    await reg.ingest('d1', { records: batch(1, 10), gaps: [] }, 1)
    assert.is(reg.storeFault(), undefined)
    await server.stop()
    try {
      assert.is(await codeOf(reg.ingest('d1', { records: batch(11, 10), gaps: [] }, 2)), 'LAMBKIN_DB_UNAVAILABLE')
      assert.is(await codeOf(reg.getDevice('d1')), 'LAMBKIN_DB_UNAVAILABLE')
      assert.is(await codeOf(reg.setDesired([{ device: 'd1', fn: 'f', to: null }], 3)), 'LAMBKIN_DB_UNAVAILABLE')
      assert.is(reg.storeFault()?.code, 'LAMBKIN_DB_UNAVAILABLE')
      assert.match(logs.join('\n'), /LAMBKIN_DB_UNAVAILABLE: the cloud's PostgreSQL database cannot be reached/)
    } finally {
      await server.start()
    }
    // The probe (1 s, on the real clock here) finds it back without any call.
    for (let i = 0; i < 200 && reg.storeFault() !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    assert.is(reg.storeFault(), undefined)
    assert.match(logs.join('\n'), /answers again/)
    assert.is((await reg.ingest('d1', { records: batch(11, 10), gaps: [] }, 4)).highWater, 20)
  } finally {
    await reg.close()
  }
})

/**
 * A device as its cloud link behaves: sends the batch after its last ack, to one instance or
 * the other, and on a failure sends it again; an ack moves it on. Returns every high-water it
 * was acknowledged with.
 */
async function device (regs: Registry[], id: string, total: number, size: number, stop: () => boolean): Promise<number[]> {
  const acks: number[] = []
  let acked = 0
  let turn = 0
  while (acked < total && !stop()) {
    const from = acked + 1
    const n = Math.min(size, total - acked)
    try {
      // Sometimes both instances get the same batch (a redelivery after a lost PUBACK).
      const targets = turn % 5 === 0 ? regs : [regs[turn % regs.length]]
      turn++
      const results = await Promise.all(targets.map(async (r) => await r.ingest(id, { stream: 'ab12ab12ab12ab12', records: batch(from, n), gaps: [] }, Date.now())))
      const hw = Math.max(...results.map((r) => r.highWater))
      acks.push(hw)
      acked = hw
    } catch (err) {
      if ((err as { code?: string }).code !== 'LAMBKIN_DB_UNAVAILABLE') throw err
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  return acks
}

pgTest('PostgreSQL restarted under an ingest load from two instances, cleanly and then by a crash: nothing acknowledged is lost, nothing stored twice', async () => {
  const url = await server.createDatabase()
  const regs = await Promise.all([0, 1].map(async () => await PgRegistry.open({ url, retentionDays: 0, connectTimeoutMs: 1000 })))
  const devices = ['d1', 'd2', 'd3', 'd4']
  const total = 4000
  try {
    for (const d of devices) await regs[0].addDevice({ id: d, secretHash: 'h', createdAt: 1 })
    let done = false
    const load = Promise.all(devices.map(async (d) => await device(regs, d, total, 50, () => done)))
    const progress = async (): Promise<number> => Math.min(...(await Promise.all(devices.map(async (d) => (await regs[0].getDevice(d))?.highWater ?? 0))))
    for (const mode of ['fast', 'immediate'] as const) {
      const before = await progress()
      // Wait for the load to be under way, then restart the server beneath it.
      for (let i = 0; i < 400 && await progress() < before + 200; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      const ackedBefore = await progress()
      await server.stop(mode)
      await new Promise((resolve) => setTimeout(resolve, 300))
      await server.start()
      assert.ok(ackedBefore < total, `the restart came mid-load (${ackedBefore} of ${total})`)
    }
    let timer: NodeJS.Timeout | undefined
    const acks = await Promise.race([load, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { done = true; reject(new Error('the load did not finish')) }, 120_000)
    })]).finally(() => clearTimeout(timer))
    for (const [i, d] of devices.entries()) {
      assert.is(acks[i][acks[i].length - 1], total, `${d} acknowledged to the end`)
      const row = await regs[1].getDevice(d)
      assert.equal([row?.highWater, row?.counts.stored], [total, total], `${d}: each record stored once`)
      const seqs = (await regs[1].records(d, { afterSeq: 0, stream: 'ab12ab12ab12ab12', limit: 10_000 })).map((r) => r.seq)
      assert.is(seqs.length, total)
      assert.ok(seqs.every((s, k) => s === k + 1), `${d}: seqs 1..${total} in order, none missing or twice`)
    }
  } finally {
    await Promise.all(regs.map(async (r) => { await r.close() }))
  }
})

test.run()
