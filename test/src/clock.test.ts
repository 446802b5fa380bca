// The clocks triggers run on: FakeClock's ordering and awaiting rules, which every trigger
// test leans on, and the system clock's unref'd timers.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { systemClock } from '../../src/clock.js'
import { FakeClock } from '../helpers/fake-clock.js'

test('FakeClock runs due timers in time order, ties in the order they were set', async () => {
  const clock = new FakeClock(1000)
  const seen: string[] = []
  clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20)
  clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10)
  clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20)
  clock.setTimeout(() => seen.push('late'), 31)
  await clock.advance(30)
  assert.equal(seen, ['a@1010', 'b@1020', 'c@1020'])
  assert.is(clock.now(), 1030)
  assert.is(clock.pending(), 1)
  assert.is(clock.nextIn(), 1)
})

test('FakeClock runs timers set while advancing when they fall due within the advance', async () => {
  const clock = new FakeClock()
  const seen: number[] = []
  const tick = (): void => {
    seen.push(clock.now())
    clock.setTimeout(tick, 100)
  }
  clock.setTimeout(tick, 0)
  await clock.advance(350)
  assert.equal(seen, [0, 100, 200, 300])
  assert.is(clock.pending(), 1)
})

test('FakeClock clearTimeout cancels, and a zero or negative delay runs on the next advance', async () => {
  const clock = new FakeClock()
  let ran = 0
  const h = clock.setTimeout(() => { ran++ }, 5)
  clock.setTimeout(() => { ran += 10 }, -5)
  clock.clearTimeout(h)
  await clock.advance(0)
  assert.is(ran, 10)
  await clock.advance(100)
  assert.is(ran, 10)
  assert.is(clock.pending(), 0)
})

test('FakeClock awaits a promise a timer returns, and lets chained work re-arm before moving on', async () => {
  const clock = new FakeClock()
  const seen: string[] = []
  clock.setTimeout(async () => {
    await new Promise((resolve) => setImmediate(resolve)) // real I/O-like delay
    seen.push(`io done@${clock.now()}`)
    // Re-armed from a microtask chain that the callback does not return.
    void Promise.resolve().then(() => clock.setTimeout(() => seen.push(`next@${clock.now()}`), 10))
  }, 10)
  await clock.advance(25)
  assert.equal(seen, ['io done@10', 'next@20'])
})

test('FakeClock jumpTo moves the wall clock without running timers (they run on monotonic time)', async () => {
  const clock = new FakeClock(0)
  let ran = false
  clock.setTimeout(() => { ran = true }, 1000)
  clock.jumpTo(1_000_000)
  assert.is(clock.now(), 1_000_000)
  await clock.advance(999)
  assert.is(ran, false)
  assert.is(clock.now(), 1_000_999)
  await clock.advance(1)
  assert.is(ran, true)
})

test('systemClock timers fire, do not hold the process open, and can be cancelled', async () => {
  // The timers under test are unref'd, so something ref'd must keep the process up meanwhile.
  const keepAlive = setInterval(() => {}, 1000)
  try {
    const handle = await new Promise<unknown>((resolve) => {
      const h = systemClock.setTimeout(() => resolve(h), 1)
    })
    assert.is((handle as { hasRef: () => boolean }).hasRef(), false)
    let ran = false
    const h2 = systemClock.setTimeout(() => { ran = true }, 1)
    systemClock.clearTimeout(h2)
    await new Promise((resolve) => setTimeout(resolve, 5))
    assert.is(ran, false)
  } finally {
    clearInterval(keepAlive)
  }
  assert.ok(Math.abs(systemClock.now() - Date.now()) < 1000)
})

test.run()
