// A failed commit and the calls already queued behind it in the same sandbox instance
// (docs/durability.md, "A commit that fails is not acknowledged"; docs/lifecycle.md step 9).
// The failed call's message runs again once the store takes it, so its effect on ctx.state must
// not survive in the state a later call commits: otherwise the message is counted twice. Real
// QuickJS pool and LevelDB store; one commit fails as a disk write would (the store wrapped to
// throw once for that call's unit, like an EIO).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import type { LevelOutboxStore } from '../../device/store/index.js'
import type { CommitDone, CommitResult, CommitUnit, OutboxStore } from '../../device/store/index.js'
import { invokerWorld, outcome, storedResults } from '../helpers/invoker-world.js'
import { mountTmpfs } from '../helpers/tmpfs.js'
import { FakeClock } from '../helpers/fake-clock.js'

const CODE = 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { n: ctx.state.n, i: e.i } }'

/** The real store, whose commit of the unit holding a result for event `i` fails once. */
function failOnce (store: LevelOutboxStore, i: number): OutboxStore {
  let armed = true
  return new Proxy(store, {
    get: (target, prop) => {
      const v: unknown = Reflect.get(target, prop, target)
      if (prop !== 'commit' && prop !== 'commitThen') return typeof v === 'function' ? v.bind(target) : v
      const commit = async (unit: CommitUnit): Promise<CommitResult> => {
        const hit = unit.records?.some((r) => r.kind === 'result' && (r.data as { result?: { i?: number } }).result?.i === i)
        // Written a little later than the calls behind it take their turn, as a slow card would.
        await new Promise((resolve) => setImmediate(resolve))
        if (hit && armed) {
          armed = false
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })
        }
        return await target.commit(unit)
      }
      // The invoker's path (commitThen) fails the same way.
      if (prop === 'commit') return commit
      return (unit: CommitUnit, _queued: unknown, done: CommitDone) => { commit(unit).then((r) => { done(undefined, r) }, done) }
    }
  })
}

// Message 2 runs in the same sandbox instance on the state message 1 produced (n = 3, built on
// 1's n = 2). 1's commit fails, so 2's is not written either (device/invoke/state-chain.ts): both
// stay unacknowledged and come again. Before, 2's n = 3 was stored and 1 counted once more on
// redelivery: n = 4 for three messages.
test('[commit failure + state] a message whose commit failed and runs again is counted once in ctx.state', async () => {
  const { store, invoker, close } = await invokerWorld({ functions: { count: CODE }, wrapStore: (s) => failOnce(s, 1) })
  try {
    await invoker.run('count', { source: 'test', i: 0 })
    // Messages 1 and 2 come together; 1's commit fails, and 2, which ran on 1's state, fails with it.
    const [one, two] = await Promise.all([
      outcome(invoker.run('count', { source: 'test', i: 1 })),
      outcome(invoker.run('count', { source: 'test', i: 2 }))
    ])
    assert.is(one, 'LAMBKIN_STORE_ERROR')
    assert.is(two, 'LAMBKIN_STORE_ERROR')
    assert.equal(await store.getState('count'), { n: 1 }, 'neither change is stored')
    // The broker delivers both again and this time they are stored.
    await Promise.all([invoker.run('count', { source: 'test', i: 1 }), invoker.run('count', { source: 'test', i: 2 })])
    const results = await storedResults<{ n: number, i: number }>(store)
    assert.equal(results.map((r) => r.i).sort(), [0, 1, 2], 'each message has one stored result')
    assert.equal(await store.getState('count'), { n: 3 }, 'three messages, each counted once in the stored state')
    assert.equal(results.map((r) => r.n).sort(), [1, 2, 3], 'the counts the results saw are each message once')
  } finally {
    await close()
  }
})

// The same through a commit the store refuses by its quota: a message whose outcome is larger
// than the whole outbox quota (LAMBKIN_STORE_FULL) is never acknowledged, so it comes again and
// again; the message that ran behind it on its state fails with it each time, and is stored when
// it comes again on its own. Before, each run's count was stored by the next message's commit.
test('[commit failure + state] a message refused by the quota leaves no count in the state the next message stores', async () => {
  const { store, invoker, close } = await invokerWorld({
    functions: { count: 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { n: ctx.state.n, i: e.i, pad: e.pad } }' },
    store: { quotaBytes: 4096 }
  })
  try {
    const run = (i: number, pad = ''): Promise<string | undefined> => outcome(invoker.run('count', { source: 'test', i, pad }))
    assert.is(await run(0), 'ok')
    // The poison message and the next one come together, twice (the poison one redelivered);
    // the next one comes again alone each time.
    assert.equal(await Promise.all([run(1, 'x'.repeat(5000)), run(2)]), ['LAMBKIN_STORE_FULL', 'LAMBKIN_STORE_ERROR'])
    assert.is(await run(2), 'ok')
    assert.equal(await Promise.all([run(1, 'x'.repeat(5000)), run(3)]), ['LAMBKIN_STORE_FULL', 'LAMBKIN_STORE_ERROR'])
    assert.is(await run(3), 'ok')
    const results = await storedResults<{ n: number, i: number }>(store)
    assert.equal(results.map((r) => r.i), [0, 2, 3])
    assert.equal(await store.getState('count'), { n: 3 }, 'three stored results, and the stored count says three')
  } finally {
    await close()
  }
})

