// The cloud's wall clock stepped while a rollout runs (NTP correcting a VM's clock after a
// suspend, an operator's `date -s`): a rollout's per-device timeout and its pacing are
// intervals, so a step must neither hold a silent device's timeout for hours nor fail a device
// that was sent its deployment a second ago. Real cloud (aedes, LevelDB, Fastify) in this
// process on the fake clock (test/helpers/fake-clock.ts), simulated devices speaking [W5]-[W6]
// over MQTT.js, as test/cloud-sync/rollouts.test.ts runs them.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { RolloutView } from '../../cloud-sync/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCloud } from '../helpers/cloud.js'
import type { CloudFixture } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, untilRollout, upload } from '../helpers/deploy.js'

const keys = makeKeys()
const HOURS = 3 * 3_600_000

async function silentRollout (f: CloudFixture, body: Record<string, unknown> = {}): Promise<RolloutView> {
  for (const id of ['g-1', 'g-2']) {
    await SimDevice.connect(f, id, await f.addDevice(id, 'g'), (d) => { if (d.id === 'g-2') d.behaviour = () => 'silent' })
  }
  const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
  const r = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: sha, to: 'group:g', timeoutMs: 5000, ...body })
  assert.is(r.status, 201, JSON.stringify(r.body))
  return await untilRollout(f, r.body.id, (x) => x.counts.applied === 1 && x.devices[1].state === 'sent')
}

const view = async (f: CloudFixture, id: string): Promise<RolloutView> => (await f.api<RolloutView>('GET', `/v1/rollouts/${id}`)).body

test('a cloud clock stepped back 3 hours: a silent device still fails with LAMBKIN_DEPLOY_TIMEOUT after timeoutMs, and the rollout ends', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const r = await silentRollout(f)
    clock.jumpTo(clock.now() - HOURS)
    await clock.advance(6000)
    const v = await untilRollout(f, r.id, (x) => x.state === 'done', 5000).catch(async () => await view(f, r.id))
    assert.equal([v.state, v.devices[1].state, v.devices[1].code], ['done', 'failed', 'LAMBKIN_DEPLOY_TIMEOUT'])
  } finally {
    await f.cleanup()
  }
})

test('a cloud clock stepped forward 3 hours: a device sent its deployment a second ago is not failed for a timeout it never had', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    const r = await silentRollout(f)
    clock.jumpTo(clock.now() + HOURS)
    await clock.advance(2000)
    assert.is((await view(f, r.id)).devices[1].state, 'sent')
  } finally {
    await f.cleanup()
  }
})

test('a cloud clock stepped back 3 hours under ratePerMin: the next device is still released after its minute share', async () => {
  const clock = new FakeClock(Date.now())
  const f = await startCloud({ trustedKeys: [keys.pubFile], clock })
  try {
    for (const id of ['g-1', 'g-2']) await SimDevice.connect(f, id, await f.addDevice(id, 'g'))
    const sha = await upload(f, await makeBundle('greet', 'one'), keys.key)
    const r = await f.api<RolloutView>('POST', '/v1/rollouts', { sha256: sha, to: 'group:g', ratePerMin: 2 })
    assert.is(r.status, 201)
    await untilRollout(f, r.body.id, (v) => v.counts.applied === 1)
    clock.jumpTo(clock.now() - HOURS)
    await clock.advance(31_000)
    const v = await untilRollout(f, r.body.id, (x) => x.state === 'done', 5000).catch(async () => await view(f, r.body.id))
    assert.equal([v.state, v.counts.applied], ['done', 2])
  } finally {
    await f.cleanup()
  }
})

test.run()
