// The device's deployer against a stand-in cloud (real aedes, real signed bundles), a real agent
// (LevelDB, QuickJS): applying, refusing with codes [W5][W6], the health gate rolling back with
// the cloud gone, canary weights, and remote invoke [W7].
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeys, readSigningKey } from '../../../src/bundle/index.js'
import type { SigningKey } from '../../../src/bundle/index.js'
import type { Agent } from '../../../device/index.js'
import { seededRandom } from '../../../device/invoke/aliases.js'
import { fixture } from '../../helpers/agent.js'
import type { Fixture } from '../../helpers/agent.js'
import { DeployCloud, makeVersion } from '../../helpers/deploy-cloud.js'
import { FakeClock } from '../../helpers/fake-clock.js'

const keysDir = mkdtempSync(path.join(tmpdir(), 'lambkin-keys-'))
const trustedFiles = generateKeys(path.join(keysDir, 'ok'))
const strangerFiles = generateKeys(path.join(keysDir, 'stranger'))
const key: SigningKey = readSigningKey(trustedFiles.privateFile)
const stranger: SigningKey = readSigningKey(strangerFiles.privateFile)

const returns = (n: number): string => `export default async function () { return ${n} }`

async function setup (extra: Record<string, unknown> = {}, opts: Parameters<Fixture['start']>[1] = {}): Promise<{ f: Fixture, cloud: DeployCloud, agent: Agent }> {
  const f = fixture({})
  mkdirSync(f.functionsDir, { recursive: true })
  const cloud = await DeployCloud.start('test-device', 0, key)
  const agent = await f.start({ cloud: { url: cloud.broker.url, password: 's', reconnectMs: 100, reconnectMaxMs: 200 }, trustedKeys: [trustedFiles.publicFile], ...extra }, opts)
  return { f, cloud, agent }
}

async function teardown (s: { f: Fixture, cloud: DeployCloud, agent: Agent }): Promise<void> {
  await s.agent.close()
  await s.cloud.close().catch(() => {})
  s.f.cleanup()
}

function next<T> (agent: Agent, event: string): Promise<T> {
  return new Promise((resolve) => agent.deployer?.once(event, resolve))
}

test('[W5][W6] a new version is fetched, verified, swapped in, runs, and is reported; the next one replaces it', async () => {
  const s = await setup()
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    const v2 = await makeVersion('calc', returns(2), key, 2)
    s.cloud.serve(v1, v2)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && r.functions.some((x) => x.name === 'calc' && x.version === v1.packed.version))
    let rec = await s.agent.invoke('calc')
    assert.equal([rec.ok, rec.result, rec.version], [true, 1, v1.packed.version])
    assert.ok(existsSync(path.join(s.f.dataDir, 'bundles', `${v1.packed.sha256}.bundle`)), 'bundle file kept under the data folder')
    await s.cloud.desire(2, [{ name: 'calc', live: v2.desired }])
    await s.cloud.reported((r) => r.deploymentId === 2 && r.functions.some((x) => x.name === 'calc' && x.version === v2.packed.version))
    rec = await s.agent.invoke('calc')
    assert.equal([rec.result, rec.version], [2, v2.packed.version])
    assert.is(s.agent.deployer?.active.functions.calc?.previous?.live.version, v1.packed.version, 'the rollback target is kept')
    assert.equal(s.agent.functionNames, ['calc'])
  } finally {
    await teardown(s)
  }
})

