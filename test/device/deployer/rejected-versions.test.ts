// Versions a device rolled back from or refused are not applied again by a later desired state
// (desired is the whole set, so a deployment of another function lists them too): the device
// keeps what it runs, runs no second health check, and reports the refusal at the deployment id
// without filling its 20-entry history.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeys, readSigningKey } from '../../../src/bundle/index.js'
import type { Agent } from '../../../device/index.js'
import { fixture } from '../../helpers/agent.js'
import type { Fixture } from '../../helpers/agent.js'
import { DeployCloud, makeVersion } from '../../helpers/deploy-cloud.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const keysDir = mkdtempSync(path.join(tmpdir(), 'lambkin-keys-'))
const trustedFiles = generateKeys(path.join(keysDir, 'ok'))
const key = readSigningKey(trustedFiles.privateFile)
const returns = (n: number): string => `export default async function () { return ${n} }`
const deploy = { healthWindowMs: 60_000, minInvocations: 3, maxErrorRate: 0.5 }

async function setup (clock: FakeClock): Promise<{ f: Fixture, cloud: DeployCloud, agent: Agent }> {
  const f = fixture({})
  mkdirSync(f.functionsDir, { recursive: true })
  const cloud = await DeployCloud.start('test-device', 0, key)
  const agent = await f.start({ cloud: { url: cloud.broker.url, password: 's', reconnectMs: 100, reconnectMaxMs: 200 }, trustedKeys: [trustedFiles.publicFile], deploy }, { clock })
  return { f, cloud, agent }
}

test('a version rolled back from is not applied again by later deployments; a redeploy of it is reported failed; a new version is applied', async () => {
  const clock = new FakeClock(Date.now())
  const s = await setup(clock)
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    const broken = await makeVersion('calc', 'export default async function () { throw new Error("boom") }', key, 2)
    const v3 = await makeVersion('calc', returns(3), key, 3)
    const g1 = await makeVersion('other', returns(10), key, 1)
    const g2 = await makeVersion('other', returns(20), key, 2)
    s.cloud.serve(v1, broken, v3, g1, g2)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    await clock.advance(60_001)
    await s.agent.deployer?.idle()
    await s.cloud.desire(2, [{ name: 'calc', live: broken.desired }])
    await s.cloud.reported((r) => r.deploymentId === 2 && !r.applying)
    const rolled = new Promise((resolve) => s.agent.deployer?.once('rolled-back', resolve))
    for (let i = 0; i < 3; i++) await s.agent.invoke('calc')
    await rolled
    await s.agent.deployer?.idle()

    // Deployments of another function: desired still lists calc at the rolled-back bytes.
    let applied = 0
    s.agent.deployer?.on('applied', (e: { functions: string[] }) => { if (e.functions.includes('calc')) applied++ })
    for (const [id, g] of [[3, g1], [4, g2]] as const) {
      await s.cloud.desire(id, [{ name: 'calc', live: broken.desired }, { name: 'other', live: g.desired }])
      await s.cloud.reported((r) => r.deploymentId === id && !r.applying)
      await s.agent.deployer?.idle()
      assert.is(s.agent.deployer?.active.functions.calc?.window, undefined, `no second health window at deployment ${id}`)
      assert.is((await s.agent.invoke('calc')).result, 1, 'calc keeps running v1')
    }
    assert.is(applied, 0, 'the rolled-back version was not applied again')
    assert.is((await s.agent.invoke('other')).result, 20, 'the other function was deployed')
    let r = s.agent.deployer?.reportedFrame()
    const calcFailures = r?.failures.filter((x) => x.name === 'calc') ?? []
    assert.is(calcFailures.length, 1, 'one entry for calc, not one per unrelated deployment')
    assert.equal([calcFailures[0]?.deploymentId, calcFailures[0]?.code, calcFailures[0]?.version], [4, 'LAMBKIN_HEALTH_CHECK_FAILED', broken.packed.version])
    assert.is(calcFailures[0]?.message, `version ${broken.packed.version} was rolled back on this device at deployment 2; deploy a new version`)
    assert.equal(r?.rollbacks.map((x) => [x.deploymentId, x.name]), [[2, 'calc']])

    // An operator deploys those bytes again (after going back to v1): judged failed at its id.
    await s.cloud.desire(5, [{ name: 'calc', live: v1.desired }, { name: 'other', live: g2.desired }])
    await s.cloud.reported((x) => x.deploymentId === 5 && !x.applying)
    await s.cloud.desire(6, [{ name: 'calc', live: broken.desired }, { name: 'other', live: g2.desired }])
    r = await s.cloud.reported((x) => x.deploymentId === 6 && !x.applying)
    assert.ok(r.failures.some((x) => x.deploymentId === 6 && x.name === 'calc' && x.code === 'LAMBKIN_HEALTH_CHECK_FAILED'))
    assert.is((await s.agent.invoke('calc')).result, 1)

    // The rejected list survives a restart.
    await s.agent.close()
    s.agent = await s.f.start({ cloud: { url: s.cloud.broker.url, password: 's' }, trustedKeys: [trustedFiles.publicFile], deploy }, { clock })
    await s.cloud.desire(7, [{ name: 'calc', live: broken.desired }, { name: 'other', live: g1.desired }])
    await s.cloud.reported((x) => x.deploymentId === 7 && !x.applying)
    await s.agent.deployer?.idle()
    assert.is((await s.agent.invoke('calc')).result, 1)
    assert.is(s.agent.deployer?.active.functions.calc?.window, undefined)

    // A new version is a new try.
    await s.cloud.desire(8, [{ name: 'calc', live: v3.desired }, { name: 'other', live: g1.desired }])
    await s.cloud.reported((x) => x.deploymentId === 8 && !x.applying)
    assert.is((await s.agent.invoke('calc')).result, 3)
  } finally {
    await s.agent.close()
    await s.cloud.close().catch(() => {})
    s.f.cleanup()
  }
})

test('a version refused for its bytes (init error) is not fetched or compiled again at later deployments', async () => {
  const clock = new FakeClock(Date.now())
  const s = await setup(clock)
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    const initFails = await makeVersion('calc', 'throw new Error("no init")\nexport default async function () { return 2 }', key, 2)
    const g1 = await makeVersion('other', returns(10), key, 1)
    s.cloud.serve(v1, initFails, g1)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    await s.cloud.desire(2, [{ name: 'calc', live: initFails.desired }])
    await s.cloud.reported((r) => r.deploymentId === 2 && !r.applying)
    let refusals = 0
    s.agent.deployer?.on('refused', () => { refusals++ })
    await s.cloud.desire(3, [{ name: 'calc', live: initFails.desired }, { name: 'other', live: g1.desired }])
    const r = await s.cloud.reported((x) => x.deploymentId === 3 && !x.applying)
    assert.is(refusals, 0, 'not tried, logged or counted again')
    const calc = r.failures.filter((x) => x.name === 'calc')
    assert.equal(calc.map((x) => x.deploymentId), [2, 3])
    assert.match(calc[1]?.message ?? '', `version ${initFails.packed.version} was refused by this device (`)
    assert.match(calc[1]?.message ?? '', 'at deployment 2; deploy a new version')
    assert.is((await s.agent.invoke('calc')).result, 1)
    assert.is((await s.agent.invoke('other')).result, 10)
  } finally {
    await s.agent.close()
    await s.cloud.close().catch(() => {})
    s.f.cleanup()
  }
})

test.run()
