// Bundle upload and fetch (docs/deploy.md, [W6]) on a real cloud: a bundle is taken only with a
// signature by a key the cloud trusts over bytes that hash to what they claim; a device gets
// bytes only for a sha256 in its own desired state; bad frames are refused and counted [W8].
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { sha256Hex, signBundle } from '../../src/bundle/index.js'
import { decodeFrame, downTopic, encodeFrame, parseBundleFrame, upTopic } from '../../src/wire/index.js'
import { nextMessage, startCloud } from '../helpers/cloud.js'
import { SimDevice, makeBundle, makeKeys, tmpDir, upload, uploadBody, untilRollout } from '../helpers/deploy.js'

type Err = { error: { code: string, message: string } }
const plain = new Encoder({ useRecords: false, mapsAsObjects: true })

test('a bundle signed by a trusted key is stored with its version number; the same bytes again keep it; a new version is number 2', async () => {
  const { key, pubFile } = makeKeys()
  const f = await startCloud({ trustedKeys: [pubFile] })
  try {
    const v1 = await makeBundle('greet', 'one')
    const r1 = await f.api('POST', '/v1/bundles', uploadBody(v1, key))
    assert.is(r1.status, 201)
    assert.equal(r1.body, { sha256: v1.sha256, name: 'greet', version: v1.version, number: 1, size: v1.bytes.byteLength })
    const again = await f.api('POST', '/v1/bundles', uploadBody(v1, key))
    assert.equal([again.status, again.body.number], [200, 1])
    const v2 = await makeBundle('greet', 'two')
    assert.equal((await f.api('POST', '/v1/bundles', uploadBody(v2, key))).body.number, 2)
  } finally {
    await f.cleanup()
  }
})

test('[W6] a bad signature, an untrusted key, tampered bytes and an invalid manifest are refused with their codes and store nothing', async () => {
  const trusted = makeKeys()
  const other = makeKeys()
  const f = await startCloud({ trustedKeys: [trusted.pubFile] })
  try {
    const b = await makeBundle('greet', 'one')
    const forged = { ...uploadBody(b, trusted.key), signature: uploadBody(b, other.key).signature }
    const bad = await f.api<Err>('POST', '/v1/bundles', forged)
    assert.equal([bad.status, bad.body.error.code], [400, 'LAMBKIN_SIGNATURE_INVALID'])
    const untrusted = await f.api<Err>('POST', '/v1/bundles', uploadBody(b, other.key))
    assert.equal([untrusted.status, untrusted.body.error.code], [403, 'LAMBKIN_KEY_UNTRUSTED'])
    const tampered = Buffer.from(b.bytes)
    tampered[tampered.length - 5] ^= 1
    const t = await f.api<Err>('POST', '/v1/bundles', { ...uploadBody(b, trusted.key), bundle: tampered.toString('base64') })
    assert.equal([t.status, t.body.error.code], [400, 'LAMBKIN_BUNDLE_INVALID'])
    // Signed properly, but what it holds is not a valid function.
    const junk = plain.encode({ format: 1, name: 'greet', version: 'a'.repeat(16), manifest: { name: 'greet', handler: 'index.js', bogus: 1 }, files: { 'index.js': 'x' }, layers: {} }) as Buffer
    const sha = sha256Hex(junk)
    const sig = signBundle(sha, trusted.key)
    const m = await f.api<Err>('POST', '/v1/bundles', { bundle: junk.toString('base64'), sha256: sha, signature: Buffer.from(sig.signature).toString('base64'), keyId: sig.keyId })
    assert.equal([m.status, m.body.error.code], [400, 'LAMBKIN_MANIFEST_INVALID'])
    const notB64 = await f.api<Err>('POST', '/v1/bundles', { ...uploadBody(b, trusted.key), bundle: 'not base64!' })
    assert.equal([notB64.status, notB64.body.error.code], [400, 'LAMBKIN_REQUEST_INVALID'])
    // None of them was stored: a rollout of any of them finds no bundle.
    for (const s of [b.sha256, sha]) {
      const r = await f.api<Err>('POST', '/v1/rollouts', { sha256: s, to: 'gh-01' })
      assert.equal([r.status, r.body.error.code], [400, 'LAMBKIN_REQUEST_INVALID'])
    }
  } finally {
    await f.cleanup()
  }
})