test('[W5][W6] bad signature, unknown key, tampered bytes and a replayed old deployment are refused with their codes and reported; the old version keeps running', async () => {
  const s = await setup()
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    s.cloud.serve(v1)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && r.applying === false)

    const bad = await makeVersion('calc', returns(66), key, 2)
    s.cloud.serve(bad)
    const sig = Uint8Array.from(bad.desired.signature)
    sig[0] ^= 0xff
    await s.cloud.desire(2, [{ name: 'calc', live: { ...bad.desired, signature: sig } }])
    const unknown = await makeVersion('calc', returns(77), stranger, 3)
    s.cloud.serve(unknown)
    await s.cloud.desire(3, [{ name: 'calc', live: unknown.desired }])
    const tampered = await makeVersion('calc', returns(88), key, 4)
    const bytes = Buffer.from(tampered.packed.bytes)
    bytes[bytes.length - 3] ^= 0x01
    s.cloud.altered.set(tampered.packed.sha256, bytes)
    await s.cloud.desire(4, [{ name: 'calc', live: tampered.desired }])
    await s.cloud.reported((r) => r.deploymentId === 4 && !r.applying)
    // A replay of deployment 1 after 4.
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    const r = await s.cloud.reported((x) => x.failures.some((f) => f.code === 'LAMBKIN_DEPLOYMENT_STALE'))
    const codes = r.failures.map((f) => [f.deploymentId, f.name, f.code])
    assert.equal(codes, [
      [2, 'calc', 'LAMBKIN_SIGNATURE_INVALID'],
      [3, 'calc', 'LAMBKIN_KEY_UNTRUSTED'],
      [4, 'calc', 'LAMBKIN_BUNDLE_INVALID'],
      [1, 'calc', 'LAMBKIN_DEPLOYMENT_STALE']
    ])
    assert.is(r.deploymentId, 4, 'acted on 4; the replay does not move it back')
    assert.equal(r.functions.map((x) => [x.name, x.version]), [['calc', v1.packed.version]])
    assert.not.ok(s.cloud.fetches.includes(bad.packed.sha256) || s.cloud.fetches.includes(unknown.packed.sha256), 'refused before fetching')
    const rec = await s.agent.invoke('calc')
    assert.equal([rec.result, rec.version], [1, v1.packed.version])
    const prom = s.agent.metrics.toPrometheus()
    for (const code of ['LAMBKIN_SIGNATURE_INVALID', 'LAMBKIN_KEY_UNTRUSTED', 'LAMBKIN_BUNDLE_INVALID', 'LAMBKIN_DEPLOYMENT_STALE']) {
      assert.match(prom, `lambkin_deployments_refused_total{code="${code}"} 1`)
    }
  } finally {
    await teardown(s)
  }
})

test('a version that fails to initialise, or asks for more than the device caps, is refused with its code; the old version keeps running', async () => {
  const s = await setup({ caps: { timeoutMs: 5000 } })
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    const initFails = await makeVersion('calc', 'throw new Error("no init")\nexport default async function () { return 2 }', key, 2)
    const greedy = await makeVersion('calc', returns(3), key, 3, { limits: { timeoutMs: 10_000 } })
    s.cloud.serve(v1, initFails, greedy)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    await s.cloud.desire(2, [{ name: 'calc', live: initFails.desired }])
    await s.cloud.reported((r) => r.deploymentId === 2 && !r.applying)
    await s.cloud.desire(3, [{ name: 'calc', live: greedy.desired }])
    const r = await s.cloud.reported((x) => x.deploymentId === 3 && !x.applying)
    assert.equal(r.failures.map((f) => f.deploymentId), [2, 3])
    assert.match(r.failures[0]?.code ?? '', /^LAMBKIN_/)
    assert.match(r.failures[0]?.message ?? '', 'no init')
    assert.is(r.failures[1]?.code, 'LAMBKIN_LIMIT_EXCEEDS_CAP')
    assert.equal([(await s.agent.invoke('calc')).result], [1])
  } finally {
    await teardown(s)
  }
})

test('[W5] an agent with no trusted keys refuses every desired state (and so every bundle) with LAMBKIN_KEY_UNTRUSTED, counted', async () => {
  const s = await setup({ trustedKeys: [] })
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    s.cloud.serve(v1)
    const refused = next<{ code: string, deploymentId: number }>(s.agent, 'refused')
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    const r = await refused
    assert.equal([r.deploymentId, r.code], [1, 'LAMBKIN_KEY_UNTRUSTED'])
    assert.match(s.agent.metrics.toPrometheus(), 'lambkin_desired_refused_total{code="LAMBKIN_KEY_UNTRUSTED"} 1')
    assert.equal(s.cloud.fetches, [], 'nothing was fetched')
    assert.equal(s.agent.deployer?.reportedFrame().deploymentId, 0)
    assert.equal(s.agent.functionNames, [])
  } finally {
    await teardown(s)
  }
})

