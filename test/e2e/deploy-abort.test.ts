// A rollout paced with --rate stops by itself once failures reach --abort-at: devices not yet
// reached keep their version, devices already on the new one go back (docs/deploy.md, "Rollouts").
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'
import type { RolloutView } from '../../cli/rollout-view.js'

test('a rollout aborted at its failure threshold leaves unreached devices alone and takes moved ones back', async () => {
  const w = await deployWorld()
  try {
    const ids: string[] = []
    for (let i = 0; i < 10; i++) {
      const id = `ab-${i}`
      ids.push(id)
      // Six boards refuse the new version: its memory is over their cap (LAMBKIN_LIMIT_EXCEEDS_CAP).
      const caps = i < 6 ? { caps: { memoryKiB: 32768 } } : {}
      await w.agent(id, await w.addDevice(id, 'fleet'), caps).start()
    }
    const v1 = await w.lambkin(['deploy', w.fn('meter', 'export default () => ({ v: 1 })'), '--to', 'group:fleet'])
    assert.is(v1.code, 0, v1.stderr + v1.stdout)

    const r = await w.lambkin(['deploy', w.fn('meter', 'export default () => ({ v: 2 })', { limits: { memoryKiB: 65536 } }), '--to', 'group:fleet', '--rate', '30', '--abort-at', '20', '--json'])
    assert.is(r.code, 1, r.stdout)
    const events = jsonLines(r.stdout)
    const end = events[events.length - 1]
    assert.is(end.event, 'end')
    assert.is(end.state, 'aborted')
    assert.is(end.code, 'LAMBKIN_ROLLOUT_ABORTED')
    const view: RolloutView = await w.rollout(String(end.rollout))
    assert.is(view.state, 'aborted')
    assert.ok(view.counts.failed >= 2, JSON.stringify(view.counts))
    assert.ok(view.devices.filter((d) => d.state === 'failed').every((d) => d.code === 'LAMBKIN_LIMIT_EXCEEDS_CAP'), JSON.stringify(view.devices))
    // Devices not yet reached are never sent it (skipped); moved ones are taken back.
    const unreached = view.devices.filter((d) => d.state === 'skipped').map((d) => d.id)
    assert.ok(unreached.length >= 1, `some devices were never sent the new version: ${JSON.stringify(view.devices)}`)
    assert.ok(view.devices.every((d) => d.state !== 'applied' && d.state !== 'pending' && d.state !== 'sent'), JSON.stringify(view.devices))
    // Every board ends on version 1: unreached ones never moved, moved ones were taken back.
    for (const id of ids) {
      await until(`${id} on version 1`, async () => {
        const i = await w.lambkin(['invoke', '--device', id, 'meter', '--json'])
        return (JSON.parse(i.stdout) as { result?: { v: number } }).result?.v === 1
      })
    }
  } finally {
    await w.cleanup()
  }
})

test.run()
