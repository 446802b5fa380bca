// The order of a function's commits when its calls change ctx.state (device/invoke/state-chain.ts):
// the next commit goes once the state commit before it is queued by the store, or has settled; a
// failed state commit fails what came after it. Pure: the writer here records what it is handed.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StateChain } from '../../../device/invoke/state-chain.js'
import type { Release } from '../../../device/invoke/state-chain.js'

interface Item { id: string, epoch: number, changesState: boolean }

function rig (): { chain: StateChain<Item>, written: string[], stale: string[], releases: Map<string, Release> } {
  const written: string[] = []
  const stale: string[] = []
  const releases = new Map<string, Release>()
  const chain = new StateChain<Item>((item, release) => {
    written.push(item.id)
    if (release !== undefined) releases.set(item.id, release)
  }, (item) => { stale.push(item.id) })
  return { chain, written, stale, releases }
}

const item = (id: string, changesState: boolean, epoch = 0): Item => ({ id, epoch, changesState })

test('a function that never changed its state writes at once', () => {
  const { chain, written, releases } = rig()
  chain.commit('f', item('a', false))
  chain.commit('f', item('b', false))
  assert.equal(written, ['a', 'b'])
  assert.is(releases.size, 0)
})

test('the next commit waits until the state commit before it is queued by the store, not until it is written', () => {
  const { chain, written, releases } = rig()
  chain.commit('f', item('a', true))
  chain.commit('f', item('b', false))
  chain.commit('f', item('c', true))
  assert.equal(written, ['a'], 'b and c wait for a to take its place in the queue')
  releases.get('a')?.()
  assert.equal(written, ['a', 'b', 'c'], 'queued: the next ones join the same write queue')
  chain.commit('f', item('d', true))
  assert.equal(written, ['a', 'b', 'c'], 'c is not queued yet')
  releases.get('c')?.()
  assert.equal(written, ['a', 'b', 'c', 'd'])
})

test('a store that queues at once (the release called inside the write) lets every commit through in order', () => {
  const written: string[] = []
  const chain = new StateChain<Item>((it, release) => { written.push(it.id); release?.() }, () => { assert.unreachable('none is stale') })
  for (const id of ['a', 'b', 'c', 'd']) chain.commit('f', item(id, id !== 'c'))
  assert.equal(written, ['a', 'b', 'c', 'd'])
})

test('a state commit refused before it was queued: the commits after it, state or not, fail; a later epoch is written', () => {
  const { chain, written, stale, releases } = rig()
  chain.commit('f', item('a', true))
  chain.commit('f', item('b', true))
  chain.commit('f', item('c', false))
  // The invoker's answer to a's failure: a new epoch, then a settles.
  chain.failed('f')
  releases.get('a')?.(true)
  assert.equal(written, ['a'])
  assert.equal(stale, ['b', 'c'])
  assert.is(chain.epoch('f'), 1)
  assert.ok(chain.stale('f', 0))
  chain.commit('f', item('d', true, 1))
  assert.equal(written, ['a', 'd'])
})

test('other functions are not held by one function\'s pending state commit', () => {
  const { chain, written } = rig()
  chain.commit('f', item('a', true))
  chain.commit('g', item('b', true))
  chain.commit('h', item('c', false))
  assert.equal(written, ['a', 'b', 'c'])
})

test('settled(): resolves once every state commit handed to the store has settled, queued or not', async () => {
  const { chain, releases } = rig()
  assert.is(chain.settled('f'), undefined, 'nothing pending')
  chain.commit('f', item('a', true))
  releases.get('a')?.()
  chain.commit('f', item('b', true))
  releases.get('b')?.()
  let done = false
  void chain.settled('f')?.then(() => { done = true })
  releases.get('a')?.(true)
  releases.get('a')?.(true)
  await Promise.resolve()
  assert.is(done, false, 'b is still in the store (a second settle of a counts once)')
  releases.get('b')?.(true)
  await Promise.resolve()
  assert.is(done, true)
})

test.run()
