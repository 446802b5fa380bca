// The order of a function's commits when its calls change ctx.state (device/invoke/state-chain.ts):
// state commits one after another, a failed one failing everything sent before it down the chain.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StateChain } from '../../../device/invoke/state-chain.js'

test('a failed state commit fails every outcome sent before it, down the chain; later ones are written', async () => {
  const chain = new StateChain()
  const seen: string[] = []
  // The first commit fails when the test says so (chain.failed first, as the invoker does).
  let fail!: () => void
  const failing = new Promise<void>((resolve) => { fail = resolve }).then(() => { chain.failed('count') })
  const e0 = chain.epoch('count')
  const commit = (name: string, epoch: number, changes: boolean, done?: Promise<void>): void => {
    chain.commit('count', epoch, changes, async () => { seen.push(`write ${name}`); await done }, () => { seen.push(`stale ${name}`) })
  }
  commit('1', e0, true, failing)
  commit('2', e0, true)
  commit('read', e0, false)
  commit('3', e0, true)
  assert.equal(seen, ['write 1'], 'the later ones wait for the pending state commit')
  fail()
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(seen, ['write 1', 'stale 2', 'stale read', 'stale 3'])
  const e1 = chain.epoch('count')
  assert.ok(e1 > e0)
  commit('4', e1, true)
  commit('5', e1, false)
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(seen.slice(4), ['write 4', 'write 5'])
})

test('a function with no state commit pending writes at once, and other functions are not held back', () => {
  const chain = new StateChain()
  const seen: string[] = []
  chain.commit('a', 0, true, () => { seen.push('a1'); return new Promise(() => {}) }, () => { seen.push('stale a1') })
  chain.commit('b', 0, false, () => { seen.push('b1'); return Promise.resolve() }, () => { seen.push('stale b1') })
  chain.commit('constructor', 0, false, () => { seen.push('c1'); return Promise.resolve() }, () => { seen.push('stale c1') })
  assert.equal(seen, ['a1', 'b1', 'c1'])
})

test.run()
