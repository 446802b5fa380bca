// A failed commit and the calls already queued behind it in the same sandbox instance
// (docs/durability.md, "A commit that fails is not acknowledged"; docs/lifecycle.md step 9).
// The failed call's message runs again once the store takes it, so its effect on ctx.state must
// not survive in the state a later call commits: otherwise the message is counted twice. Real
// QuickJS pool and LevelDB store; one commit fails as a disk write would (the store wrapped to
// throw once for that call's unit, like an EIO).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SandboxPool, functionKey } from '../../src/sandbox/index.js'
import { validateManifest } from '../../src/function/index.js'
import { Invoker } from '../../device/invoke/invoker.js'
import { FunctionMetrics } from '../../device/metrics/index.js'
import { LevelOutboxStore } from '../../device/store/index.js'
import type { CommitResult, CommitUnit, OutboxStore } from '../../device/store/index.js'
import { makeSpec } from '../helpers/spec.js'

const CODE = 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { n: ctx.state.n, i: e.i } }'

/** The real store, whose commit of the unit holding a result for event `i` fails once. */
function failOnce (store: LevelOutboxStore, i: number): OutboxStore {
  let armed = true
  return new Proxy(store, {
    get: (target, prop) => {
      const v: unknown = Reflect.get(target, prop, target)
      if (prop !== 'commit') return typeof v === 'function' ? v.bind(target) : v
      return async (unit: CommitUnit): Promise<CommitResult> => {
        const hit = unit.records?.some((r) => r.kind === 'result' && (r.data as { result?: { i?: number } }).result?.i === i)
        // Written a little later than the calls behind it take their turn, as a slow card would.
        await new Promise((resolve) => setImmediate(resolve))
        if (hit && armed) {
          armed = false
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })
        }
        return await target.commit(unit)
      }
    }
  })
}

