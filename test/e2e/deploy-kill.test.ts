// A board killed with SIGKILL at each step of a deployment (the device's LAMBKIN_TEST_CRASH_AT
// hook, device/deployer/crash-points.ts) comes back on a consistent version: it answers on the
// old or the new version, never on neither, and then converges to the desired one. Real
// `lambkin device` children, a real `lambkin cloud`, real LevelDB.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deployWorld, until } from './fixtures/deploy-world.js'
import type { DeployWorld } from './fixtures/deploy-world.js'
import { startLambkin } from './fixtures/lambkin-process.js'
import type { LambkinProcess } from './fixtures/lambkin-process.js'

const STEPS = ['fetched', 'bundle-written', 'loaded', 'committed', 'swapped', 'reported'] as const
let w: DeployWorld
const procs: LambkinProcess[] = []

function device (configFile: string, crashAt?: string): LambkinProcess {
  const p = startLambkin(['device', '--config', configFile], { env: crashAt === undefined ? {} : { LAMBKIN_TEST_CRASH_AT: crashAt } })
  procs.push(p)
  return p
}

async function version (id: string, fn: string): Promise<number | undefined> {
  const i = await w.lambkin(['invoke', '--device', id, fn, '--json'])
  return (JSON.parse(i.stdout) as { result?: { v: number } }).result?.v
}

test.before(async () => { w = await deployWorld() })
test.after(async () => {
  for (const p of procs) await p.stop('SIGKILL').catch(() => {})
  await w?.cleanup()
})

for (const step of STEPS) {
  test(`killed at "${step}" it comes back on a consistent version and converges`, async () => {
    const id = `k-${step}`
    const a = w.agent(id, await w.addDevice(id))
    let p = device(a.configFile)
    await p.waitFor('stdout', /ready/)
    const v1 = await w.lambkin(['deploy', w.fn(id, 'export default () => ({ v: 1 })'), '--to', id])
    assert.is(v1.code, 0, v1.stderr)
    await p.stop('SIGTERM')

    p = device(a.configFile, step)
    await p.waitFor('stdout', /ready/)
    const deploy = w.lambkin(['deploy', w.fn(id, 'export default () => ({ v: 2 })'), '--to', id, '--timeout', '15', '--json'])
    const died = await p.exited
    assert.is(died.signal, 'SIGKILL', `the board killed itself at ${step}: ${p.stderr().slice(-2000)}`)

    p = device(a.configFile)
    await p.waitFor('stdout', /ready/)
    // Right after the restart: one of the two versions, whole.
    let first: number | undefined
    await until('an answer', async () => { first = await version(id, id); return first !== undefined })
    assert.ok(first === 1 || first === 2, `answered ${String(first)}`)
    await until('the desired version', async () => await version(id, id) === 2)
    const d = await deploy
    assert.ok(d.code === 0 || d.code === 1, `the deploy command ended: ${d.code} ${d.stderr}`)
    await p.stop('SIGTERM')
  })
}

test('killed while committing a health-gate rollback it comes back on the version it rolled back to', async () => {
  const id = 'k-rollback'
  const a = w.agent(id, await w.addDevice(id), { deploy: { healthWindowMs: 8000, minInvocations: 3, maxErrorRate: 0.5, fetchTimeoutMs: 5000 } })
  let p = device(a.configFile)
  await p.waitFor('stdout', /ready/)
  const every = { triggers: [{ schedule: '* * * * * *' }] }
  assert.is((await w.lambkin(['deploy', w.fn(id, 'export default () => ({ v: 1 })', every), '--to', id])).code, 0)
  await p.stop('SIGTERM')
  p = device(a.configFile, 'rollback-committed')
  await p.waitFor('stdout', /ready/)
  // --no-wait: the board kills itself before it can report the verdict, so the command returns at applied.
  const bad = await w.lambkin(['deploy', w.fn(id, 'export default (e) => { if (e.source === "schedule") throw new Error("bad"); return { v: 2 } }', every), '--to', id, '--no-wait'])
  assert.is(bad.code, 0, bad.stderr)
  const died = await p.exited
  assert.is(died.signal, 'SIGKILL')
  p = device(a.configFile)
  await p.waitFor('stdout', /ready/)
  await until('version 1 again', async () => await version(id, id) === 1)
  // It stays there: the failed deployment is not tried again.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  assert.is(await version(id, id), 1)
  await p.stop('SIGTERM')
})

test.run()
