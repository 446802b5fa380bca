// A rollout paced slower than one device per 24.8 days (`lambkin deploy --rate 0.00002`, one
// board a month): the next device is due further ahead than Node's setTimeout can wait (2^31-1
// ms). Node then fires the timer after 1 ms with a TimeoutOverflowWarning, so the cloud woke
// every millisecond and printed a warning each time (a million stderr lines in ten minutes,
// into the journal). A real `lambkin cloud` child process (aedes, LevelDB, Fastify).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readSigningKey } from '../../src/bundle/index.js'
import type { RolloutView } from '../../cli/rollout-view.js'
import { makeBundle, uploadBody } from '../helpers/deploy.js'
import { deployWorld } from './fixtures/deploy-world.js'

test('a rollout releasing one device a month: the cloud waits for the next device without waking every millisecond or a TimeoutOverflowWarning', async () => {
  const w = await deployWorld()
  try {
    for (const id of ['slow-1', 'slow-2']) await w.addDevice(id, 'slow')
    const b = await makeBundle('greet', 'one')
    const up = await w.api('POST', '/v1/bundles', uploadBody(b, readSigningKey(w.key.privateFile)))
    assert.is(up.status, 201, JSON.stringify(up.body))
    const monthly = 1 / (30 * 24 * 60)
    const r = await w.api<RolloutView>('POST', '/v1/rollouts', { sha256: b.sha256, to: 'group:slow', ratePerMin: monthly })
    assert.is(r.status, 201, JSON.stringify(r.body))
    // The engine arms its timer at once; with the overflow it fires, runs and re-arms every ms.
    await new Promise((resolve) => setTimeout(resolve, 2000))
    assert.not.match(w.cloud.stderr(), /TimeoutOverflowWarning/, 'the cloud warned about a timer it cannot hold')
    const v = await w.rollout(r.body.id)
    assert.is(v.state, 'running')
    assert.is(v.devices.filter((d) => d.state === 'pending').length, 1, 'the second device waits for its month')
    assert.is(w.cloud.child.exitCode, null)
  } finally {
    await w.cleanup()
  }
})

test.run()
