// `lambkin deploy` following a rollout while its cloud restarts, or goes away for good. Before,
// the command printed nothing for the minute it waited, then a bare LAMBKIN_CLOUD_UNAVAILABLE
// with no word of the rollout it had started. Now it says at once that the API stopped
// answering and that the rollout goes on in the cloud, says when the API answers again, and
// when it gives up names the rollout and `lambkin rollout status`. A real `lambkin cloud`, a
// real agent, `lambkin deploy` as a user runs it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'

test('deploy says when its cloud stops and starts answering, and names the rollout when it gives up', async () => {
  const w = await deployWorld()
  try {
    // A long health window keeps the command following while the cloud is away.
    const a = w.agent('gh-01', await w.addDevice('gh-01'), { deploy: { healthWindowMs: 600_000 } })
    await a.start()
    const dep = startLambkin(['deploy', w.fn('greet', 'export default () => "hi"\n'), '--to', 'gh-01'], { env: w.env })
    try {
      await dep.waitFor('stdout', /gh-01\s+applied/, 60_000)
      await w.stopCloud('SIGKILL')
      await dep.waitFor('stdout', /the cloud API stopped answering \(.*\); rollout r1 goes on in the cloud, waiting up to 60 s/, 30_000)
      await w.startCloud()
      await dep.waitFor('stdout', /the cloud API answers again; following on/, 60_000)
      await w.stopCloud('SIGKILL')
      const end = await dep.exited
      assert.is(end.code, 1, dep.stderr())
      assert.match(dep.stderr(), /^LAMBKIN_CLOUD_UNAVAILABLE: the cloud API at \S+ did not answer .*; stopped following rollout r1, which goes on in the cloud: `lambkin rollout status r1` shows it once the API answers/m)
    } finally {
      await dep.stop('SIGKILL')
    }
  } finally {
    await w.cleanup()
  }
})

test.run()
