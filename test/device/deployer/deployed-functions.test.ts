// Deployed functions in the agent's function table: a deployed function replaces a local one
// of the same name with its own triggers and gives it back when removed; a bundle that never
// arrives ends as LAMBKIN_DEPLOY_TIMEOUT after bounded tries, the running version untouched.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import mqtt from 'mqtt'
import { generateKeys, readSigningKey } from '../../../src/bundle/index.js'
import { FETCH_ATTEMPTS } from '../../../device/deployer/index.js'
import { fixture } from '../../helpers/agent.js'
import type { InvocationRecord } from '../../../device/index.js'
import { DeployCloud, makeVersion } from '../../helpers/deploy-cloud.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const keys = generateKeys(path.join(mkdtempSync(path.join(tmpdir(), 'lambkin-keys-')), 'k'))
const key = readSigningKey(keys.privateFile)

test('a deployed function replaces the local one of its name, with the triggers of its own manifest, and the local one returns when it is removed', async () => {
  const f = fixture({ calc: { manifest: { triggers: [{ mqtt: 'in/a', qos: 1 }] }, code: 'export default async function () { return "local" }' } })
  const cloud = await DeployCloud.start('test-device', 0, key)
  const agent = await f.start({ brokerPort: 0, cloud: { url: cloud.broker.url, password: 's' }, trustedKeys: [keys.publicFile] })
  const c = await mqtt.connectAsync(agent.brokerUrl as string)
  try {
    const v1 = await makeVersion('calc', 'export default async function () { return "deployed" }', key, 1, { triggers: [{ mqtt: 'in/b', qos: 1 }] })
    cloud.serve(v1)
    await cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    // A QoS 1 publish to the embedded broker is acknowledged after its invocations committed,
    // so once both are acknowledged every invocation they caused has been seen.
    const seen: InvocationRecord[] = []
    agent.on('invocation', (r: InvocationRecord) => seen.push(r))
    await c.publishAsync('in/a', '1', { qos: 1 })
    await c.publishAsync('in/b', '1', { qos: 1 })
    assert.equal(seen.map((r) => [r.result, r.version]), [['deployed', v1.packed.version]], 'in/a no longer fires it')
    assert.is(agent.functions?.routeOf('calc')?.live.version, v1.packed.version)

    await cloud.desire(2, [])
    await cloud.reported((r) => r.deploymentId === 2 && !r.applying)
    seen.length = 0
    await c.publishAsync('in/b', '1', { qos: 1 })
    await c.publishAsync('in/a', '1', { qos: 1 })
    assert.equal(seen.map((r) => r.result), ['local'])
    assert.equal(agent.functionNames, ['calc'])
  } finally {
    await c.endAsync()
    await agent.close()
    await cloud.close()
    f.cleanup()
  }
})

test('[W6] a bundle the cloud never sends fails with LAMBKIN_DEPLOY_TIMEOUT after bounded requests; the running version keeps running', async () => {
  const clock = new FakeClock(Date.now())
  const f = fixture({})
  const cloud = await DeployCloud.start('test-device', 0, key)
  // No functions folder at all: a device fed only by deployments needs none.
  assert.not.ok(existsSync(f.functionsDir))
  const agent = await f.start({ cloud: { url: cloud.broker.url, password: 's' }, trustedKeys: [keys.publicFile], deploy: { fetchTimeoutMs: 1000 } }, { clock })
  try {
    const v1 = await makeVersion('calc', 'export default async function () { return 1 }', key, 1)
    const v2 = await makeVersion('calc', 'export default async function () { return 2 }', key, 2)
    cloud.serve(v1, v2)
    cloud.unanswered.add(v2.packed.sha256)
    await cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    await cloud.desire(2, [{ name: 'calc', live: v2.desired }])
    await cloud.reported((r) => r.applying)
    for (let i = 0; i < FETCH_ATTEMPTS; i++) {
      while (cloud.fetches.filter((s) => s === v2.packed.sha256).length <= i) await new Promise((resolve) => setTimeout(resolve, 20))
      await clock.advance(1000)
    }
    const r = await cloud.reported((x) => x.deploymentId === 2 && !x.applying)
    assert.equal(r.failures.map((x) => [x.deploymentId, x.code]), [[2, 'LAMBKIN_DEPLOY_TIMEOUT']])
    assert.is(cloud.fetches.filter((s) => s === v2.packed.sha256).length, FETCH_ATTEMPTS)
    assert.is((await agent.invoke('calc')).result, 1)
  } finally {
    await agent.close()
    await cloud.close()
    f.cleanup()
  }
})

test.run()