test('a cloud with no trusted keys refuses every upload and says how to add one; a bad key file stops the start', async () => {
  const { key } = makeKeys()
  const f = await startCloud()
  try {
    const r = await f.api<Err>('POST', '/v1/bundles', uploadBody(await makeBundle('greet', 'one'), key))
    assert.equal([r.status, r.body.error.code], [403, 'LAMBKIN_KEY_UNTRUSTED'])
    assert.match(r.body.error.message, /--trust/)
  } finally {
    await f.cleanup()
  }
  const notKey = join(tmpDir(), 'x.pub')
  writeFileSync(notKey, 'hello')
  try { await startCloud({ trustedKeys: [notKey] }); assert.unreachable() } catch (err) { assert.is((err as { code: string }).code, 'LAMBKIN_KEY_INVALID') }
})

test('the bundle route takes a body far over the 64 KiB other routes keep', async () => {
  const { key, pubFile } = makeKeys()
  const f = await startCloud({ trustedKeys: [pubFile] })
  try {
    const big = await makeBundle('big', 'x'.repeat(600 * 1024))
    assert.is((await f.api('POST', '/v1/bundles', uploadBody(big, key))).status, 201)
    const r = await f.api('POST', '/v1/devices', { id: 'gh-01', pad: 'x'.repeat(100 * 1024) })
    assert.is(r.status, 413)
  } finally {
    await f.cleanup()
  }
})

test('[W6] a device gets bundle bytes only for a sha256 in its own desired state; others get an error frame, counted', async () => {
  const { key, pubFile } = makeKeys()
  const f = await startCloud({ trustedKeys: [pubFile] })
  try {
    const mine = await upload(f, await makeBundle('greet', 'one'), key)
    const other = await upload(f, await makeBundle('greet', 'two'), key)
    const d = await SimDevice.connect(f, 'gh-01', await f.addDevice('gh-01'), (s) => { s.fetch = true })
    const r = (await f.api<{ id: string }>('POST', '/v1/rollouts', { sha256: mine, to: 'gh-01' })).body
    await untilRollout(f, r.id, (v) => v.state === 'done')
    assert.equal(d.fetched, [mine])
    for (const sha of [other, 'f'.repeat(64)]) {
      const answer = nextMessage(d.client, downTopic('gh-01', 'bundle'))
      await d.client.publishAsync(upTopic('gh-01', 'fetch'), encodeFrame({ sha256: sha }), { qos: 1 })
      const b = parseBundleFrame(decodeFrame(await answer, 2e6))
      assert.equal([b.sha256, b.bundle, b.error?.code], [sha, undefined, 'LAMBKIN_BUNDLE_INVALID'])
    }
    const st = await f.api<{ cloud: { ingest: { deploy: Record<string, number> } } }>('GET', '/v1/status')
    assert.equal([st.body.cloud.ingest.deploy.bundlesSent, st.body.cloud.ingest.deploy.fetchesRefused], [1, 2])
  } finally {
    await f.cleanup()
  }
})

test('[W8] malformed reported, fetch and invoke-result frames are refused and counted; the device stays connected', async () => {
  const f = await startCloud()
  try {
    const d = await SimDevice.connect(f, 'gh-01', await f.addDevice('gh-01'))
    await d.client.publishAsync(upTopic('gh-01', 'reported'), encodeFrame({ deploymentId: -1, applying: false, functions: [], time: 1 }), { qos: 1 })
    await d.client.publishAsync(upTopic('gh-01', 'fetch'), encodeFrame({ sha256: 'nope' }), { qos: 1 })
    await d.client.publishAsync(upTopic('gh-01', 'invoke-result'), Buffer.from([0xff, 0x00]), { qos: 1 })
    const st = await f.api<{ cloud: { ingest: { rejected: Record<string, number>, deploy: Record<string, number> } } }>('GET', '/v1/status')
    assert.equal(st.body.cloud.ingest.rejected, { field: 2, malformed: 1 })
    assert.is(st.body.cloud.ingest.deploy.reports, 1)
    assert.ok(d.client.connected)
  } finally {
    await f.cleanup()
  }
})

test.run()
