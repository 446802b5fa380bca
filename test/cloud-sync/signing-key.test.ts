// The cloud's desired-state key [W5]: made on the first start (0600) and kept across restarts,
// or taken from --signing-key (so instances of one fleet share it), its public half written
// marked for desired state only; every desired state the cloud publishes verifies with it for
// its own device only. And a cloud with neither a plain port nor TLS refuses to start.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Cloud } from '../../cloud-sync/index.js'
import { generateKeys, readTrustedKeys, verifyDesired } from '../../src/bundle/index.js'
import { decodeFrame, parseDesired } from '../../src/wire/index.js'
import { nextMessage, startCloud } from '../helpers/cloud.js'
import { makeBundle, makeKeys, upload } from '../helpers/deploy.js'

const keys = makeKeys()

test('[W5] the key is made on the first start (0600) and kept; its .pub is marked for desired state only; each device\'s state verifies for that device only', async () => {
  const f = await startCloud({ trustedKeys: [keys.pubFile] })
  try {
    const { privateFile, publicFile, key } = f.cloud.signing
    assert.is(privateFile, path.join(f.dir, 'cloud-signing.key'))
    assert.is(statSync(privateFile).mode & 0o777, 0o600)
    assert.match(readFileSync(publicFile, 'utf8'), /^lambkin-key-use: desired-state\n-----BEGIN PUBLIC KEY-----/)
    const secret = await f.addDevice('gh-01')
    const device = await f.connect('gh-01', secret, { clean: true })
    const desired = nextMessage(device, 'lambkin/v1/gh-01/down/desired')
    const r = await f.api('POST', '/v1/rollouts', { sha256: await upload(f, await makeBundle('greet', 'one'), keys.key), to: 'gh-01' })
    assert.is(r.status, 201)
    const frame = parseDesired(decodeFrame(await desired, 1 << 20))
    const trusted = readTrustedKeys([publicFile])
    assert.is(verifyDesired('gh-01', frame, trusted).keyId, key.keyId)
    let code = 'none'
    try { verifyDesired('gh-02', frame, trusted) } catch (err) { code = (err as { code: string }).code }
    assert.is(code, 'LAMBKIN_SIGNATURE_INVALID', 'worthless to another device')
    await f.restart()
    assert.is(f.cloud.signing.key.keyId, key.keyId, 'the same key after a restart')
  } finally {
    await f.cleanup()
  }
})

test('[W5] --signing-key: a shared key file is used as is, and the .pub in the data folder is its public half', async () => {
  const shared = generateKeys(mkdtempSync(path.join(tmpdir(), 'lambkin-shared-key-')))
  const f = await startCloud({ signingKeyFile: shared.privateFile })
  try {
    assert.is(f.cloud.signing.key.keyId, shared.keyId)
    assert.is(f.cloud.signing.privateFile, shared.privateFile)
    assert.is(readTrustedKeys([f.cloud.signing.publicFile]).get(shared.keyId)?.use, 'desired-state')
    const status = await f.api<{ cloud: { deploy: { signingKeyId: string } } }>('GET', '/v1/status')
    assert.is(status.body.cloud.deploy.signingKeyId, shared.keyId)
  } finally {
    await f.cleanup()
    rmSync(path.dirname(shared.privateFile), { recursive: true, force: true })
  }
})

test('a cloud with no plain port and no TLS has nothing to listen on: LAMBKIN_CONFIG_INVALID', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-cloud-'))
  try {
    await Cloud.create({ dataDir: dir, port: 0, apiPort: 0, plain: false })
    assert.unreachable('started')
  } catch (err) {
    assert.is((err as { code: string }).code, 'LAMBKIN_CONFIG_INVALID')
    assert.match((err as Error).message, /nothing to listen on/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
