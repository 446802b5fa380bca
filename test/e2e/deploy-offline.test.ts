// A device that is offline while a rollout goes out does not hold it: with --no-wait the deploy
// ends with it shown as offline (waiting), exits 0 for the online ones, and the device converges
// to the latest desired state when it returns, the rollout's view following it [W5]. (Waiting
// for the verdict, the default, is deploy-verdict.test.ts.)
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { RolloutView } from '../../cli/rollout-view.js'

test('[W5] a device offline during a rollout converges when it returns', async () => {
  const w = await deployWorld()
  try {
    const agents = []
    for (const id of ['on-1', 'on-2', 'away']) {
      const a = w.agent(id, await w.addDevice(id, 'site'))
      await a.start()
      agents.push(a)
    }
    const v1 = await w.lambkin(['deploy', w.fn('probe', 'export default () => ({ v: 1 })'), '--to', 'group:site'])
    assert.is(v1.code, 0, v1.stderr)
    await agents[2].stop()

    // Two versions while it is away: it must end on the latest, not replay the middle one.
    const v2 = await w.lambkin(['deploy', w.fn('probe', 'export default () => ({ v: 2 })'), '--to', 'group:site', '--no-wait'])
    assert.is(v2.code, 0, v2.stderr)
    const r = await w.lambkin(['deploy', w.fn('probe', 'export default () => ({ v: 3 })'), '--to', 'group:site', '--no-wait'])
    assert.is(r.code, 0, r.stderr + r.stdout)
    assert.match(r.stdout, /^ {2}away {2}offline {6}waiting/m)
    assert.match(r.stdout, /done: 2 applied, 1 offline; 1 device offline will get it when it returns/)
    const id = (/rollout (\S+) done/.exec(r.stdout) as RegExpExecArray)[1]
    assert.is((await w.rollout(id)).devices.find((d) => d.id === 'away')?.state, 'offline')

    await agents[2].start()
    await until('the returning device to apply', async () => (await w.rollout(id)).devices.find((d) => d.id === 'away')?.state === 'applied')
    const view: RolloutView = await w.rollout(id)
    assert.is(view.counts.applied, 3)
    const i = await w.lambkin(['invoke', '--device', 'away', 'probe', '--json'])
    assert.equal((JSON.parse(i.stdout) as { result: unknown }).result, { v: 3 })
  } finally {
    await w.cleanup()
  }
})

test.run()
