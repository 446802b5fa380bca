// The health gate on a real agent: a version that throws on every event is rolled back by the
// board itself while the cloud is down (SIGKILLed), and reported as rolled back once the cloud
// is back; the rollout then shows it with LAMBKIN_HEALTH_CHECK_FAILED [W5].
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { InvocationRecord } from '../../device/index.js'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { RolloutView } from '../../cli/rollout-view.js'

test('[W5] a version that throws on every event rolls back by itself with the cloud stopped', async () => {
  const w = await deployWorld()
  try {
    const a = w.agent('gh-01', await w.addDevice('gh-01'), { deploy: { healthWindowMs: 8000, minInvocations: 3, maxErrorRate: 0.5, fetchTimeoutMs: 5000 } })
    const agent = await a.start()
    const seen: InvocationRecord[] = []
    agent.on('invocation', (r: InvocationRecord) => { if (r.fn === 'ticker') seen.push(r) })
    const schedule = { triggers: [{ schedule: '* * * * * *' }] }
    const good = await w.lambkin(['deploy', w.fn('ticker', 'export default () => ({ v: 1 })', schedule), '--to', 'gh-01'])
    assert.is(good.code, 0, good.stderr)
    await until('v1 to tick', () => seen.some((r) => r.ok))

    const bad = await w.lambkin(['deploy', w.fn('ticker', 'export default () => { throw new Error("broken v2") }', schedule), '--to', 'gh-01', '--json'])
    assert.is(bad.code, 0, `v2 applies first; the gate judges it after the swap: ${bad.stderr}`)
    const rolloutId = String((JSON.parse(bad.stdout.trim().split('\n').pop() as string) as { rollout: string }).rollout)
    await w.stopCloud('SIGKILL')
    const from = seen.length

    await until('v2 to fail on the board', () => seen.slice(from).filter((r) => !r.ok).length >= 3, 20_000)
    const failedAt = seen.length
    await until('the board to be back on v1, by itself', () => seen.slice(failedAt).filter((r) => r.ok).length >= 2, 30_000)
    assert.ok(seen.slice(from).some((r) => !r.ok && /broken v2/.test(r.message ?? '')), 'v2 ran and threw')

    await w.startCloud()
    await until('the rollback to reach the cloud', async () => (await w.rollout(rolloutId)).devices[0].state === 'rolled-back', 30_000)
    const view: RolloutView = await w.rollout(rolloutId)
    assert.is(view.devices[0].code, 'LAMBKIN_HEALTH_CHECK_FAILED')
    const now = await w.lambkin(['invoke', '--device', 'gh-01', 'ticker', '--json'])
    assert.equal((JSON.parse(now.stdout) as { result: unknown }).result, { v: 1 })
  } finally {
    await w.cleanup()
  }
})

test.run()
