// `lambkin deploy` ends on the health verdict [W5]: a real cloud, real agents and the CLI as a
// child process. A version that throws on every event makes the command exit 1 with
// LAMBKIN_HEALTH_CHECK_FAILED once the board rolled it back (not 0 at "applied"); a good one
// exits 0 only after its health window passed; `--no-wait` returns at "applied" as before; an
// offline target is waited for up to --timeout and then named, with exit 3.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, jsonLines, until } from './fixtures/deploy-world.js'

const EVERY_SECOND = { triggers: [{ schedule: '* * * * * *' }] }
/** A window long enough for a second-by-second schedule to reach minInvocations failures in it. */
const GATE = { deploy: { healthWindowMs: 8000, minInvocations: 3, maxErrorRate: 0.5, fetchTimeoutMs: 5000 } }

test('[W5] deploy waits for the health window: a healthy version exits 0 after it, a broken one exits 1 once rolled back', async () => {
  const w = await deployWorld()
  try {
    const a = w.agent('gh-01', await w.addDevice('gh-01'), GATE)
    await a.start()
    const good = await w.lambkin(['deploy', w.fn('ticker', 'export default () => ({ v: 1 })', EVERY_SECOND), '--to', 'gh-01'])
    assert.is(good.code, 0, good.stderr)
    assert.match(good.stdout, /gh-01 {2}applied {6}version [0-9a-f]{16}, health window: \d+ s left/)
    assert.match(good.stdout, /gh-01 {2}healthy {6}version [0-9a-f]{16}/)
    assert.match(good.stdout, /done: 1 healthy/)

    const bad = await w.lambkin(['deploy', w.fn('ticker', 'export default () => { throw new Error("broken v2") }', EVERY_SECOND), '--to', 'gh-01', '--json'])
    assert.is(bad.code, 1, bad.stdout + bad.stderr)
    const lines = jsonLines(bad.stdout)
    assert.ok(lines.some((l) => l.event === 'device' && l.state === 'applied' && l.health === 'watching'), 'the applied answer came first, in its window')
    const end = lines.at(-1) as { event: string, ok: boolean, exitCode: number, code: string, devices: Array<{ id: string, state: string, code?: string }> }
    assert.equal([end.event, end.ok, end.exitCode, end.code], ['end', false, 1, 'LAMBKIN_HEALTH_CHECK_FAILED'])
    assert.equal(end.devices.map((d) => [d.id, d.state, d.code]), [['gh-01', 'rolled-back', 'LAMBKIN_HEALTH_CHECK_FAILED']])

    const text = await w.lambkin(['deploy', w.fn('ticker', 'export default () => { throw new Error("broken v3") }', EVERY_SECOND), '--to', 'gh-01'])
    assert.is(text.code, 1, text.stdout + text.stderr)
    assert.match(text.stdout, /gh-01 {2}rolled back {2}LAMBKIN_HEALTH_CHECK_FAILED/)
    assert.match(text.stderr, /^LAMBKIN_HEALTH_CHECK_FAILED: rollout r3: 1 device of 1 did not apply/m)
  } finally {
    await w.cleanup()
  }
})

test('[W5] --no-wait returns at "applied", before the verdict', async () => {
  const w = await deployWorld()
  try {
    const a = w.agent('gh-01', await w.addDevice('gh-01'), GATE)
    await a.start()
    assert.is((await w.lambkin(['deploy', w.fn('ticker', 'export default () => ({ v: 1 })', EVERY_SECOND), '--to', 'gh-01', '--no-wait'])).code, 0)
    const r = await w.lambkin(['deploy', w.fn('ticker', 'export default () => { throw new Error("broken") }', EVERY_SECOND), '--to', 'gh-01', '--no-wait', '--json'])
    assert.is(r.code, 0, r.stdout + r.stderr)
    const end = jsonLines(r.stdout).at(-1) as { ok: boolean, devices: Array<{ state: string, health?: string }> }
    assert.equal([end.ok, end.devices[0].state, end.devices[0].health], [true, 'applied', 'watching'])
  } finally {
    await w.cleanup()
  }
})

test('[W5] an offline target is waited for up to --timeout, then named, with exit 3 and LAMBKIN_DEVICE_OFFLINE', async () => {
  const w = await deployWorld()
  try {
    const on = w.agent('on-1', await w.addDevice('on-1', 'site'))
    await on.start()
    await w.addDevice('away', 'site')
    const r = await w.lambkin(['deploy', w.fn('probe', 'export default () => ({ v: 1 })'), '--to', 'group:site', '--timeout', '10'])
    assert.is(r.code, 3, r.stdout + r.stderr)
    assert.match(r.stdout, /^ {2}away {2}offline {6}waiting/m)
    assert.match(r.stdout, /on-1 {2}healthy/)
    assert.match(r.stderr, /^LAMBKIN_DEVICE_OFFLINE: rollout r1: 1 healthy, 1 offline; still offline when the wait ended: away; 1 device offline will get it when it returns/m)
  } finally {
    await w.cleanup()
  }
})

test('[W5] the same version deployed again inside the first deploy\'s health window: the first rollout ends superseded and its command returns at once with exit 1 and LAMBKIN_ROLLOUT_ABORTED', async () => {
  const w = await deployWorld()
  try {
    // A window far longer than the command is given here: only the new rollout can end the first.
    const a = w.agent('gh-01', await w.addDevice('gh-01'), { deploy: { healthWindowMs: 600_000, minInvocations: 3, maxErrorRate: 0.5, fetchTimeoutMs: 5000 } })
    await a.start()
    const dir = w.fn('ticker', 'export default () => ({ v: 1 })', EVERY_SECOND)
    const first = w.lambkin(['deploy', dir, '--to', 'gh-01', '--json'], 60_000)
    await until('r1 in its health window', async () => (await w.rollout('r1').catch(() => undefined))?.devices[0]?.health === 'watching')
    const again = await w.lambkin(['deploy', dir, '--to', 'gh-01', '--no-wait'])
    assert.is(again.code, 0, again.stdout + again.stderr)
    const r = await first
    assert.is(r.code, 1, r.stdout + r.stderr)
    const end = jsonLines(r.stdout).at(-1) as { event: string, state: string, code: string, message: string }
    assert.equal([end.event, end.state, end.code], ['end', 'superseded', 'LAMBKIN_ROLLOUT_ABORTED'])
    assert.match(end.message, /rollout r1 superseded: superseded by rollout r2/)
    assert.is((await w.rollout('r1')).state, 'superseded')
  } finally {
    await w.cleanup()
  }
})

test.run()