// KNOWN BUG, skipped until fixed (present before and after the callback rewrite of the invoker):
// message 2 runs in the same sandbox instance on the state message 1 produced; 1's commit fails
// and the invoker drops its copy of the state, but 2's outcome (n = 3, built on 1's never-stored
// n = 2) is then committed, and when 1 comes again it counts once more: the stored state ends at
// n = 4 for three messages. A fix must keep a call whose state came from a failed commit from
// committing it (fail it too, so its message is redelivered, or re-run it on the stored state).
test.skip('[commit failure + state] a message whose commit failed and runs again is counted once in ctx.state', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-commit-fail-state-'))
  const store = await LevelOutboxStore.open({ dir })
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const spec = makeSpec(CODE, { name: 'count' })
    await pool.load(spec)
    const invoker = new Invoker({
      pool,
      store: failOnce(store, 1),
      metrics: new FunctionMetrics(),
      maxConcurrent: 4,
      queueDepth: 10,
      sleep: async () => {},
      now: Date.now,
      publish: () => {},
      observers: []
    })
    invoker.register(validateManifest({ name: 'count' }), functionKey(spec))
    await invoker.run('count', { source: 'test', i: 0 })
    // Messages 1 and 2 come together; 1's commit fails (unacknowledged), 2's is written.
    const [one, two] = await Promise.all([
      invoker.run('count', { source: 'test', i: 1 }).then(() => 'ok', (e: { code?: string }) => e.code),
      invoker.run('count', { source: 'test', i: 2 }).then(() => 'ok', (e: { code?: string }) => e.code)
    ])
    assert.is(one, 'LAMBKIN_STORE_ERROR')
    assert.is(two, 'ok')
    // The broker delivers message 1 again and this time it is stored.
    await invoker.run('count', { source: 'test', i: 1 })
    const results = (await store.read({ kinds: ['result'] })).map((r) => (r.data as { result: { n: number, i: number } }).result)
    assert.equal(results.map((r) => r.i).sort(), [0, 1, 2], 'each message has one stored result')
    assert.equal(await store.getState('count'), { n: 3 }, 'three messages, each counted once in the stored state')
    assert.equal(results.map((r) => r.n).sort(), [1, 2, 3], 'the counts the results saw are each message once')
  } finally {
    await pool.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

// KNOWN BUG, skipped until fixed (the same leak through a commit the store refuses by its quota):
// a message whose outcome is larger than the whole outbox quota (LAMBKIN_STORE_FULL) is never
// acknowledged, so it comes again and again; each time it runs, its count is handed on in the
// sandbox instance and stored by the next message's commit. Three stored results end with n = 5.
test.skip('[commit failure + state] a message refused by the quota leaves no count in the state the next message stores', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-commit-fail-quota-'))
  const store = await LevelOutboxStore.open({ dir, quotaBytes: 4096 })
  const pool = await SandboxPool.create({ workers: 1 })
  try {
    const spec = makeSpec('export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { n: ctx.state.n, i: e.i, pad: e.pad } }', { name: 'count' })
    await pool.load(spec)
    const invoker = new Invoker({
      pool, store, metrics: new FunctionMetrics(), maxConcurrent: 4, queueDepth: 10, sleep: async () => {}, now: Date.now, publish: () => {}, observers: []
    })
    invoker.register(validateManifest({ name: 'count' }), functionKey(spec))
    const run = (i: number, pad = ''): Promise<string | undefined> => invoker.run('count', { source: 'test', i, pad }).then(() => 'ok', (e: { code?: string }) => e.code)
    assert.is(await run(0), 'ok')
    // The poison message and the next one come together, twice (the poison one redelivered).
    assert.equal(await Promise.all([run(1, 'x'.repeat(5000)), run(2)]), ['LAMBKIN_STORE_FULL', 'ok'])
    assert.equal(await Promise.all([run(1, 'x'.repeat(5000)), run(3)]), ['LAMBKIN_STORE_FULL', 'ok'])
    const results = (await store.read({ kinds: ['result'] })).map((r) => (r.data as { result: { n: number, i: number } }).result)
    assert.equal(results.map((r) => r.i), [0, 2, 3])
    assert.equal(await store.getState('count'), { n: 3 }, 'three stored results, and the stored count says three')
  } finally {
    await pool.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

interface Rig { store: LevelOutboxStore, invoker: Invoker, done: () => Promise<void> }

/** A LevelDB store in a temp folder, a one-thread pool with `code` loaded as `count`, and an invoker on them. */
async function rig (code: string, wrap: (store: LevelOutboxStore) => OutboxStore): Promise<Rig> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-commit-fail-read-'))
  const store = await LevelOutboxStore.open({ dir })
  const pool = await SandboxPool.create({ workers: 1 })
  const spec = makeSpec(code, { name: 'count' })
  await pool.load(spec)
  const invoker = new Invoker({
    pool,
    store: wrap(store),
    metrics: new FunctionMetrics(),
    maxConcurrent: 4,
    queueDepth: 10,
    sleep: async () => {},
    now: Date.now,
    publish: () => {},
    observers: []
  })
  invoker.register(validateManifest({ name: 'count' }), functionKey(spec))
  return {
    store,
    invoker,
    done: async () => {
      await pool.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

// KNOWN BUG, skipped until fixed (the same gap for a call that only reads the state): behind a
// change whose commit fails, what it saw never existed in the store, so its result must not be
// stored either; it comes again and sees the stored state. Today its result (n = 2) is stored.
// This encodes the "fail it too" choice (a fix that re-runs it on the stored state would expect
// ['LAMBKIN_STORE_ERROR', 'ok'] and n = 1 for i = 2 at once).
test.skip('[commit failure + state] a call that read the state of a failed commit fails with it', async () => {
  const code = 'export default (e, ctx) => { if (e.add) ctx.state.n = (ctx.state.n ?? 0) + 1; return { n: ctx.state.n ?? 0, i: e.i } }'
  const { store, invoker, done } = await rig(code, (s) => failOnce(s, 1))
  try {
    const run = (i: number, add: boolean): Promise<string | undefined> => invoker.run('count', { source: 'test', i, add }).then(() => 'ok', (e: { code?: string }) => e.code)
    assert.is(await run(0, true), 'ok')
    assert.equal(await Promise.all([run(1, true), run(2, false)]), ['LAMBKIN_STORE_ERROR', 'LAMBKIN_STORE_ERROR'])
    assert.is(await run(2, false), 'ok')
    const results = (await store.read({ kinds: ['result'] })).map((r) => (r.data as { result: { n: number, i: number } }).result)
    assert.equal(results, [{ n: 1, i: 0 }, { n: 1, i: 2 }], 'the read saw the stored count, not the one never stored')
  } finally {
    await done()
  }
})

// A function that never changes its state is not held back: a failed commit of one of its calls
// leaves the others' commits alone.
test('[commit failure + state] a function without state loses only the call whose commit failed', async () => {
  const { store, invoker, done } = await rig('export default (e) => ({ i: e.i })', (s) => failOnce(s, 1))
  try {
    const run = (i: number): Promise<string | undefined> => invoker.run('count', { source: 'test', i }).then(() => 'ok', (e: { code?: string }) => e.code)
    assert.equal(await Promise.all([run(1), run(2), run(3)]), ['LAMBKIN_STORE_ERROR', 'ok', 'ok'])
    const results = (await store.read({ kinds: ['result'] })).map((r) => (r.data as { result: { i: number } }).result.i)
    assert.equal(results.sort(), [2, 3])
  } finally {
    await done()
  }
})

test.run()