test('[W5] a version that throws on every event rolls back by itself with the cloud stopped, and the rollback is reported once it is back', async () => {
  const clock = new FakeClock(Date.now())
  const s = await setup({ deploy: { healthWindowMs: 60_000, minInvocations: 3, maxErrorRate: 0.5 } }, { clock })
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    const broken = await makeVersion('calc', 'export default async function () { throw new Error("boom") }', key, 2)
    s.cloud.serve(v1, broken)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    const applied = await s.cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    assert.is(applied.functions.find((f) => f.name === 'calc')?.watching, 60_000, '[W5] the report says the window is open, and for how long')
    await clock.advance(60_001)
    await s.agent.deployer?.idle()
    assert.is(s.agent.deployer?.active.functions.calc?.window, undefined, 'v1 passed its window')
    const passed = await s.cloud.reported((r) => r.deploymentId === 1 && r.functions.some((f) => f.name === 'calc' && f.watching === undefined))
    assert.is(passed.functions[0].version, v1.desired.version, '[W5] and reports again once it passed')
    await s.cloud.desire(2, [{ name: 'calc', live: broken.desired }])
    await s.cloud.reported((r) => r.deploymentId === 2 && !r.applying)
    const port = s.cloud.broker.port
    await s.cloud.close()
    const rolled = next<{ from: string, to: string, code: string }>(s.agent, 'rolled-back')
    for (let i = 0; i < 3; i++) assert.is((await s.agent.invoke('calc')).code, 'LAMBKIN_FUNCTION_ERROR')
    const rb = await rolled
    assert.equal([rb.code, rb.from, rb.to], ['LAMBKIN_HEALTH_CHECK_FAILED', broken.packed.version, v1.packed.version])
    const rec = await s.agent.invoke('calc')
    assert.equal([rec.ok, rec.result, rec.version], [true, 1, v1.packed.version])
    assert.match(s.agent.metrics.toPrometheus(), 'lambkin_deployments_rolled_back_total{function="calc"} 1')
    // The cloud returns: the device reconnects (its backoff runs on the fake clock) and reports.
    s.cloud = await DeployCloud.start('test-device', port, key)
    const back = s.cloud.reported((r) => r.rollbacks.some((x) => x.deploymentId === 2 && x.name === 'calc' && x.code === 'LAMBKIN_HEALTH_CHECK_FAILED'))
    for (let i = 0; i < 50 && s.cloud.reports.length === 0; i++) { await clock.advance(500); await new Promise((resolve) => setTimeout(resolve, 50)) }
    const r = await back
    assert.equal(r.functions.map((x) => x.version), [v1.packed.version])
    assert.is(r.deploymentId, 2)
  } finally {
    await teardown(s)
  }
})

// Trial: a window that ran out while the device was down used to pass at once, with zero
// invocations, leaving a version that fails every event running with no gate.
test('a health window interrupted by a restart starts again in full, so a failing version still rolls back; a passing one stays', async () => {
  const clock = new FakeClock(Date.now())
  const deploy = { healthWindowMs: 60_000, minInvocations: 3, maxErrorRate: 0.5 }
  const s = await setup({ deploy }, { clock })
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    const broken = await makeVersion('calc', 'export default async function () { throw new Error("boom") }', key, 2)
    s.cloud.serve(v1, broken)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    await clock.advance(30_000)
    await s.agent.close()
    s.agent = await s.f.start({ cloud: { url: s.cloud.broker.url, password: 's' }, trustedKeys: [trustedFiles.publicFile], deploy }, { clock })
    assert.ok(s.agent.deployer?.active.functions.calc?.window !== undefined, 'window still open after the restart')
    await clock.advance(30_001)
    await s.agent.deployer?.idle()
    assert.ok(s.agent.deployer?.active.functions.calc?.window !== undefined, 'the window runs in full from the restart, not to its first end')
    await clock.advance(30_000)
    await s.agent.deployer?.idle()
    assert.is(s.agent.deployer?.active.functions.calc?.window, undefined, 'v1 passed its window')
    assert.is((await s.agent.invoke('calc')).result, 1)

    await s.cloud.desire(2, [{ name: 'calc', live: broken.desired }])
    await s.cloud.reported((r) => r.deploymentId === 2 && !r.applying)
    await s.agent.close()
    await clock.advance(120_000) // the whole window runs out while the device is down
    s.agent = await s.f.start({ cloud: { url: s.cloud.broker.url, password: 's' }, trustedKeys: [trustedFiles.publicFile], deploy }, { clock })
    await s.agent.deployer?.idle()
    assert.ok(s.agent.deployer?.active.functions.calc?.window !== undefined, 'not passed with zero invocations')
    const rolled = next<{ from: string, to: string, code: string }>(s.agent, 'rolled-back')
    for (let i = 0; i < 3; i++) assert.is((await s.agent.invoke('calc')).code, 'LAMBKIN_FUNCTION_ERROR')
    const rb = await rolled
    assert.equal([rb.code, rb.from, rb.to], ['LAMBKIN_HEALTH_CHECK_FAILED', broken.packed.version, v1.packed.version])
    assert.equal([(await s.agent.invoke('calc')).result], [1])
  } finally {
    await teardown(s)
  }
})

