// [STYLE] Every QuickJS handle is disposed on every path: 10,000 invocations, a tenth of them
// faulting, and the process's memory levels off instead of growing with the count.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SandboxPool } from '../../../src/sandbox/index.js'
import { makeSpec } from '../../helpers/spec.js'

function settle (): number {
  (globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().rss
}

test('10,000 invocations including faulting ones: RSS levels off', async () => {
  const pool = await SandboxPool.create({ workers: 2, quarantineAfter: 1_000_000 })
  try {
    const good = await pool.load(makeSpec(`export default async (e, ctx) => {
      ctx.log('n', e.i); ctx.emit({ i: e.i }); ctx.state.last = e.i
      return { list: Array.from({ length: 50 }, (_, k) => k * e.i) }
    }`))
    const thrower = await pool.load(makeSpec('export default (e) => { throw new Error("no " + e.i) }'))
    const looper = await pool.load(makeSpec('export default () => { for (;;) {} }', { limits: { instructions: 200_000 } }))
    const bomb = await pool.load(makeSpec('export default () => { const a = []; for (;;) a.push(new Array(1000).fill(1)) }', { limits: { memoryKiB: 16384, instructions: 1e12, timeoutMs: 5000 } }))
    const round = async (from: number, count: number): Promise<void> => {
      const calls = []
      for (let i = from; i < from + count; i++) {
        const k = i % 10 === 0 ? (i % 40 === 0 ? bomb : i % 20 === 0 ? looper : thrower) : good
        calls.push(pool.invoke(k, { i }))
        if (calls.length === 200) { await Promise.all(calls.splice(0)) }
      }
      const outs = await Promise.all(calls)
      assert.ok(outs.every((o) => o.ok || o.error.code !== 'LAMBKIN_SANDBOX_CRASHED'))
    }
    await round(0, 2000)
    const early = settle()
    await round(2000, 8000)
    const late = settle()
    const growthMiB = (late - early) / 1048576
    assert.ok(growthMiB < 48, `RSS grew ${growthMiB.toFixed(1)} MiB over the last 8,000 calls`)
  } finally {
    await pool.close()
  }
})

test.run()
