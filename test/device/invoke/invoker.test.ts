// The invoker's agent-wide limit covers the sandbox part of an invocation only: while one
// invocation's effects are being written, the next one already runs. A real sandbox pool and a
// real LevelDB store, whose commits are held at a gate to make "being written" last.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { SandboxPool } from '../../../src/sandbox/index.js'
import type { Invoker, InvocationRecord } from '../../../device/invoke/invoker.js'
import { FunctionMetrics } from '../../../device/metrics/index.js'
import type { CommitDone, CommitResult, CommitUnit, LevelOutboxStore, OutboxStore } from '../../../device/store/index.js'
import { invokerWorld } from '../../helpers/invoker-world.js'

/** The LevelDB store, with each commit held at a gate until the test opens it. */
class Gate {
  waiting = 0
  open: () => void = () => {}
  #opened: Promise<void>

  constructor () { this.#opened = new Promise((resolve) => { this.open = resolve }) }

  wrap (store: LevelOutboxStore): OutboxStore {
    return new Proxy(store, {
      get: (target, prop) => {
        if (prop !== 'commit' && prop !== 'commitThen') {
          const v: unknown = Reflect.get(target, prop, target)
          return typeof v === 'function' ? v.bind(target) : v
        }
        const commit = async (unit: CommitUnit, queued?: () => void): Promise<CommitResult> => {
          this.waiting++
          // Held here as in the store's own write queue: none of this file's units fails its checks.
          queued?.()
          await this.#opened
          this.waiting--
          return await target.commit(unit)
        }
        // The invoker's path (commitThen) held the same way.
        if (prop === 'commit') return commit
        return (unit: CommitUnit, queued: (() => void) | undefined, done: CommitDone) => { commit(unit, queued).then((r) => { done(undefined, r) }, done) }
      }
    })
  }
}

/** Holds the store's state reads and answers them last first, as LevelDB's threads may. */
class ReadsInAnyOrder {
  held: Array<() => void> = []

  wrap (store: OutboxStore): OutboxStore {
    return new Proxy(store, {
      get: (target, prop) => {
        const v: unknown = Reflect.get(target, prop, target)
        if (prop !== 'getState') return typeof v === 'function' ? v.bind(target) : v
        return async (fn: string): Promise<unknown> => {
          await new Promise<void>((resolve) => this.held.push(resolve))
          return await target.getState(fn)
        }
      }
    })
  }