test('canary: weight 30 sends about 30% of invocations to the canary (seeded random); results carry the version', async () => {
  const s = await setup({}, { random: seededRandom(42) })
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    const v2 = await makeVersion('calc', returns(2), key, 2)
    s.cloud.serve(v1, v2)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired, canary: { ...v2.desired, weight: 30 } }])
    const r = await s.cloud.reported((x) => x.deploymentId === 1 && !x.applying)
    assert.equal(r.functions[0]?.canary, { version: v2.packed.version, sha256: v2.packed.sha256, weight: 30 })
    let canary = 0
    const n = 1000
    for (let i = 0; i < n; i++) {
      const rec = await s.agent.invoke('calc')
      if (rec.version === v2.packed.version) { canary++; assert.is(rec.result, 2) } else assert.is(rec.result, 1)
    }
    assert.ok(canary > 250 && canary < 350, `${canary} of ${n} went to the canary`)
  } finally {
    await teardown(s)
  }
})

test('[W7] remote invoke runs the function and answers with its result and version; an unknown function answers its code', async () => {
  const s = await setup()
  try {
    const v1 = await makeVersion('calc', 'export default async function (event) { return { got: event.x, source: event.source } }', key, 1)
    s.cloud.serve(v1)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    const ok = await s.cloud.invoke('req-1', 'calc', { x: 7 })
    assert.equal([ok.id, ok.ok, ok.result, ok.version], ['req-1', true, { got: 7, source: 'invoke' }, v1.packed.version])
    const missing = await s.cloud.invoke('req-2', 'nope', {})
    assert.equal([missing.ok, missing.error?.code], [false, 'LAMBKIN_FUNCTION_NOT_FOUND'])
  } finally {
    await teardown(s)
  }
})

test('[W8] a malformed desired frame is counted and dropped; the agent keeps running', async () => {
  const s = await setup()
  try {
    // Subscribed once it has reported on connect.
    await s.cloud.reported((r) => r.deploymentId === 0)
    await s.cloud.client.publishAsync('lambkin/v1/test-device/down/desired', Buffer.from([0xff, 0x00, 0x13]), { qos: 1, retain: false })
    const v1 = await makeVersion('calc', returns(1), key, 1)
    s.cloud.serve(v1)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    assert.is(s.agent.cloudLink?.counters.refused, 1)
  } finally {
    await teardown(s)
  }
})

test('[W5] a board clock stepped back 3 hours in a health window: the report says what is left of it, not hours', async () => {
  const clock = new FakeClock(Date.now())
  const s = await setup({ deploy: { healthWindowMs: 60_000, minInvocations: 3, maxErrorRate: 0.5 } }, { clock })
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    s.cloud.serve(v1)
    await s.cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await s.cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    clock.jumpTo(clock.now() - 3 * 3_600_000)
    await clock.advance(10_000)
    assert.is(s.agent.deployer?.reportedFrame().functions.find((f) => f.name === 'calc')?.watching, 50_000)
  } finally {
    await teardown(s)
  }
})

test.run()
