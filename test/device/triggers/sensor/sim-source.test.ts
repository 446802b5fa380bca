// Simulated sensors: a sine that follows the clock and a random walk that repeats by seed.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { simSource, seededRandom } from '../../../../device/triggers/sensor/sim-source.js'

const sine = { kind: 'sim:sine' as const, min: 15, max: 35, periodMs: 60_000, step: 0.5, random: Math.random }
const walk = { ...sine, kind: 'sim:random-walk' as const }

test('sim:sine is mid + amp * sin(2 pi t / period), three decimals', () => {
  const at = simSource(sine)
  assert.is(at(0).raw, 25)
  assert.is(at(15_000).raw, 35)
  assert.is(at(45_000).raw, 15)
  assert.is(at(5_000).raw, 30)
  assert.is(at(60_000 * 1000 + 15_000).raw, 35)
})

test('sim:random-walk starts mid-range, moves at most step per reading and stays in [min, max]', () => {
  const next = simSource({ ...walk, min: 0, max: 2, step: 0.7, seed: 42 })
  let prev = next(0).raw
  assert.is(prev, 1)
  let moved = 0
  for (let i = 0; i < 2000; i++) {
    const v = next(i).raw
    assert.ok(v >= 0 && v <= 2, `${v} left the range`)
    assert.ok(Math.abs(v - prev) <= 0.7 + 1e-9, `step ${v - prev}`)
    if (v !== prev) moved++
    prev = v
  }
  assert.ok(moved > 1500, 'the walk moves')
})

test('the same seed gives the same walk; another seed a different one', () => {
  const a = simSource({ ...walk, seed: 7 })
  const b = simSource({ ...walk, seed: 7 })
  const c = simSource({ ...walk, seed: 8 })
  const run = (f: (n: number) => { raw: number }): number[] => Array.from({ length: 20 }, (_, i) => f(i).raw)
  const ra = run(a)
  assert.equal(ra, run(b))
  assert.not.equal(ra, run(c))
})

test('without a seed the injected random drives the walk', () => {
  const up = simSource({ ...walk, random: () => 0.999999 })
  assert.equal([up(0).raw, up(1).raw, up(2).raw], [25, 25.5, 26])
})

test('seededRandom stays in [0, 1)', () => {
  const r = seededRandom(123)
  for (let i = 0; i < 10_000; i++) {
    const v = r()
    assert.ok(v >= 0 && v < 1)
  }
})

test.run()
