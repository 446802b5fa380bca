// The sandbox worker's after-deploy collection waits for a quiet spell: it must run once the
// activity stops, never while it goes on, and keep one timer at most however often the
// activity marks itself (one timer per batch was measurable CPU in the relay job).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { QuietTimer } from '../../../src/sandbox/quiet-timer.js'
import { FakeClock } from '../../helpers/fake-clock.js'

/** A clock that counts the timers set on it. */
function counting (): { clock: FakeClock, sets: () => number } {
  const clock = new FakeClock(1_000_000)
  let n = 0
  const set = clock.setTimeout.bind(clock)
  clock.setTimeout = (fn, ms) => { n++; return set(fn, ms) }
  return { clock, sets: () => n }
}

test('runs once, delayMs after the last touch', async () => {
  const { clock } = counting()
  let runs = 0
  const q = new QuietTimer(clock, 1000, () => false, () => { runs++ })
  q.touch()
  await clock.advance(999)
  assert.is(runs, 0)
  await clock.advance(1)
  assert.is(runs, 1)
  assert.is(q.armed, false)
  await clock.advance(5000)
  assert.is(runs, 1, 'no second run without a touch')
})

test('touches every 10 ms for 5 s: no run meanwhile, one run 1 s after the last, a handful of timers', async () => {
  const { clock, sets } = counting()
  let runs = 0
  const q = new QuietTimer(clock, 1000, () => false, () => { runs++ })
  for (let i = 0; i < 500; i++) {
    q.touch()
    await clock.advance(10)
  }
  assert.is(runs, 0)
  assert.ok(sets() <= 10, `${sets()} timers for 500 touches`)
  assert.is(clock.pending(), 1)
  await clock.advance(989)
  assert.is(runs, 0, 'not before 1 s of quiet')
  await clock.advance(1)
  assert.is(runs, 1)
  assert.is(clock.pending(), 0)
})

test('busy when due: no run and no timer left, the next touch arms it again', async () => {
  const { clock } = counting()
  let busy = true
  let runs = 0
  const q = new QuietTimer(clock, 1000, () => busy, () => { runs++ })
  q.touch()
  await clock.advance(1000)
  assert.is(runs, 0)
  assert.is(clock.pending(), 0)
  busy = false
  q.touch()
  await clock.advance(1000)
  assert.is(runs, 1)
})

test('cancel drops the pending run', async () => {
  const { clock } = counting()
  let runs = 0
  const q = new QuietTimer(clock, 1000, () => false, () => { runs++ })
  q.touch()
  q.cancel()
  await clock.advance(2000)
  assert.is(runs, 0)
  assert.is(clock.pending(), 0)
})

test.run()