// The same for a call that only reads the state: behind a change whose commit fails, what it saw
// never existed in the store, so its result is not stored either; it comes again and sees the
// stored state.
test('[commit failure + state] a call that read the state of a failed commit fails with it', async () => {
  const code = 'export default (e, ctx) => { if (e.add) ctx.state.n = (ctx.state.n ?? 0) + 1; return { n: ctx.state.n ?? 0, i: e.i } }'
  const { store, invoker, close } = await invokerWorld({ functions: { count: code }, wrapStore: (s) => failOnce(s, 1) })
  try {
    const run = (i: number, add: boolean): Promise<string | undefined> => outcome(invoker.run('count', { source: 'test', i, add }))
    assert.is(await run(0, true), 'ok')
    assert.equal(await Promise.all([run(1, true), run(2, false)]), ['LAMBKIN_STORE_ERROR', 'LAMBKIN_STORE_ERROR'])
    assert.is(await run(2, false), 'ok')
    assert.equal(await storedResults(store), [{ n: 1, i: 0 }, { n: 1, i: 2 }], 'the read saw the stored count, not the one never stored')
  } finally {
    await close()
  }
})

// A write error inside the store's own batch (a full disk, on a small tmpfs): the state commits
// queued behind the failed one, which ran on its state, fail with it (the store's fault), and
// the messages that run again after the store reopened are each counted once.
test('[commit failure + state] a full disk: what was queued behind a failed batch fails with it, and each message counts once after the reopen', async () => {
  const tmpfs = mountTmpfs(8 * 1024 * 1024)
  if ('skip' in tmpfs) { console.log(`skipped: ${tmpfs.skip}`); return }
  const clock = new FakeClock(Date.UTC(2025, 0, 1))
  const { store, invoker, close } = await invokerWorld({
    functions: { count: 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { n: ctx.state.n, i: e.i, pad: \'z\'.repeat(e.pad) } }' },
    store: { dir: path.join(tmpfs.dir, 'data'), clock }
  })
  try {
    const run = (i: number): Promise<string | undefined> => outcome(invoker.run('count', { source: 'test', i, pad: 100_000 }))
    assert.is(await run(0), 'ok')
    tmpfs.fill()
    const codes = await Promise.all([1, 2, 3, 4, 5].map(run))
    const first = codes.findIndex((c) => c !== 'ok')
    assert.ok(first >= 0, 'the disk filled up')
    assert.ok(codes.slice(first).every((c) => c === 'LAMBKIN_STORE_ERROR' || c === 'LAMBKIN_STORE_FAULT'), `every commit after the failed one failed: ${codes.join(' ')}`)
    tmpfs.free()
    for (let i = 0; i < 20 && (await store.stats()).fault !== undefined; i++) {
      await clock.advance(60_000)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.is((await store.stats()).fault, undefined, 'the store reopened')
    // The broker delivers the unacknowledged ones again.
    for (let i = first; i < codes.length; i++) assert.is(await run(i + 1), 'ok')
    const results = await storedResults<{ n: number, i: number }>(store)
    assert.equal(results.map((r) => r.i).sort(), [0, 1, 2, 3, 4, 5], 'each message has one stored result')
    assert.equal(await store.getState('count'), { n: 6 }, 'six messages, each counted once')
    assert.equal(results.map((r) => r.n).sort(), [1, 2, 3, 4, 5, 6])
  } finally {
    await close().catch(() => {})
    tmpfs.unmount()
  }
})

// A function that never changes its state is not held back: a failed commit of one of its calls
// leaves the others' commits alone.
test('[commit failure + state] a function without state loses only the call whose commit failed', async () => {
  const { store, invoker, close } = await invokerWorld({ functions: { count: 'export default (e) => ({ i: e.i })' }, wrapStore: (s) => failOnce(s, 1) })
  try {
    const run = (i: number): Promise<string | undefined> => outcome(invoker.run('count', { source: 'test', i }))
    assert.equal(await Promise.all([run(1), run(2), run(3)]), ['LAMBKIN_STORE_ERROR', 'ok', 'ok'])
    const results = (await storedResults<{ i: number }>(store)).map((r) => r.i)
    assert.equal(results.sort(), [2, 3])
  } finally {
    await close()
  }
})

test.run()
