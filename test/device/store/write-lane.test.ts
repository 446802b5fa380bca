// Group commit: one write at a time; what arrives meanwhile goes into the next write together.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LAZY_MS, WriteLane } from '../../../device/store/write-lane.js'

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((_resolve) => { resolve = _resolve })
  return { promise, resolve }
}

test('jobs pushed while a write is in flight are coalesced into the next single write', async () => {
  const groups: string[][] = []
  const gates: Array<{ promise: Promise<void>, resolve: () => void }> = []
  const lane = new WriteLane<string, string>(async (jobs) => {
    groups.push(jobs)
    const g = deferred()
    gates.push(g)
    await g.promise
    return jobs.map((j) => j.toUpperCase())
  })
  const first = [lane.push('a', true), lane.push('b', true)]
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(groups, [['a', 'b']], 'a synchronous burst is one write')
  const later = ['c', 'd', 'e'].map((j) => lane.push(j, true))
  const ack = lane.push('ack', false)
  const after = lane.push('f', true)
  await new Promise((resolve) => setImmediate(resolve))
  assert.is(groups.length, 1, 'nothing else runs while a write is in flight')
  gates[0].resolve()
  assert.equal(await Promise.all(first), ['A', 'B'])
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(groups[1], ['c', 'd', 'e'])
  gates[1].resolve()
  assert.equal(await Promise.all(later), ['C', 'D', 'E'])
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(groups[2], ['ack'], 'a job that does not coalesce runs alone, in order')
  gates[2].resolve()
  await new Promise((resolve) => setImmediate(resolve))
  gates[3].resolve()
  assert.equal([await ack, await after], ['ACK', 'F'])
  await lane.idle()
  assert.equal(groups.length, 4)
})

test('a failed write rejects every job in it and the lane goes on with the next', async () => {
  let calls = 0
  const lane = new WriteLane<number, number>(async (jobs) => {
    calls++
    if (jobs.includes(2)) throw new Error('disk says no')
    return jobs
  })
  const a = lane.push(1, true)
  const b = lane.push(2, true)
  const errs = await Promise.allSettled([a, b])
  assert.equal(errs.map((e) => e.status), ['rejected', 'rejected'])
  assert.is(await lane.push(3, true), 3)
  await lane.idle()
  assert.is(calls, 2)
})

test('maxGroup bounds how many jobs one write takes', async () => {
  const sizes: number[] = []
  const lane = new WriteLane<number, number>(async (jobs) => { sizes.push(jobs.length); return jobs }, 3)
  await Promise.all(Array.from({ length: 8 }, async (_, i) => await lane.push(i, true)))
  assert.equal(sizes, [3, 3, 2])
})

test('a lazy job on an idle lane waits for the next job and shares its write; alone it goes after LAZY_MS; idle() writes it at once', async () => {
  const groups: string[][] = []
  const lane = new WriteLane<string, string>(async (jobs) => { groups.push(jobs); return jobs })
  const removal = lane.push('unpublish', true, true)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(groups, [], 'nothing is written for the lazy job alone yet')
  await Promise.all([removal, lane.push('commit', true)])
  assert.equal(groups, [['unpublish', 'commit']], 'it rides with the next commit')

  const alone = lane.push('unpublish 2', true, true)
  await new Promise((resolve) => setImmediate(resolve))
  assert.is(groups.length, 1, 'alone, it waits for company first')
  assert.is(await alone, 'unpublish 2', `then goes by itself (after ${LAZY_MS} ms)`)
  assert.equal(groups[1], ['unpublish 2'])

  const third = lane.push('unpublish 3', true, true)
  await lane.idle()
  assert.equal(groups[2], ['unpublish 3'], 'idle() (a close) does not leave it waiting')
  assert.is(await third, 'unpublish 3')

  const nonCoalescing = lane.push('ack', false, true)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(groups[3], ['ack'], 'only coalescable jobs can be lazy')
  await nonCoalescing
})

test('pushThen: its job groups with push()es, hears its result in turn, and a failed group tells it the error', async () => {
  const groups: string[][] = []
  let fail = false
  const lane = new WriteLane<string, string>(async (jobs) => {
    groups.push(jobs)
    await new Promise((resolve) => setImmediate(resolve))
    if (fail) throw new Error('EIO')
    return jobs.map((j) => j.toUpperCase())
  })
  const heard: string[] = []
  const pushed = lane.push('a', true).then((r) => { heard.push(`push ${r}`) })
  let sync = true
  lane.pushThen('b', true, (err, r) => { heard.push(`then ${String(err)} ${r} ${sync ? 'sync' : 'async'}`) })
  sync = false
  await pushed
  await lane.idle()
  assert.equal(groups, [['a', 'b']], 'one write for both')
  assert.equal(heard.sort(), ['push A', 'then undefined B async'], 'each hears its own result, never before pushThen() returns')
  fail = true
  const told: unknown[] = []
  lane.pushThen('c', true, (err, r) => { told.push(err instanceof Error ? err.message : `result ${r}`) })
  await lane.idle()
  assert.equal(told, ['EIO'], 'the group failure is its error')
})

test('pushThen: a throw from one job\'s done is thrown on its own; the group\'s other jobs keep their results', async () => {
  const lane = new WriteLane<string, string>(async (jobs) => jobs.map((j) => j.toUpperCase()))
  const thrown: unknown[] = []
  const listener = (err: unknown): void => { thrown.push(err) }
  const before = process.listeners('uncaughtException')
  process.removeAllListeners('uncaughtException')
  process.on('uncaughtException', listener)
  try {
    const got: Array<string | undefined> = []
    lane.pushThen('a', true, () => { throw new Error('observer') })
    const b = lane.push('b', true)
    lane.pushThen('c', true, (err, r) => { got.push(err === undefined ? r : 'failed') })
    assert.is(await b, 'B', 'the push() beside it is resolved')
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(got, ['C'], 'the later job hears its result, not the throw')
    assert.equal(thrown.map((e) => (e as Error).message), ['observer'])
  } finally {
    process.removeListener('uncaughtException', listener)
    for (const l of before) process.on('uncaughtException', l)
  }
})

test.run()
