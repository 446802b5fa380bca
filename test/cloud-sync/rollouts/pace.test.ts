// A rollout's rate and when the engine must look at it next: one timer serves every rollout.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { allowedBy, dueAt } from '../../../cloud-sync/rollouts/pace.js'
import { countDevices } from '../../../cloud-sync/rollouts/judge.js'
import type { RolloutDevice, RolloutRow } from '../../../cloud-sync/registry/index.js'

const row = (devices: RolloutDevice[], o: Partial<RolloutRow> = {}): RolloutRow => ({
  id: 'r1', kind: 'deploy', fn: 'f', version: 'v', number: 1, sha256: 's', to: 'group:g', alias: 'live', state: 'running', createdAt: 1000, revision: 1, abortAtPercent: 100, timeoutMs: 5000, open: true, counts: countDevices(devices), devices, ...o
})
const pending = (n: number): RolloutDevice[] => Array.from({ length: n }, (_, i) => ({ id: `d${i}`, state: 'pending' }))

test('the rate allows one device at once, then ratePerMin a minute; no rate allows all', () => {
  const r = row(pending(10), { ratePerMin: 6 })
  assert.equal([0, 9_999, 10_000, 60_000].map((t) => allowedBy(r, 1000 + t)), [1, 1, 2, 7])
  assert.is(allowedBy(row(pending(10)), 1000), 10)
})

test('due: a paced device at its share of the minute, sent devices at the next tick, a finished rollout when its watch ends, nothing for offline ones', () => {
  const paced = row([{ id: 'a', state: 'applied', deploymentId: 1 }, ...pending(2)], { ratePerMin: 6 })
  assert.is(dueAt(paced, 5000, 1000, 60_000), 11_000)
  const sent = row([{ id: 'a', state: 'sent', deploymentId: 1, sentAt: 1000 }])
  assert.is(dueAt(sent, 5000, 1000, 60_000), 6000)
  const stuck = row(pending(1))
  assert.is(dueAt(stuck, 5000, 1000, 60_000), 6000, 'an unpaced device left pending (a failed send) is retried')
  const done = row([{ id: 'a', state: 'applied', deploymentId: 1 }], { state: 'done', finishedAt: 2000 })
  assert.is(dueAt(done, 5000, 1000, 60_000), 62_000)
  const offline = row([{ id: 'a', state: 'offline', deploymentId: 1 }], { state: 'done', finishedAt: 2000 })
  assert.is(dueAt(offline, 5000, 1000, 60_000), Infinity)
})

test('due: nothing for a finished rollout while a device is in its health window, also past watchMs; its watch end once the window passed', () => {
  const watching: RolloutDevice = { id: 'a', state: 'applied', health: 'watching', watchLeftMs: 3_600_000, deploymentId: 1 }
  for (const state of ['done', 'cancelled'] as const) {
    assert.is(dueAt(row([watching], { state, finishedAt: 2000 }), 5000, 1000, 60_000), Infinity, state)
    assert.is(dueAt(row([watching], { state, finishedAt: 2000 }), 600_000, 1000, 60_000), Infinity, `${state}, past watchMs`)
  }
  const passed = row([{ ...watching, health: 'passed', watchLeftMs: undefined }], { state: 'done', finishedAt: 2000 })
  assert.is(dueAt(passed, 600_000, 1000, 60_000), 62_000, 'already due: the next step closes it')
})

test.run()
