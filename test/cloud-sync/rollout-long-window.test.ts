// A device whose health window outlasts the finished rollout's watch (watchMs, 10 min) [W5], on a
// real cloud (aedes, LevelDB, Fastify) with simulated devices and a FakeClock: the done or
// cancelled rollout keeps watching while that device is `watching`, with no timer running for
// it, takes its verdict when it reports the window over (passed, or rolled back by its gate),
// and stops watching right after the last window ends.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import { ROLLOUT_DEFAULTS } from '../../cloud-sync/rollouts/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, until, untilRollout, upload } from '../helpers/deploy.js'

const keys = makeKeys()
const HOUR = 3_600_000
const device = (r: RolloutView, id: string): RolloutView['devices'][number] => r.devices.find((d) => d.id === id) as RolloutView['devices'][number]
const start = async (f: CloudFixture, body: Record<string, unknown>): Promise<RolloutView> => {
  const r = await f.api<RolloutView>('POST', '/v1/rollouts', body)
  if (r.status !== 201) throw new Error(`rollout: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}
const isOpen = async (f: CloudFixture, id: string): Promise<boolean> => (await f.cloud.registry.openRollouts()).some((r) => r.id === id)

test('[W5] a done rollout keeps watching a device whose health window is longer than watchMs, takes its passed verdict an hour later, then stops', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    // g-1 keeps an hour-long window; g-2 keeps none (passed at once).
    const g1 = await SimDevice.connect(f, 'g-1', await f.addDevice('g-1', 'g'), (d) => { d.watchMs = HOUR })
    await SimDevice.connect(f, 'g-2', await f.addDevice('g-2', 'g'))
    const r = await start(f, { sha256: await upload(f, await makeBundle('greet', 'one'), keys.key), to: 'group:g' })
    const done = await untilRollout(f, r.id, (x) => x.state === 'done' && x.counts.applied === 2)
    assert.equal([device(done, 'g-1').health, device(done, 'g-2').health], ['watching', 'passed'])

    // Past the watch, and again much later: still open, g-1 still watching, and no timer kept for it.
    await clock.advance(ROLLOUT_DEFAULTS.watchMs + 1000)
    assert.ok(await isOpen(f, r.id), 'still watched after watchMs')
    assert.is(clock.pending(), 0, 'nothing is due: only g-1\'s report can end its window')
    await clock.advance(HOUR - ROLLOUT_DEFAULTS.watchMs)
    const later = (await f.api<RolloutView>('GET', `/v1/rollouts/${r.id}`)).body
    assert.equal([device(later, 'g-1').health, later.revision], ['watching', done.revision])

    // The window ends on the device: its verdict is taken, and the watch ends with it.
    await g1.passWindows()
    const passed = await untilRollout(f, r.id, (x) => device(x, 'g-1').health === 'passed')
    assert.equal([passed.state, passed.counts.applied], ['done', 2])
    await until(async () => !(await isOpen(f, r.id)))
    assert.is(clock.pending(), 0)
  } finally {
    await f.cleanup()
  }
})

test('[W5] a cancelled rollout keeps watching its moved device past watchMs too: a rollback by its health gate an hour later still reaches it', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const g1 = await SimDevice.connect(f, 'g-1', await f.addDevice('g-1', 'g'), (d) => { d.watchMs = HOUR })
    await SimDevice.connect(f, 'g-2', await f.addDevice('g-2', 'g'))
    const v1 = await makeBundle('greet', 'one')
    // One device a minute: g-1 gets it at once, g-2 is never reached.
    const r = await start(f, { sha256: await upload(f, v1, keys.key), to: 'group:g', ratePerMin: 1 })
    await untilRollout(f, r.id, (x) => device(x, 'g-1').health === 'watching')
    const cancelled = (await f.api<RolloutView>('POST', `/v1/rollouts/${r.id}/cancel`)).body
    assert.equal([cancelled.state, device(cancelled, 'g-2').state], ['cancelled', 'skipped'])

    await clock.advance(ROLLOUT_DEFAULTS.watchMs + HOUR / 2)
    assert.ok(await isOpen(f, r.id), 'still watched after watchMs')
    // g-1's health gate rolls the deployment back before its window ends (a report that would
    // reach even a closed rollout); the stored view says so and the watch ends.
    const deploymentId = device(cancelled, 'g-1').deploymentId as number
    g1.rollbacks.push({ deploymentId, name: 'greet', from: v1.version, code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'errors', at: Date.now() })
    g1.running.delete('greet')
    await g1.report()
    const back = await untilRollout(f, r.id, (x) => device(x, 'g-1').state === 'rolled-back')
    assert.equal([back.state, device(back, 'g-1').code], ['cancelled', 'LAMBKIN_HEALTH_CHECK_FAILED'])
    await until(async () => !(await isOpen(f, r.id)))
  } finally {
    await f.cleanup()
  }
})

test.run()
