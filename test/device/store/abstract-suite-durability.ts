// Abstract suite cases about what outlives trouble: a kill -9 of the writing process (backends
// with supports.persistence) and a full disk (supports.faultInjection: the sticky fault of
// src/store-fault.ts, on a real tmpfs).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import * as assert from 'uvu/assert'
import type { FaultEvent } from '../../../src/store-fault.js'
import { FakeClock } from '../../helpers/fake-clock.js'
import { mountTmpfs } from '../../helpers/tmpfs.js'
import type { Case, StoreSupports } from './abstract-suite-helpers.js'

/** A writer that commits from 8 loops at once and prints each seq once its commit resolved. */
const child = (p: NonNullable<StoreSupports['persistence']>): string => `
const { ${p.exportName}: Store } = await import(${JSON.stringify(p.module)})
const st = await Store.open({ dir: process.argv[2], syncIntervalMs: 60000 })
process.stdout.write('ready\\n')
async function loop (w) {
  for (let i = 0; ; i++) {
    const n = 1 + (i % 3)
    const records = Array.from({ length: n }, (_, j) => ({ kind: 'result', fn: 'w' + w, time: Date.now(), data: { w, i, j, pad: 'x'.repeat(64) } }))
    const { seqs } = await st.commit({ records, state: [{ fn: 'w' + w, value: { i } }] })
    process.stdout.write(seqs.join('\\n') + '\\n')
  }
}
for (let w = 0; w < 8; w++) loop(w)
`

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as { code?: string }).code }
  return undefined
}

const big = (i: number): { kind: 'result', time: number, data: unknown } => ({ kind: 'result', time: 1, data: { i, pad: 'x'.repeat(20_000) } })

export function durabilityCases (it: Case): void {
  it('every commit that resolved survives a kill -9 of the writing process, and seqs go on after it', async (h) => {
    const script = path.join(h.dir, 'writer.mjs')
    fs.writeFileSync(script, child(h.supports.persistence as NonNullable<StoreSupports['persistence']>))
    const printed: number[] = []
    const writer = spawn(process.execPath, [script, h.dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    try {
      await new Promise<void>((resolve, reject) => {
        let buf = ''
        const timer = setTimeout(() => { reject(new Error(`the writer printed ${printed.length} seqs in 30 s; stderr: ${stderr}`)) }, 30_000)
        timer.unref()
        writer.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
        writer.stdout.on('data', (d: Buffer) => {
          buf += d.toString()
          const lines = buf.split('\n')
          buf = lines.pop() as string
          for (const l of lines) if (l !== 'ready') printed.push(Number(l))
          if (printed.length >= 600 && writer.exitCode === null && writer.signalCode === null) {
            clearTimeout(timer)
            writer.kill('SIGKILL')
            resolve()
          }
        })
        writer.on('exit', (code) => { clearTimeout(timer); if (printed.length < 600) reject(new Error(`the writer exited with ${String(code)}: ${stderr}`)) })
      })
      if (writer.exitCode === null && writer.signalCode === null) await new Promise((resolve) => writer.once('exit', resolve))
      assert.is(writer.signalCode, 'SIGKILL', 'the writer was killed, not closed')
      const st = await h.open()
      const have = new Set((await st.read({ limit: 100_000 })).map((r) => r.seq))
      const lost = printed.filter((s) => !have.has(s))
      assert.equal(lost, [], `${lost.length} of ${printed.length} acknowledged seqs were lost`)
      const max = Math.max(...printed)
      const stats = await st.stats()
      assert.ok(stats.lastSeq >= max)
      assert.equal(stats.count, have.size, 'the totals rebuilt at open match the records')
      const [next] = (await st.commit({ records: [{ kind: 'log', time: 1, data: 'after' }] })).seqs
      assert.ok(next > max, `seq ${next} after the crash is above every printed seq (${max})`)
    } finally {
      if (writer.exitCode === null && writer.signalCode === null) writer.kill('SIGKILL')
    }
  }, 'persistence')

  it('a failed write faults the store until it reopened and verified itself; what it acknowledged after is kept', async (h) => {
    const tmpfs = mountTmpfs(4 * 1024 * 1024)
    if ('skip' in tmpfs) { console.log(`skipped: ${tmpfs.skip}`); return }
    const dir = path.join(tmpfs.dir, 'data')
    const clock = new FakeClock(Date.UTC(2025, 0, 1))
    const events: FaultEvent[] = []
    let st = await h.open({ clock, onFault: (e) => events.push(e) }, dir)
    try {
      for (let i = 0; i < 5; i++) await st.commit({ records: [big(i)] })
      tmpfs.fill()
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
      tmpfs.free()
      // Even with room again, nothing is taken before the reopen.
      if ((await st.stats()).fault !== undefined) assert.is(await codeOf(st.commit({ records: [big(99)] })), 'LAMBKIN_STORE_FAULT')
      await clock.advance(60_000)
      assert.is((await st.stats()).fault, undefined, 'recovered by itself')
      assert.is(events[events.length - 1].type, 'recovered')
      const after: number[] = []
      for (let i = 0; i < 40; i++) after.push((await st.commit({ records: [{ kind: 'result', time: 1, data: { i: 100 + i } }] })).seqs[0])
      assert.is(after[0], acked + 1, 'seqs go on after the last acknowledged one')
      await st.close()
      st = await h.open({ clock }, dir)
      const kept = (await st.read({ limit: 1000 })).map((r) => (r.data as { i: number }).i)
      assert.equal(kept.filter((i) => i >= 100).length, 40, 'all 40 acknowledged after the fault are there')
      assert.is(kept.filter((i) => i < 100).length, acked, 'and all before it')
      assert.is((await st.stats()).lastSeq, acked + 40, 'the last seq did not roll back')
    } finally {
      await st.close().catch(() => {})
      tmpfs.unmount()
    }
  }, 'faultInjection')
}