  releaseLastFirst (): void {
    for (const r of this.held.splice(0).reverse()) r()
  }
}

interface Setup {
  invoker: Invoker
  store: LevelOutboxStore
  gate: Gate
  pool: SandboxPool
  key: string
  records: InvocationRecord[]
  metrics: FunctionMetrics
  cleanup: () => Promise<void>
}

async function setup (maxConcurrent: number, queueDepth = 100, quotaBytes?: number, reads?: ReadsInAnyOrder): Promise<Setup> {
  const gate = new Gate()
  const records: InvocationRecord[] = []
  const metrics = new FunctionMetrics()
  const world = await invokerWorld({
    functions: { count: 'export default (e, ctx) => { ctx.state.n = (ctx.state.n ?? 0) + 1; return { n: ctx.state.n, i: e.i } }' },
    store: quotaBytes === undefined ? {} : { quotaBytes },
    wrapStore: (store) => reads === undefined ? gate.wrap(store) : reads.wrap(gate.wrap(store)),
    invoker: { metrics, maxConcurrent, queueDepth, observers: [(r) => { records.push(r) }] }
  })
  return {
    invoker: world.invoker,
    store: world.store,
    gate,
    pool: world.pool,
    key: world.keys.get('count') as string,
    records,
    metrics,
    cleanup: async () => { gate.open(); await world.close() }
  }
}

async function until (check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(check(), 'condition not reached within 5 s')
}

test('with one slot, the next invocation runs while the previous one is still being written', async () => {
  const s = await setup(1)
  try {
    const runs = [1, 2, 3].map((i) => s.invoker.run('count', { source: 'test', i }))
    // All three went through the one sandbox slot and wait at the store, none committed yet.
    await until(() => s.gate.waiting === 3)
    assert.is(s.pool.stats(s.key)?.invocations, 3)
    assert.is(s.records.length, 0, 'nothing is reported before its commit')
    s.gate.open()
    const done = await Promise.all(runs)
    assert.equal(done.map((r) => r.ok), [true, true, true])
    assert.equal(done.map((r) => r.result), [{ n: 1, i: 1 }, { n: 2, i: 2 }, { n: 3, i: 3 }], 'state carried from call to call in order')
    assert.is(await s.store.getState('count').then((v) => (v as { n: number }).n), 3)
    const stored = await s.store.read({ kinds: ['result'] })
    assert.is(stored.length, 3)
  } finally {
    await s.cleanup()
  }
})

test('overload "throttle": the agent-wide queue answers LAMBKIN_THROTTLED while the slot is busy in the sandbox', async () => {
  const s = await setup(1, 1)
  try {
    s.gate.open()
    // Synchronously: the first takes the slot, the second queues, the third finds the queue full.
    const runs = [1, 2, 3].map((i) => s.invoker.run('count', { source: 'test', i }, { overload: 'throttle' }))
    const done = await Promise.all(runs)
    assert.equal(done.map((r) => r.ok), [true, true, false])
    assert.is(done[2].code, 'LAMBKIN_THROTTLED')
  } finally {
    await s.cleanup()
  }
})

test('overload "wait" (the default): calls past queueDepth wait for a slot, and every one is committed', async () => {
  const s = await setup(1, 1)
  try {
    s.gate.open()
    const done = await Promise.all(Array.from({ length: 20 }, (_, i) => s.invoker.run('count', { source: 'test', i })))
    assert.equal(done.map((r) => r.ok), Array(20).fill(true))
    assert.is((await s.store.read({ kinds: ['result'] })).length, 20)
  } finally {
    await s.cleanup()
  }
})

test('[ack after commit] a commit the store refuses rejects run() with the store\'s code, is reported and counted', async () => {
  const s = await setup(1, 100, 4096)
  try {
    s.gate.open()
    // A result bigger than the whole quota can never be stored.
    const tooBig = 'x'.repeat(5000)
    const err = await s.invoker.run('count', { source: 'test', i: tooBig }).then(() => undefined, (e: { code?: string }) => e)
    assert.is(err?.code, 'LAMBKIN_STORE_FULL')
    assert.is(s.records[s.records.length - 1].code, 'LAMBKIN_STORE_FULL')
    assert.match(s.metrics.toPrometheus(), 'lambkin_commit_failures_total{code="LAMBKIN_STORE_FULL"} 1')
    // The next call still works, and the state it saw was the stored one.
    const ok = await s.invoker.run('count', { source: 'test', i: 2 })
    assert.equal(ok.result, { n: 1, i: 2 })
  } finally {
    await s.cleanup()
  }
})

test('a burst that comes before the function\'s state is read runs in the order it came (concurrency 1)', async () => {
  const reads = new ReadsInAnyOrder()
  const s = await setup(100, 100, undefined, reads)
  try {
    s.gate.open()
    const runs = Array.from({ length: 10 }, (_, i) => s.invoker.run('count', { source: 'test', i }))
    await until(() => reads.held.length > 0)
    // Every call that reads the state for itself has reached its read by the next turn.
    await new Promise((resolve) => setImmediate(resolve))
    reads.releaseLastFirst()
    const done = await Promise.all(runs)
    assert.equal(done.map((r) => r.result), Array.from({ length: 10 }, (_, i) => ({ n: i + 1, i })), 'each call saw the state of the one before it')
    const stored = await s.store.read({ kinds: ['result'] })
    assert.equal(stored.map((r) => (r.data as { result: { i: number } }).result.i), Array.from({ length: 10 }, (_, i) => i), 'committed in the order they came')
  } finally {
    await s.cleanup()
  }
})

test('a call that fails before its commit rejects run(), never throws, and gives its slot back', async () => {
  const failOnce = { armed: true }
  const s = await setup(1, 100, undefined, {
    held: [],
    releaseLastFirst: () => {},
    wrap: (store: OutboxStore) => new Proxy(store, {
      get: (target, prop) => {
        const v: unknown = Reflect.get(target, prop, target)
        if (prop !== 'getState') return typeof v === 'function' ? v.bind(target) : v
        return async (fn: string): Promise<unknown> => {
          if (failOnce.armed) { failOnce.armed = false; throw new Error('disk read failed') }
          return await target.getState(fn)
        }
      }
    })
  } as unknown as ReadsInAnyOrder)
  try {
    s.gate.open()
    // A source whose String() throws: the caller gets a rejection, as from an async function.
    let threw = false
    let answer: Promise<unknown> | undefined
    try {
      answer = s.invoker.run('count', { source: { toString () { throw new Error('bad source') } }, i: 0 })
    } catch {
      threw = true
    }
    assert.is(threw, false, 'run() does not throw')
    assert.match(String(await answer?.then(() => 'resolved', (e: Error) => e.message)), 'bad source')
    // The state read fails: rejected with nothing stored, and the one slot is free again.
    const err = await s.invoker.run('count', { source: 'test', i: 1 }).then(() => undefined, (e: Error) => e)
    assert.match(String(err?.message), 'disk read failed')
    assert.is(s.invoker.inflight, 0)
    const ok = await s.invoker.run('count', { source: 'test', i: 2 })
    assert.equal(ok.result, { n: 1, i: 2 })
  } finally {
    await s.cleanup()
  }
})

test.run()
