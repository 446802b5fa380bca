// Outbox streams through the device's cloud link [W4], against a real cloud (aedes, LevelDB,
// Fastify) and real outboxes: a store made new is a new stream whose records all arrive; two
// links on one id with copies of one store hold each other's records apart, and nothing either
// holds is acked away.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { CloudLink } from '../../../device/sync/index.js'
import type { CloudLinkOptions } from '../../../device/sync/index.js'
import { LevelOutboxStore } from '../../../device/store/index.js'
import { startCloud } from '../../helpers/cloud.js'
import { linkOptions as sharedOptions } from '../../helpers/cloud-link.js'
import type { CloudFixture } from '../../helpers/cloud.js'

async function until (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

function linkOptions (f: CloudFixture, store: LevelOutboxStore, secret: string, extra: Partial<CloudLinkOptions> = {}): CloudLinkOptions {
  return sharedOptions(f.cloud.broker.url, store, secret, { status: () => ({ agent: '0.1.0', functions: [] }), ackTimeoutMs: 1000, ...extra })
}

const commit = async (store: LevelOutboxStore, tag: string, n: number): Promise<void> => {
  await store.commit({ records: Array.from({ length: n }, (_, i) => ({ kind: 'result' as const, fn: 'f', time: 1_700_000_000_000 + i, data: { tag, i } })) })
}
type Stored = { stream: string, seq: number, data: { tag: string, i: number } }
const storedOf = async (f: CloudFixture): Promise<Stored[]> =>
  (await f.api<{ records: Stored[] }>('GET', '/v1/devices/gh-01/records?after=0&stream=legacy&limit=10000')).body.records

test('[W4] a board whose data folder is moved aside keeps every new record in the cloud, as a new stream', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-stream-'))
  const dir = path.join(root, 'data')
  const f = await startCloud()
  const secret = await f.addDevice('gh-01')
  try {
    let store = await LevelOutboxStore.open({ dir })
    await commit(store, 'before', 5)
    let link = await CloudLink.start(linkOptions(f, store, secret))
    await until('the first store uploaded', async () => (await store.stats()).count === 0)
    await link.close()
    const first = store.streamId
    await store.close()
    // What the store's own corruption advice says: move the data folder aside and restart.
    renameSync(dir, path.join(root, 'data.broken'))
    store = await LevelOutboxStore.open({ dir })
    assert.ok(store.streamId !== undefined && store.streamId !== first, 'a new store is a new stream')
    await commit(store, 'after', 3)
    link = await CloudLink.start(linkOptions(f, store, secret))
    try {
      await until('the new store uploaded', async () => (await store.stats()).count === 0)
    } finally {
      await link.close()
      await store.close()
    }
    const got = await storedOf(f)
    assert.equal(got.map((r) => [r.stream === first ? 'first' : 'second', r.seq, r.data.tag]), [
      ['first', 1, 'before'], ['first', 2, 'before'], ['first', 3, 'before'], ['first', 4, 'before'], ['first', 5, 'before'],
      ['second', 1, 'after'], ['second', 2, 'after'], ['second', 3, 'after']
    ])
    const dev = (await f.api<{ streams: number, counts: { stored: number, duplicates: number } }>('GET', '/v1/devices/gh-01')).body
    assert.equal([dev.streams, dev.counts.stored, dev.counts.duplicates], [2, 8, 0])
  } finally {
    await f.cleanup()
    rmSync(root, { recursive: true, force: true })
  }
})

test('[W4] two links on one id with copies of one store: the clone\'s batches are refused as a conflict, it says so once, and nothing either holds is acked away', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-clone-'))
  const f = await startCloud()
  const secret = await f.addDevice('gh-01')
  const linesA: string[] = []
  const linesB: string[] = []
  let a = await LevelOutboxStore.open({ dir: path.join(root, 'a') })
  let linkA: CloudLink | undefined
  let linkB: CloudLink | undefined
  let b: LevelOutboxStore | undefined
  try {
    // One image: a store that has uploaded, copied to a second card.
    await commit(a, 'image', 3)
    linkA = await CloudLink.start(linkOptions(f, a, secret))
    await until('the image uploaded', async () => (await a.stats()).count === 0)
    await linkA.close()
    await a.close()
    cpSync(path.join(root, 'a'), path.join(root, 'b'), { recursive: true })
    a = await LevelOutboxStore.open({ dir: path.join(root, 'a') })
    b = await LevelOutboxStore.open({ dir: path.join(root, 'b') })
    assert.is(b.streamId, a.streamId, 'the copy carries the same stream')
    // Each board then makes records of its own under the same seqs.
    await commit(a, 'board-a', 5)
    await commit(b, 'board-b', 5)
    linkA = await CloudLink.start(linkOptions(f, a, secret, { log: (l) => linesA.push(l) }))
    await until('board A uploaded', async () => (await a.stats()).count === 0)
    const bStore = b
    linkB = await CloudLink.start(linkOptions(f, bStore, secret, { log: (l) => linesB.push(l) }))
    await until('board B refused', () => (linkB as CloudLink).counters.conflicts > 0)
    // A goes on making and uploading while B keeps trying and the two take each other's session.
    await commit(a, 'board-a-later', 2)
    linkA.notify()
    await until('board A\'s later records stored', async () => (await storedOf(f)).length === 10)
    await until('a takeover counted', async () => (await f.api<{ takeovers: { count: number } }>('GET', '/v1/devices/gh-01')).body.takeovers.count > 0)

    const got = await storedOf(f)
    assert.equal(got.map((r) => [r.seq, r.data.tag]), [[1, 'image'], [2, 'image'], [3, 'image'], [4, 'board-a'], [5, 'board-a'], [6, 'board-a'], [7, 'board-a'], [8, 'board-a'], [9, 'board-a-later'], [10, 'board-a-later']])
    // B's records are all still in B's outbox: its own five, never acked away.
    const kept = await bStore.read({ limit: 100 })
    assert.equal(kept.map((r) => [r.seq, (r.data as { tag: string }).tag]), [[4, 'board-b'], [5, 'board-b'], [6, 'board-b'], [7, 'board-b'], [8, 'board-b']])
    assert.is(linesB.filter((l) => l.includes('LAMBKIN_STREAM_CONFLICT')).length, 1, linesB.join('\n'))
    assert.match(linesB.find((l) => l.includes('LAMBKIN_STREAM_CONFLICT')) ?? '', /Nothing is deleted here.*lambkin devices add <new-id>/)
    assert.is(linkA.counters.conflicts, 0)
    const dev = (await f.api<{ state: string, problems: string[] }>('GET', '/v1/devices/gh-01')).body
    assert.is(dev.state, 'conflict')
    assert.match(dev.problems.join('\n'), /LAMBKIN_STREAM_CONFLICT/)
  } finally {
    await linkB?.close(0)
    await linkA?.close(0)
    await b?.close()
    await a.close()
    await f.cleanup()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
