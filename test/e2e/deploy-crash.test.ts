// [W5] An agent killed with SIGKILL at each step of a deployment comes back on a consistent
// version: on disk the active set names either the old deployment or the new one, with its
// bundle file whole; restarted, it converges to the desired state. Real `lambkin device` child
// processes, killed at a step by LAMBKIN_TEST_CRASH_AT (device/deployer/crash-points.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeys, readSigningKey, sha256Hex } from '../../src/bundle/index.js'
import { readActiveSet } from '../../device/deployer/index.js'
import { CRASH_STEPS } from '../../device/deployer/index.js'
import { LevelOutboxStore } from '../../device/store/index.js'
import { DeployCloud, makeVersion } from '../helpers/deploy-cloud.js'
import { startLambkin } from './fixtures/lambkin-process.js'

const STEPS = CRASH_STEPS.filter((s) => s !== 'rollback-committed')

for (const step of STEPS) {
  test(`[W5] SIGKILL at "${step}" leaves a consistent active set, and the agent converges after a restart`, async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lambkin-crash-'))
    const keys = generateKeys(path.join(root, 'keys'))
    const key = readSigningKey(keys.privateFile)
    const dataDir = path.join(root, 'data')
    const functionsDir = path.join(root, 'functions')
    mkdirSync(functionsDir)
    const cloud = await DeployCloud.start('crash-dev', 0, key)
    const config = path.join(root, 'device.json')
    writeFileSync(config, JSON.stringify({ id: 'crash-dev', dataDir, functionsDir, trustedKeys: [keys.publicFile], cloud: { url: cloud.broker.url, password: 's', reconnectMs: 100, reconnectMaxMs: 500 } }))
    const procs: Array<ReturnType<typeof startLambkin>> = []
    try {
      const v1 = await makeVersion('calc', 'export default async function () { return 1 }', key, 1)
      const v2 = await makeVersion('calc', 'export default async function () { return 2 }', key, 2)
      cloud.serve(v1, v2)
      await cloud.desire(1, [{ name: 'calc', live: v1.desired }])
      const first = startLambkin(['device', '--config', config, '--quiet'])
      procs.push(first)
      await cloud.reported((r) => r.deploymentId === 1 && !r.applying)
      await first.stop('SIGKILL')

      await cloud.desire(2, [{ name: 'calc', live: v2.desired }])
      const crashing = startLambkin(['device', '--config', config, '--quiet'], { env: { LAMBKIN_TEST_CRASH_AT: step } })
      procs.push(crashing)
      const timer = setTimeout(() => crashing.child.kill('SIGTERM'), 60_000)
      const end = await crashing.exited
      clearTimeout(timer)
      assert.is(end.signal, 'SIGKILL', `killed itself at ${step}: ${crashing.stderr().slice(-2000)}`)

      const store = await LevelOutboxStore.open({ dir: dataDir })
      const set = await readActiveSet(store)
      await store.close()
      const live = set.functions.calc?.live
      const on = set.deploymentId === 1 ? v1 : v2
      assert.ok(set.deploymentId === 1 || set.deploymentId === 2, `deployment ${set.deploymentId}`)
      assert.is(live?.sha256, on.packed.sha256, 'the active set names the bundle of the deployment it records')
      const file = readFileSync(path.join(dataDir, 'bundles', `${on.packed.sha256}.bundle`))
      assert.is(sha256Hex(file), on.packed.sha256, 'its bundle file is whole')
      if (['committed', 'swapped', 'reported'].includes(step)) assert.is(set.deploymentId, 2, 'past the swap point the new set stays')
      else assert.is(set.deploymentId, 1, 'before the swap point the old set stays')

      cloud.reports.length = 0
      const again = startLambkin(['device', '--config', config, '--quiet'])
      procs.push(again)
      await cloud.reported((r) => r.deploymentId === 2 && !r.applying && r.functions.some((f) => f.name === 'calc' && f.version === v2.packed.version))
      const res = await cloud.invoke('after-crash', 'calc', {})
      assert.equal([res.ok, res.result, res.version], [true, 2, v2.packed.version])
    } finally {
      for (const p of procs) await p.stop('SIGKILL')
      await cloud.close()
      rmSync(root, { recursive: true, force: true })
    }
  })
}

test('[W5] SIGKILL right after a rollback was written: restarted, the agent runs the previous version and reports the rollback', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-crash-'))
  const keys = generateKeys(path.join(root, 'keys'))
  const key = readSigningKey(keys.privateFile)
  const dataDir = path.join(root, 'data')
  const functionsDir = path.join(root, 'functions')
  mkdirSync(functionsDir)
  const cloud = await DeployCloud.start('crash-dev', 0, key)
  const config = path.join(root, 'device.json')
  writeFileSync(config, JSON.stringify({ id: 'crash-dev', dataDir, functionsDir, trustedKeys: [keys.publicFile], deploy: { healthWindowMs: 600_000, minInvocations: 2 }, cloud: { url: cloud.broker.url, password: 's', reconnectMs: 100, reconnectMaxMs: 500 } }))
  const procs: Array<ReturnType<typeof startLambkin>> = []
  try {
    const v1 = await makeVersion('calc', 'export default async function () { return 1 }', key, 1)
    const broken = await makeVersion('calc', 'export default async function () { throw new Error("boom") }', key, 2)
    cloud.serve(v1, broken)
    await cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    const first = startLambkin(['device', '--config', config, '--quiet'], { env: { LAMBKIN_TEST_CRASH_AT: 'rollback-committed' } })
    procs.push(first)
    await cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    await cloud.desire(2, [{ name: 'calc', live: broken.desired }])
    await cloud.reported((r) => r.deploymentId === 2 && !r.applying)
    for (let i = 0; i < 2; i++) assert.is((await cloud.invoke(`bad-${i}`, 'calc', {})).error?.code, 'LAMBKIN_FUNCTION_ERROR')
    const end = await first.exited
    assert.is(end.signal, 'SIGKILL')
    cloud.reports.length = 0
    const again = startLambkin(['device', '--config', config, '--quiet'])
    procs.push(again)
    const r = await cloud.reported((x) => x.rollbacks.some((b) => b.deploymentId === 2 && b.code === 'LAMBKIN_HEALTH_CHECK_FAILED'))
    assert.equal(r.functions.map((f) => f.version), [v1.packed.version])
    const res = await cloud.invoke('after', 'calc', {})
    assert.equal([res.ok, res.result], [true, 1])
  } finally {
    for (const p of procs) await p.stop('SIGKILL')
    await cloud.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
