// The LevelDB outbox store: the abstract suite with all it supports (a kill -9 of the writer,
// a full disk), then what only this backend has (where its files live, its lock's message,
// stores from before streams).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { outboxStoreSuite } from './abstract-suite.js'
import { LevelOutboxStore, storePath } from '../../../device/store/index.js'
import { encodeValue } from '../../../device/store/codec.js'
import { publishKey } from '../../../device/store/keys.js'

outboxStoreSuite('leveldb', async (opts) => await LevelOutboxStore.open(opts), {
  supports: {
    persistence: { module: new URL('../../../device/store/index.js', import.meta.url).href, exportName: 'LevelOutboxStore' },
    faultInjection: true
  }
})

const test = suite('LevelOutboxStore')
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
const rm = (dir: string): void => { fs.rmSync(dir, { recursive: true, force: true }) }

async function codeOf (p: Promise<unknown>): Promise<{ code?: string, message: string, details?: Record<string, unknown> }> {
  try { await p } catch (err) { return err as { code?: string, message: string, details?: Record<string, unknown> } }
  return assert.unreachable('expected a rejection') as never
}

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

test('writeBufferKiB is LevelDB\'s write buffer: 64 KiB writes table files where the 4 MiB default keeps the same writes in its log', async () => {
  const tables = (dir: string): string[] => fs.readdirSync(storePath(dir)).filter((f) => f.endsWith('.ldb'))
  const small = tmp()
  const usual = tmp()
  try {
    for (const [dir, buffer] of [[small, { writeBufferKiB: 64 }], [usual, {}]] as const) {
      const st = await LevelOutboxStore.open({ dir, ...buffer })
      // About 400 KB: six times the small buffer, a tenth of the default one.
      for (let c = 0; c < 40; c++) await st.commit({ records: Array.from({ length: 10 }, (_, i) => ({ kind: 'result' as const, time: 1, data: `${c}-${i}-${'x'.repeat(1000)}` })) })
      await st.close()
    }
    assert.ok(tables(small).length > 0, 'the 64 KiB buffer was written out as table files')
    assert.equal(tables(usual), [], 'the default buffer held it all')
    const st = await LevelOutboxStore.open({ dir: small, writeBufferKiB: 64 })
    assert.is((await st.stats()).count, 400, 'nothing lost either way')
    await st.close()
  } finally { rm(small); rm(usual) }
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

test('[W9] a publish in the shape stored before hops were kept ({ t, p, q, r }) still loads, without a hop, and is removed', async () => {
  const dir = tmp()
  try {
    let st = await LevelOutboxStore.open({ dir })
    const [id] = (await st.commit({ publishes: [{ topic: 'loop/a', payload: 'x', qos: 1, retain: false }] })).publishIds
    await st.close()
    // What an older agent wrote, put in its place under the key of its size (so the books agree).
    const old = encodeValue({ t: 'loop/a', p: 'x', q: 1, r: false }, 'old publish')
    const db = new Level<string, Uint8Array>(storePath(dir), { keyEncoding: 'utf8', valueEncoding: 'view' })
    const p = db.sublevel<string, Uint8Array>('p', { keyEncoding: 'utf8', valueEncoding: 'view' })
    const keys = await p.keys().all()
    assert.equal(keys, [publishKey(id, old.length)], 'a publish without hop is stored as before, byte for byte')
    await p.put(keys[0], old)
    await db.close()
    st = await LevelOutboxStore.open({ dir })
    assert.equal(await st.pendingPublishes(), [{ id, topic: 'loop/a', payload: 'x', qos: 1, retain: false }])
    await st.removePublish(id)
    assert.is((await st.stats()).pendingPublishes, 0)
    await st.close()
  } finally { rm(dir) }
})

test.run()
