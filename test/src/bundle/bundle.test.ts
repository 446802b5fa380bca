// Bundles [W6]: deterministic packing, reading back with every field checked, ed25519 keys
// and signatures, and each way a bundle can be wrong refused with its code.
import { mkdtempSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Encoder } from 'cbor-x'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadFunctionDir } from '../../../src/function/index.js'
import { BUNDLE_MAX_BYTES, generateKeys, packBundle, readBundle, readSigningKey, readTrustedKey, readTrustedKeys, signBundle, verifyBundle, verifySignature } from '../../../src/bundle/index.js'

const examples = fileURLToPath(new URL('../../../../examples/', import.meta.url))
const tmp = (): string => mkdtempSync(join(tmpdir(), 'lambkin-bundle-'))
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

async function codeOf (p: () => unknown): Promise<string | undefined> {
  try { await p() } catch (err) { return (err as { code?: string }).code }
  return undefined
}

test('[W6] the same folder packs to the same bytes and hash; reading them back gives the same version', async () => {
  const fn = await loadFunctionDir(join(examples, 'room-average'))
  const a = packBundle(fn)
  const b = packBundle(await loadFunctionDir(join(examples, 'room-average')))
  assert.is(a.sha256, b.sha256)
  assert.equal(a.bytes, b.bytes)
  const back = readBundle(a.bytes, { sha256: a.sha256 })
  assert.is(back.version, fn.version)
  assert.is(back.name, 'room-average')
  assert.equal(back.layers, fn.layers)
  assert.equal(back.files, fn.files)
})

test('[W6] altered bytes, a wrong hash, a bad path, a changed manifest and a wrong version are refused', async () => {
  const fn = await loadFunctionDir(join(examples, 'hello'))
  const packed = packBundle(fn)
  const flipped = Buffer.from(packed.bytes)
  flipped[flipped.length - 3] ^= 1
  assert.is(await codeOf(() => readBundle(flipped, { sha256: packed.sha256 })), 'LAMBKIN_BUNDLE_INVALID')
  assert.is(await codeOf(() => readBundle(Buffer.from([0xff, 0x00]))), 'LAMBKIN_BUNDLE_INVALID')
  assert.is(await codeOf(() => readBundle(cbor.encode([1, 2]))), 'LAMBKIN_BUNDLE_INVALID')
  const base = { format: 1, name: fn.manifest.name, version: fn.version, manifest: fn.manifest, files: fn.files, layers: fn.layers }
  assert.ok(readBundle(cbor.encode(base)))
  assert.is(await codeOf(() => readBundle(cbor.encode({ ...base, format: 2 }))), 'LAMBKIN_BUNDLE_INVALID')
  assert.is(await codeOf(() => readBundle(cbor.encode({ ...base, files: { ...fn.files, '../escape.js': 'x' } }))), 'LAMBKIN_BUNDLE_INVALID')
  assert.is(await codeOf(() => readBundle(cbor.encode({ ...base, files: { 'other.js': 'x' } }))), 'LAMBKIN_BUNDLE_INVALID')
  assert.is(await codeOf(() => readBundle(cbor.encode({ ...base, version: '0000000000000000' }))), 'LAMBKIN_BUNDLE_INVALID')
  assert.is(await codeOf(() => readBundle(cbor.encode({ ...base, manifest: { ...fn.manifest, handler: 5 } }))), 'LAMBKIN_MANIFEST_INVALID')
  // The reader's caps apply, whatever the packer allowed.
  assert.is(await codeOf(() => readBundle(packed.bytes, { caps: { timeoutMs: 1 } })), 'LAMBKIN_LIMIT_EXCEEDS_CAP')
  assert.is(await codeOf(() => readBundle(Buffer.alloc(BUNDLE_MAX_BYTES + 1))), 'LAMBKIN_BUNDLE_INVALID')
})

test('a function over the bundle cap is refused when packed', async () => {
  const dir = join(tmp(), 'big')
  mkdirSync(dir)
  writeFileSync(join(dir, 'function.json'), JSON.stringify({ name: 'big', handler: 'index.js', triggers: [] }))
  writeFileSync(join(dir, 'index.js'), `export default () => 1\n// ${'x'.repeat(BUNDLE_MAX_BYTES)}\n`)
  assert.is(await codeOf(async () => packBundle(await loadFunctionDir(dir))), 'LAMBKIN_BUNDLE_INVALID')
})

test('keys generate writes a 0600 private key and a public key with the same key id; never overwrites', async () => {
  const dir = tmp()
  const k = generateKeys(join(dir, 'keys'))
  assert.is(statSync(k.privateFile).mode & 0o777, 0o600)
  assert.match(k.keyId, /^[0-9a-f]{16}$/)
  assert.is(readSigningKey(k.privateFile).keyId, k.keyId)
  assert.is(readTrustedKey(k.publicFile).keyId, k.keyId)
  assert.is(await codeOf(() => generateKeys(join(dir, 'keys'))), 'LAMBKIN_KEY_INVALID')
  // A private key is never taken as a trust anchor; junk and missing files are refused.
  assert.is(await codeOf(() => readTrustedKey(k.privateFile)), 'LAMBKIN_KEY_INVALID')
  writeFileSync(join(dir, 'junk.pub'), 'not a key')
  assert.is(await codeOf(() => readTrustedKey(join(dir, 'junk.pub'))), 'LAMBKIN_KEY_INVALID')
  assert.is(await codeOf(() => readSigningKey(join(dir, 'missing.key'))), 'LAMBKIN_KEY_INVALID')
})

test('[W6] a signature verifies with the trusted key; an unknown key, another key\'s signature and altered bytes are refused', async () => {
  const dir = tmp()
  const a = generateKeys(join(dir, 'a'))
  const b = generateKeys(join(dir, 'b'))
  const packed = packBundle(await loadFunctionDir(join(examples, 'hello')))
  const sig = signBundle(packed.sha256, readSigningKey(a.privateFile))
  const trustA = readTrustedKeys([a.publicFile])
  assert.is(verifyBundle(packed.bytes, sig, trustA).keyId, a.keyId)
  assert.is(await codeOf(() => verifyBundle(packed.bytes, sig, readTrustedKeys([b.publicFile]))), 'LAMBKIN_KEY_UNTRUSTED')
  assert.is(await codeOf(() => verifyBundle(packed.bytes, sig, new Map())), 'LAMBKIN_KEY_UNTRUSTED')
  // B's signature presented under A's key id.
  const forged = { ...signBundle(packed.sha256, readSigningKey(b.privateFile)), keyId: a.keyId }
  assert.is(await codeOf(() => verifySignature(forged, trustA)), 'LAMBKIN_SIGNATURE_INVALID')
  const flipped = Buffer.from(packed.bytes)
  flipped[10] ^= 1
  assert.is(await codeOf(() => verifyBundle(flipped, sig, trustA)), 'LAMBKIN_BUNDLE_INVALID')
  // The signature covers the hash: another bundle's hash with this signature fails.
  const other = packBundle(await loadFunctionDir(join(examples, 'heartbeat')))
  assert.is(await codeOf(() => verifyBundle(other.bytes, { ...sig, sha256: other.sha256 }, trustA)), 'LAMBKIN_SIGNATURE_INVALID')
  assert.is(await codeOf(() => verifySignature({ ...sig, signature: sig.signature.subarray(0, 10) }, trustA)), 'LAMBKIN_SIGNATURE_INVALID')
})

test.run()
