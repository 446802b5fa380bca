// Transient deployment failures [W5]: a bundle that does not arrive in time is reported with
// `transient: true`, is not held against its bytes, and the device tries the deployment again
// on its own (deploy.retryMs, on the fake clock) until it applies; the classifier maps a full
// disk and I/O errors, also inside a store error, to their codes.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeys, readSigningKey } from '../../../src/bundle/index.js'
import { ErrorCodes, LambkinError } from '../../../src/errors.js'
import { FETCH_ATTEMPTS } from '../../../device/deployer/index.js'
import { deployFailure, isTransient, retryDelayMs } from '../../../device/deployer/transient.js'
import { fixture } from '../../helpers/agent.js'
import { DeployCloud, makeVersion } from '../../helpers/deploy-cloud.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const keys = generateKeys(path.join(mkdtempSync(path.join(tmpdir(), 'lambkin-keys-')), 'k'))
const key = readSigningKey(keys.privateFile)

test('a full disk and I/O errors are their own transient codes, also under a store error; the bytes\' faults stay permanent', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
  assert.is(deployFailure(enospc).code, ErrorCodes.NO_SPACE)
  assert.is(deployFailure(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })).code, ErrorCodes.IO_ERROR)
  const level = new LambkinError(ErrorCodes.STORE_ERROR, 'committing failed: IO error: /data/000005.log: No space left on device', { cause: new Error('IO error: No space left on device') })
  assert.is(deployFailure(level).code, ErrorCodes.NO_SPACE)
  for (const code of [ErrorCodes.NO_SPACE, ErrorCodes.IO_ERROR, ErrorCodes.DEPLOY_TIMEOUT, ErrorCodes.STORE_ERROR]) assert.ok(isTransient(code), code)
  for (const code of [
    ErrorCodes.SIGNATURE_INVALID,
    ErrorCodes.BUNDLE_INVALID,
    ErrorCodes.COMPILE_ERROR,
    ErrorCodes.FUNCTION_ERROR,
    ErrorCodes.LIMIT_EXCEEDS_CAP
  ]) { assert.not.ok(isTransient(code), code) }
  assert.is(deployFailure(new Error('init threw')).code, ErrorCodes.FUNCTION_ERROR)
  assert.equal([1, 2, 3, 6, 7, 20].map((n) => retryDelayMs(100, n)), [100, 200, 400, 3200, 3200, 3200])
})

test('[W5] a fetch that times out is reported transient, never rejected, and the device tries again by itself until the version applies', async () => {
  const clock = new FakeClock(Date.now())
  const f = fixture({})
  const cloud = await DeployCloud.start('test-device', 0, key)
  const agent = await f.start({ cloud: { url: cloud.broker.url, password: 's' }, trustedKeys: [keys.publicFile], deploy: { fetchTimeoutMs: 1000, retryMs: 5000 } }, { clock })
  try {
    const v1 = await makeVersion('calc', 'export default async function () { return 1 }', key, 1)
    const v2 = await makeVersion('calc', 'export default async function () { return 2 }', key, 2)
    cloud.serve(v1, v2)
    cloud.unanswered.add(v2.packed.sha256)
    await cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    await cloud.desire(2, [{ name: 'calc', live: v2.desired }])
    await cloud.reported((r) => r.applying)
    const fetched = async (n: number): Promise<void> => {
      while (cloud.fetches.filter((s) => s === v2.packed.sha256).length < n) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    for (let i = 1; i <= FETCH_ATTEMPTS; i++) {
      await fetched(i)
      await clock.advance(1000)
    }
    const failed = await cloud.reported((x) => x.deploymentId === 2 && !x.applying && x.failures.length > 0)
    assert.equal(failed.failures.map((x) => [x.deploymentId, x.code, x.transient]), [[2, 'LAMBKIN_DEPLOY_TIMEOUT', true]])
    assert.equal(agent.deployer?.active.rejected.calc ?? [], [], 'the version is not held against its bytes')
    assert.is((await agent.invoke('calc')).result, 1, 'the running version keeps running')
    // The cloud has the bundle again; the retry comes deploy.retryMs later, with no new desired state.
    cloud.unanswered.delete(v2.packed.sha256)
    await clock.advance(5000)
    const applied = await cloud.reported((x) => x.deploymentId === 2 && !x.applying && x.functions.some((fn) => fn.name === 'calc' && fn.version === v2.packed.version))
    assert.equal(applied.failures.map((x) => [x.deploymentId, x.code, x.transient]), [[2, 'LAMBKIN_DEPLOY_TIMEOUT', true]], 'one entry for the failure, not one per try')
    assert.is((await agent.invoke('calc')).result, 2)
    assert.is(agent.deployer?.active.retry, undefined, 'nothing left to try again')
  } finally {
    await agent.close()
    await cloud.close()
    f.cleanup()
  }
})

test('[W5] a transient failure is tried again after a restart: the retained desired state with the same id is a retry, not a no-op', async () => {
  const clock = new FakeClock(Date.now())
  const f = fixture({})
  const cloud = await DeployCloud.start('test-device', 0, key)
  const config = { cloud: { url: cloud.broker.url, password: 's', reconnectMs: 100, reconnectMaxMs: 200 }, trustedKeys: [keys.publicFile], deploy: { fetchTimeoutMs: 1000, retryMs: 3_600_000 } }
  let agent = await f.start(config, { clock })
  try {
    const v1 = await makeVersion('calc', 'export default async function () { return 1 }', key, 1)
    cloud.serve(v1)
    cloud.unanswered.add(v1.packed.sha256)
    await cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    for (let i = 1; i <= FETCH_ATTEMPTS; i++) {
      while (cloud.fetches.length < i) await new Promise((resolve) => setTimeout(resolve, 20))
      await clock.advance(1000)
    }
    await cloud.reported((x) => x.deploymentId === 1 && !x.applying && x.failures.some((y) => y.transient === true))
    await agent.close()
    cloud.unanswered.delete(v1.packed.sha256)
    agent = await f.start(config, { clock })
    await cloud.reported((x) => x.functions.some((fn) => fn.name === 'calc' && fn.version === v1.packed.version))
    assert.is((await agent.invoke('calc')).result, 1)
  } finally {
    await agent.close()
    await cloud.close()
    f.cleanup()
  }
})

test.run()
