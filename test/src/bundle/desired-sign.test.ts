// Desired state signed end to end [W5]: the canonical text covers the device id, the deployment
// id and every field of every version; a signature survives the wire (CBOR, parseDesired) and
// function order, and breaks on any change; a key file marked for desired state signs desired
// state but never a bundle.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { desiredMessage, desiredStateKeyText, generateKeys, keyIdOf, readSigningKey, readTrustedKey, readTrustedKeys, signBundle, signDesired, verifyDesired, verifySignature } from '../../../src/bundle/index.js'
import type { SigningKey } from '../../../src/bundle/index.js'
import { decodeFrame, encodeFrame, parseDesired } from '../../../src/wire/index.js'
import type { DesiredFrame, DesiredVersion } from '../../../src/wire/index.js'

const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-desired-sign-'))
const deploy = generateKeys(path.join(dir, 'deploy'))
const deployKey = readSigningKey(deploy.privateFile)
const stranger = readSigningKey(generateKeys(path.join(dir, 'stranger')).privateFile)

/** A cloud's key: the private half as a SigningKey, the public half in a file marked for desired state only. */
function cloudKey (): { key: SigningKey, pubFile: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const pubFile = path.join(dir, `cloud-${keyIdOf(publicKey)}.pub`)
  writeFileSync(pubFile, desiredStateKeyText(publicKey))
  return { key: { keyId: keyIdOf(publicKey), privateKey }, pubFile }
}

const version = (c: string, number = 1): DesiredVersion => ({
  version: c.repeat(16),
  number,
  sha256: c.repeat(64),
  size: 100,
  signature: new Uint8Array(64).fill(number),
  keyId: deployKey.keyId
})
const frame = (deploymentId = 5): DesiredFrame => ({ deploymentId, functions: [{ name: 'b', live: version('b') }, { name: 'a', live: version('a'), canary: { ...version('c', 2), weight: 10 } }], time: 1 })

test('[W5] the signed text names the device and deployment and every version field, functions by name', () => {
  const text = desiredMessage('gh-01', frame()).toString()
  assert.equal(text.split('\n').slice(0, 3), ['lambkin desired v1', 'device gh-01', 'deployment 5'])
  assert.match(text, `function a live ${'a'.repeat(16)} 1 ${'a'.repeat(64)} 100 ${deployKey.keyId} ${'01'.repeat(64)} canary ${'c'.repeat(16)} 2 ${'c'.repeat(64)} 100 ${deployKey.keyId} ${'02'.repeat(64)} 10\nfunction b live`)
  const reordered = { ...frame(), functions: [...frame().functions].reverse() }
  assert.equal(desiredMessage('gh-01', reordered), desiredMessage('gh-01', frame()))
})

test('[W5] a signed desired state verifies after the wire; any change to id, device, version or weight breaks it', () => {
  const { key, pubFile } = cloudKey()
  const trusted = readTrustedKeys([pubFile, deploy.publicFile])
  const f = frame()
  const signed = { ...f, auth: signDesired('gh-01', f, key) }
  const back = parseDesired(decodeFrame(encodeFrame(signed as unknown as Record<string, unknown>), 1 << 20))
  assert.is(verifyDesired('gh-01', back, trusted).keyId, key.keyId)
  const code = (fn: () => unknown): string | undefined => { try { fn(); return undefined } catch (err) { return (err as { code: string }).code } }
  assert.is(code(() => verifyDesired('gh-02', back, trusted)), 'LAMBKIN_SIGNATURE_INVALID', 'another device\'s state')
  assert.is(code(() => verifyDesired('gh-01', { ...back, deploymentId: Number.MAX_SAFE_INTEGER }, trusted)), 'LAMBKIN_SIGNATURE_INVALID')
  const older = { ...back, functions: [{ name: 'b', live: version('d') }, back.functions[1]] }
  assert.is(code(() => verifyDesired('gh-01', older, trusted)), 'LAMBKIN_SIGNATURE_INVALID', 'an old signed bundle with the new id')
  const weight = { ...back, functions: [back.functions[0], { ...back.functions[1], canary: { ...version('c', 2), weight: 90 } }] }
  assert.is(code(() => verifyDesired('gh-01', weight, trusted)), 'LAMBKIN_SIGNATURE_INVALID')
  assert.is(code(() => verifyDesired('gh-01', f, trusted)), 'LAMBKIN_DESIRED_UNSIGNED')
  assert.is(code(() => verifyDesired('gh-01', { ...f, auth: signDesired('gh-01', f, stranger) }, trusted)), 'LAMBKIN_KEY_UNTRUSTED')
  // A deploy key may sign desired state too (a cloud with --signing-key set to one).
  assert.is(verifyDesired('gh-01', { ...f, auth: signDesired('gh-01', f, deployKey) }, trusted).keyId, deployKey.keyId)
  let bad = 'none'
  try { parseDesired({ ...signed, auth: { keyId: 'xyz', signature: new Uint8Array(3) } }) } catch (err) { bad = (err as { code: string }).code }
  assert.is(bad, 'LAMBKIN_WIRE_INVALID')
})

test('[W5] a key file marked for desired state never signs a bundle; an unknown use is refused', () => {
  const { key, pubFile } = cloudKey()
  const k = readTrustedKey(pubFile)
  assert.equal([k.keyId, k.use], [key.keyId, 'desired-state'])
  assert.is(readTrustedKey(deploy.publicFile).use, undefined)
  const sha = 'e'.repeat(64)
  let code = 'none'
  try { verifySignature(signBundle(sha, key), readTrustedKeys([pubFile])) } catch (err) { code = (err as { code: string }).code }
  assert.is(code, 'LAMBKIN_KEY_UNTRUSTED')
  verifySignature(signBundle(sha, deployKey), readTrustedKeys([pubFile, deploy.publicFile]))
  const odd = path.join(dir, 'odd.pub')
  writeFileSync(odd, readFileSync(pubFile, 'utf8').replace('desired-state', 'everything'))
  code = 'none'
  try { readTrustedKey(odd) } catch (err) { code = (err as { code: string }).code }
  assert.is(code, 'LAMBKIN_KEY_INVALID')
})

test.run()
