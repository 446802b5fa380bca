// A canary deploy splits a board's invocations by weight: 400 remote invokes through the cloud
// land on the canary version about `weight`% of the time (within 4 standard deviations of the
// binomial: a false failure about once in 15,000 runs), the rest on live.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld } from './fixtures/deploy-world.js'
import type { RolloutView } from '../../cli/rollout-view.js'

test('canary weights within tolerance', async () => {
  const w = await deployWorld()
  try {
    await w.agent('gh-01', await w.addDevice('gh-01')).start()
    const live = await w.lambkin(['deploy', w.fn('split', 'export default () => "live"'), '--to', 'gh-01'])
    assert.is(live.code, 0, live.stderr)
    const r = await w.lambkin(['deploy', w.fn('split', 'export default () => "canary"'), '--to', 'gh-01', '--canary', '25', '--json'])
    assert.is(r.code, 0, r.stderr + r.stdout)
    const rollout = JSON.parse(r.stdout.split('\n')[1]) as RolloutView
    assert.is(rollout.alias, 'canary')
    assert.is(rollout.weight, 25)

    const N = 400
    const counts: Record<string, number> = {}
    const versions = new Set<string>()
    for (let i = 0; i < N; i++) {
      const a = await w.api<{ ok: boolean, result: string, version: string }>('POST', '/v1/devices/gh-01/invoke', { fn: 'split', event: {} })
      assert.is(a.status, 200, JSON.stringify(a.body))
      counts[a.body.result] = (counts[a.body.result] ?? 0) + 1
      versions.add(`${a.body.result}:${a.body.version}`)
    }
    const sd = Math.sqrt(N * 0.25 * 0.75)
    const canary = counts.canary ?? 0
    assert.ok(Math.abs(canary - N * 0.25) <= 4 * sd, `canary took ${canary} of ${N}`)
    assert.is(canary + (counts.live ?? 0), N)
    assert.is(versions.size, 2, `each answer carries its version: ${[...versions].join(', ')}`)
  } finally {
    await w.cleanup()
  }
})

test.run()
