// The LevelDB outbox store: the abstract suite, then what only this backend has (options,
// the data dir lock, and surviving a kill -9 of the process that wrote).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { outboxStoreSuite } from './abstract-suite.js'
import { LevelOutboxStore, storePath } from '../../../device/store/index.js'
import type { LevelStoreOptions } from '../../../device/store/index.js'

outboxStoreSuite('leveldb', async (opts) => await LevelOutboxStore.open(opts))

const test = suite('LevelOutboxStore')
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
const rm = (dir: string): void => { fs.rmSync(dir, { recursive: true, force: true }) }

async function codeOf (p: Promise<unknown>): Promise<{ code?: string, message: string, details?: Record<string, unknown> }> {
  try { await p } catch (err) { return err as { code?: string, message: string, details?: Record<string, unknown> } }
  return assert.unreachable('expected a rejection') as never
}

test('bad options are refused with CONFIG_INVALID naming the key', async () => {
  const dir = tmp()
  try {
    const cases: Array<[Partial<LevelStoreOptions>, string]> = [
      [{ quotaBytes: 10 }, 'quotaBytes'], [{ quotaBytes: 1.5e6 + 0.5 }, 'quotaBytes'], [{ syncIntervalMs: 0 }, 'syncIntervalMs'],
      [{ ttlMs: { log: -1 } }, 'ttlMs.log'], [{ ttlMs: { logs: 5 } as never }, 'ttlMs.logs'], [{ dir: '' }, 'dir'],
      [{ clock: { now: () => 1 } as never }, 'clock']
    ]
    for (const [opts, key] of cases) {
      const e = await codeOf(LevelOutboxStore.open({ dir, ...opts }))
      assert.is(e.code, 'LAMBKIN_CONFIG_INVALID', key)
      assert.is(e.details?.key, key)
      assert.ok(e.message.includes(key), e.message)
    }
  } finally { rm(dir) }
})

test('the database lives in <dir>/store, and a second opener is told the dir is locked', async () => {
  const dir = tmp()
  const st = await LevelOutboxStore.open({ dir })
  try {
    assert.ok(fs.existsSync(path.join(storePath(dir), 'CURRENT')))
    const e = await codeOf(LevelOutboxStore.open({ dir }))
    assert.is(e.code, 'LAMBKIN_STORE_ERROR')
    assert.match(e.message, /locked by another process/)
    assert.is(e.details?.reason, 'locked')
    await st.commit({ records: [{ kind: 'log', time: 1, data: 'still fine' }] })
  } finally {
    await st.close()
    rm(dir)
  }
})

test('createIfMissing: false refuses a dir with no store and creates nothing', async () => {
  const dir = tmp()
  try {
    const e = await codeOf(LevelOutboxStore.open({ dir, createIfMissing: false }))
    assert.is(e.code, 'LAMBKIN_STORE_ERROR')
    assert.match(e.message, /no outbox store/)
    assert.not.ok(fs.existsSync(storePath(dir)))
  } finally { rm(dir) }
})

const CHILD = `
import { LevelOutboxStore } from ${JSON.stringify(new URL('../../../device/store/index.js', import.meta.url).href)}
const st = await LevelOutboxStore.open({ dir: process.argv[2], syncIntervalMs: 60000 })
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

test('every commit that resolved survives a kill -9 of the writing process, and seqs go on after it', async () => {
  const dir = tmp()
  const script = path.join(dir, 'writer.mjs')
  fs.writeFileSync(script, CHILD)
  const printed: number[] = []
  const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  try {
    await new Promise<void>((resolve, reject) => {
      let buf = ''
      const timer = setTimeout(() => { reject(new Error(`the writer printed ${printed.length} seqs in 30 s; stderr: ${stderr}`)) }, 30_000)
      timer.unref()
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString()
        const lines = buf.split('\n')
        buf = lines.pop() as string
        for (const l of lines) if (l !== 'ready') printed.push(Number(l))
        if (printed.length >= 600 && child.exitCode === null && child.signalCode === null) {
          clearTimeout(timer)
          child.kill('SIGKILL')
          resolve()
        }
      })
      child.on('exit', (code) => { clearTimeout(timer); if (printed.length < 600) reject(new Error(`the writer exited with ${String(code)}: ${stderr}`)) })
    })
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve))
    assert.is(child.signalCode, 'SIGKILL', 'the writer was killed, not closed')
    const st = await LevelOutboxStore.open({ dir })
    try {
      const have = new Set((await st.read({ limit: 100_000 })).map((r) => r.seq))
      const lost = printed.filter((s) => !have.has(s))
      assert.equal(lost, [], `${lost.length} of ${printed.length} acknowledged seqs were lost`)
      const max = Math.max(...printed)
      const stats = await st.stats()
      assert.ok(stats.lastSeq >= max)
      assert.equal(stats.count, have.size, 'the totals rebuilt at open match the records')
      const [next] = (await st.commit({ records: [{ kind: 'log', time: 1, data: 'after' }] })).seqs
      assert.ok(next > max, `seq ${next} after the crash is above every printed seq (${max})`)
    } finally { await st.close() }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    rm(dir)
  }
})

test('[W4] a store from before streams that handed out seqs keeps them as the legacy stream; an unused one gets a stream id', async () => {
  const dir = tmp()
  const unused = tmp()
  try {
    for (const [d, records] of [[dir, 2], [unused, 0]] as const) {
      const st = await LevelOutboxStore.open({ dir: d })
      for (let i = 0; i < records; i++) await st.commit({ records: [{ kind: 'result', time: 1, data: i }] })
      await st.close()
      // What an older agent left: no stream key among the store's own.
      const db = new Level<string, Uint8Array>(storePath(d), { keyEncoding: 'utf8', valueEncoding: 'view' })
      await db.sublevel<string, Uint8Array>('y', { keyEncoding: 'utf8', valueEncoding: 'view' }).del('stream')
      await db.close()
    }
    for (let open = 0; open < 2; open++) {
      const st = await LevelOutboxStore.open({ dir })
      assert.is(st.streamId, undefined)
      assert.equal((await st.commit({ records: [{ kind: 'result', time: 1, data: 'next' }] })).seqs, [3 + open], 'its seqs go on')
      await st.close()
    }
    const fresh = await LevelOutboxStore.open({ dir: unused })
    assert.match(String(fresh.streamId), /^[0-9a-f]{16}$/)
    await fresh.close()
  } finally { rm(dir); rm(unused) }
})

test.run()
