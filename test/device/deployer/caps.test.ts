// A device's caps against deployed functions, as against local ones: a default limit above a
// lowered cap runs at the cap; a deployed version that no longer loads at start (a limit it
// asked for is now above the cap) is reported and falls back to the version before it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeys, readSigningKey } from '../../../src/bundle/index.js'
import { fixture } from '../../helpers/agent.js'
import { DeployCloud, makeVersion } from '../../helpers/deploy-cloud.js'

const keysDir = mkdtempSync(path.join(tmpdir(), 'lambkin-keys-'))
const trustedFiles = generateKeys(path.join(keysDir, 'ok'))
const key = readSigningKey(trustedFiles.privateFile)
const returns = (n: number): string => `export default async function () { return ${n} }`

test('lowered caps.memoryKiB: a deployed function without limits runs at the cap (as a local one does); one whose own limit is now over the cap is reported at start and falls back', async () => {
  const f = fixture({})
  mkdirSync(path.join(f.functionsDir, 'local'), { recursive: true })
  writeFileSync(path.join(f.functionsDir, 'local', 'function.json'), JSON.stringify({ name: 'local' }))
  writeFileSync(path.join(f.functionsDir, 'local', 'index.js'), returns(0))
  const cloud = await DeployCloud.start('test-device', 0, key)
  const base = { cloud: { url: cloud.broker.url, password: 's', reconnectMs: 100, reconnectMaxMs: 200 }, trustedKeys: [trustedFiles.publicFile] }
  let agent = await f.start(base)
  try {
    const v1 = await makeVersion('calc', returns(1), key, 1)
    const v2 = await makeVersion('calc', returns(2), key, 2, { limits: { memoryKiB: 24_576 } })
    const other = await makeVersion('other', returns(10), key, 1)
    cloud.serve(v1, v2, other)
    await cloud.desire(1, [{ name: 'calc', live: v1.desired }])
    await cloud.reported((r) => r.deploymentId === 1 && !r.applying)
    await cloud.desire(2, [{ name: 'calc', live: v2.desired }])
    await cloud.reported((r) => r.deploymentId === 2 && !r.applying && r.functions.some((x) => x.version === v2.packed.version))
    await agent.close()

    // The operator lowers the cap below the default (32768 KiB) and below v2's own 24576.
    agent = await f.start({ ...base, caps: { memoryKiB: 20_480 } })
    assert.equal((await agent.invoke('local')).result, 0, 'the local function runs at the cap')
    const rec = await agent.invoke('calc')
    assert.equal([rec.ok, rec.result, rec.version], [true, 1, v1.packed.version], 'v2 no longer loads: back to v1, which runs at the cap')
    const r = await cloud.reported((x) => x.failures.some((y) => y.deploymentId === 2 && y.name === 'calc'))
    const fail = r.failures.find((y) => y.deploymentId === 2 && y.name === 'calc')
    assert.is(fail?.code, 'LAMBKIN_LIMIT_EXCEEDS_CAP')
    assert.match(fail?.message ?? '', `deployed version ${v2.packed.version} cannot be loaded at start`)
    assert.match(fail?.message ?? '', `running version ${v1.packed.version} instead`)
    assert.equal(r.functions.filter((x) => x.name === 'calc').map((x) => x.version), [v1.packed.version])

    // A deployment to the lowered device: no limits given, so it runs at the cap.
    await cloud.desire(3, [{ name: 'calc', live: v1.desired }, { name: 'other', live: other.desired }])
    const r3 = await cloud.reported((x) => x.deploymentId === 3 && !x.applying)
    assert.is(r3.failures.filter((x) => x.deploymentId === 3).length, 0)
    assert.is((await agent.invoke('other')).result, 10)
  } finally {
    await agent.close()
    await cloud.close().catch(() => {})
    f.cleanup()
  }
})

test.run()
