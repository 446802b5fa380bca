// The health gate on a real agent: a version that throws on every event is rolled back by the
// board itself while the cloud is down (SIGKILLed right after the board reported it applied),
// and reported as rolled back once the cloud is back; the rollout then shows it with
// LAMBKIN_HEALTH_CHECK_FAILED [W5].
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { InvocationRecord } from '../../device/index.js'
import { deployWorld, until } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'

test('[W5] a version that throws on every event rolls back by itself with the cloud stopped', async () => {
  const w = await deployWorld()
  try {
    // Six invocations (one a second) before the gate may judge: time enough to stop the cloud first.
    const a = w.agent('gh-01', await w.addDevice('gh-01'), { deploy: { healthWindowMs: 20_000, minInvocations: 6, maxErrorRate: 0.5, fetchTimeoutMs: 5000 } })
    const agent = await a.start()
    const seen: InvocationRecord[] = []
    agent.on('invocation', (r: InvocationRecord) => { if (r.fn === 'ticker') seen.push(r) })
    const schedule = { triggers: [{ schedule: '* * * * * *' }] }
    const good = await w.lambkin(['deploy', w.fn('ticker', 'export default () => ({ v: 1 })', schedule), '--to', 'gh-01'])
    assert.is(good.code, 0, good.stderr)
    await until('v1 to tick', () => seen.some((r) => r.ok))

    const deploy = startLambkin(['deploy', w.fn('ticker', 'export default () => { throw new Error("broken v2") }', schedule), '--to', 'gh-01', '--json'], { env: w.env })
    const applied = await deploy.waitFor('stdout', /"event":"device","rollout":"([^"]+)","device":"gh-01","state":"applied"/, 60_000)
    await w.stopCloud('SIGKILL')
    await deploy.stop('SIGKILL')
    const killedAt = seen.length
    assert.ok(seen.filter((r) => !r.ok).length < 6, 'the cloud was down before the gate could judge v2')

    await until('v2 to fail on the board', () => seen.slice(killedAt).some((r) => !r.ok), 20_000)
    const failedAt = killedAt + seen.slice(killedAt).findIndex((r) => !r.ok)
    await until('the board to be back on v1, by itself', () => seen.slice(failedAt).filter((r) => r.ok).length >= 2, 30_000)
    assert.match(seen[failedAt].message ?? '', /broken v2/)

    await w.startCloud()
    await until('the rollback to reach the cloud', async () => (await w.rollout(applied[1])).devices[0].state === 'rolled-back', 30_000)
    assert.is((await w.rollout(applied[1])).devices[0].code, 'LAMBKIN_HEALTH_CHECK_FAILED')
    const now = await w.lambkin(['invoke', '--device', 'gh-01', 'ticker', '--json'])
    assert.equal((JSON.parse(now.stdout) as { result: unknown }).result, { v: 1 })
  } finally {
    await w.cleanup()
  }
})

test.run()
