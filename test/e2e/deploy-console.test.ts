// One deployment id on both sides: the board's console names the rollout the operator sees
// (`rollout r2`), never a separate "deployment N", and prints each swap, health verdict and
// rollback on one line each (journal-friendly: a rollback carries its LAMBKIN_* code, so the
// journal files it as an error); `lambkin results` shows the version that produced each result
// and dead letter. A real cloud, `lambkin device` as a child process, the CLI as a user runs it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, until } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'

const EVERY_SECOND = { triggers: [{ schedule: '* * * * * *' }] }

test('[W5] the board prints each swap, verdict and rollback with the rollout id; results show their version', async () => {
  const w = await deployWorld()
  // Caps below what version 3 asks for, so the board refuses it (the CLI checks the loader's own caps only).
  const a = w.agent('gh-01', await w.addDevice('gh-01'), { caps: { memoryKiB: 32_768 }, deploy: { healthWindowMs: 8000, minInvocations: 3, maxErrorRate: 0.5, fetchTimeoutMs: 5000 } })
  const device = startLambkin(['device', '--config', a.configFile])
  try {
    await device.waitFor('stderr', /cloud: connected/, 60_000)
    const good = await w.lambkin(['deploy', w.fn('ticker', 'export default () => ({ v: 1 })', EVERY_SECOND), '--to', 'gh-01', '--json'])
    assert.is(good.code, 0, good.stderr)
    const v1 = (JSON.parse(good.stdout.split('\n')[0]) as { version: string }).version
    const swap1 = await device.waitFor('stderr', new RegExp(`^ticker: rollout r1: version ${v1} swapped in \\(first deployed version\\); health window 8000 ms$`, 'm'))
    assert.ok(swap1)
    await device.waitFor('stderr', new RegExp(`^ticker: rollout r1: version ${v1} healthy: passed its 8000 ms health window \\(\\d+ invocations, 0 errors\\)$`, 'm'))

    const bad = await w.lambkin(['deploy', w.fn('ticker', 'export default () => { throw new Error("broken v2") }', EVERY_SECOND), '--to', 'gh-01', '--json'])
    assert.is(bad.code, 1, bad.stdout + bad.stderr)
    const v2 = (JSON.parse(bad.stdout.split('\n')[0]) as { version: string }).version
    await device.waitFor('stderr', new RegExp(`^ticker: rollout r2: version ${v2} swapped in \\(was ${v1}\\); health window 8000 ms$`, 'm'))
    await device.waitFor('stderr', new RegExp(`^ticker: rollout r2: LAMBKIN_HEALTH_CHECK_FAILED: version ${v2} failed its health check: .* to version ${v1}$`, 'm'))
    assert.not.match(device.stderr(), /deployment \d+/, 'the board names rollouts, not deployment ids')
    // What the cloud shows for the rollback names the same rollout.
    const end = JSON.parse(bad.stdout.trim().split('\n').at(-1) as string) as { rollout: string }
    assert.is(end.rollout, 'r2')

    // A version the board refused to load is named by its rollout too.
    const big = await w.lambkin(['deploy', w.fn('ticker', 'export default () => ({ v: 3 })', { ...EVERY_SECOND, limits: { memoryKiB: 65_536 } }), '--to', 'gh-01'])
    assert.is(big.code, 1)
    await device.waitFor('stderr', /^ticker: rollout r3 refused: LAMBKIN_LIMIT_EXCEEDS_CAP: /m)

    await until('results of both versions in the cloud', async () => {
      const r = await w.lambkin(['results', 'gh-01', 'ticker', '--limit', '200', '--json'])
      const recs = (JSON.parse(r.stdout) as { records: Array<{ kind: string, data: { version?: string } }> }).records
      return recs.some((x) => x.kind === 'result' && x.data.version === v1) && recs.some((x) => x.kind === 'dead-letter' && x.data.version === v2)
    }, 60_000)
    const table = await w.lambkin(['results', 'gh-01', 'ticker', '--limit', '200'])
    assert.match(table.stdout, /^SEQ\s+TIME\s+FUNCTION\s+VERSION\s+KIND\s+RESULT$/m)
    assert.match(table.stdout, new RegExp(`ticker\\s+${v1}\\s+result\\s+\\{"v":1\\}`))
    assert.match(table.stdout, new RegExp(`ticker\\s+${v2}\\s+dead-letter\\s+LAMBKIN_FUNCTION_ERROR: `))
  } finally {
    await device.stop('SIGTERM')
    await w.cleanup()
  }
})

test.run()
