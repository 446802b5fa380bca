// Signing a bundle's sha256 with ed25519 and checking it against trusted keys [W6]. The signed
// message is the hash with a fixed prefix, so a signature made for a bundle can never be taken
// for a signature over anything else the same key might sign.
import { sign, verify } from 'node:crypto'
import { ErrorCodes, LambkinError } from '../errors.js'
import { SHA256_PATTERN, sha256Hex, BUNDLE_MAX_BYTES } from './format.js'
import { DESIRED_STATE_USE } from './keys.js'
import type { SigningKey, TrustedKey } from './keys.js'

/** Bytes an ed25519 signature has (RFC 8032 section 5.1.6). */
export const SIGNATURE_BYTES = 64

/** What a signature covers: `lambkin bundle v1 sha256:<hex>`. */
export function signedMessage (sha256: string): Buffer {
  return Buffer.from(`lambkin bundle v1 sha256:${sha256}`)
}

/** A bundle's detached signature, as desired state and the API carry it. */
export interface BundleSignature { sha256: string, signature: Uint8Array, keyId: string }

/** Signs a bundle's sha256 (hex). */
export function signBundle (sha256: string, key: SigningKey): BundleSignature {
  if (!SHA256_PATTERN.test(sha256)) throw new TypeError(`not a sha256: ${sha256}`)
  return { sha256, signature: sign(null, signedMessage(sha256), key.privateKey), keyId: key.keyId }
}

/**
 * Checks bundle bytes against their detached signature: size, that the bytes hash to
 * `sig.sha256`, that `sig.keyId` is trusted, and that the signature verifies with that key [W6].
 * Returns the trusted key that signed.
 * @throws LambkinError LAMBKIN_BUNDLE_INVALID (size, hash), LAMBKIN_KEY_UNTRUSTED,
 *   LAMBKIN_SIGNATURE_INVALID.
 */
export function verifyBundle (bytes: Uint8Array, sig: BundleSignature, trusted: ReadonlyMap<string, TrustedKey>): TrustedKey {
  if (bytes.byteLength > BUNDLE_MAX_BYTES) throw new LambkinError(ErrorCodes.BUNDLE_INVALID, `bundle of ${bytes.byteLength} bytes is over the ${BUNDLE_MAX_BYTES} byte cap`, { details: { reason: 'too-large' } })
  const got = sha256Hex(bytes)
  if (got !== sig.sha256) throw new LambkinError(ErrorCodes.BUNDLE_INVALID, `bundle bytes hash to sha256 ${got}, not ${sig.sha256}: they were altered or damaged on the way`, { details: { reason: 'hash' } })
  verifySignature(sig, trusted)
  return trusted.get(sig.keyId) as TrustedKey
}

/**
 * Checks a detached signature over a sha256 without the bytes (the cloud checks an upload
 * before storing it; a device checks desired state before fetching).
 * @throws LambkinError LAMBKIN_KEY_UNTRUSTED, LAMBKIN_SIGNATURE_INVALID.
 */
export function verifySignature (sig: BundleSignature, trusted: ReadonlyMap<string, TrustedKey>): void {
  const key = trusted.get(sig.keyId)
  if (key === undefined) {
    const known = trusted.size === 0 ? 'no keys are trusted here (add one with --trust <file.pub> or trustedKeys)' : `trusted key ids: ${[...trusted.keys()].join(', ')}; sign with one of those keys, or add this key's lambkin.pub with --trust`
    throw new LambkinError(ErrorCodes.KEY_UNTRUSTED, `bundle ${sig.sha256.slice(0, 12)} is signed by key ${sig.keyId}, which is not trusted; ${known}`, { details: { keyId: sig.keyId } })
  }
  if (key.use === DESIRED_STATE_USE) {
    throw new LambkinError(ErrorCodes.KEY_UNTRUSTED, `bundle ${sig.sha256.slice(0, 12)} is signed by key ${sig.keyId}, which is trusted for desired state only (a cloud's key): bundles must be signed with a deploy key (lambkin keys generate)`, { details: { keyId: sig.keyId } })
  }
  let ok = false
  try {
    ok = sig.signature.byteLength === SIGNATURE_BYTES && verify(null, signedMessage(sig.sha256), key.publicKey, sig.signature)
  } catch {
    ok = false
  }
  if (!ok) throw new LambkinError(ErrorCodes.SIGNATURE_INVALID, `bundle ${sig.sha256.slice(0, 12)}'s signature does not verify with key ${sig.keyId}: the bundle or its signature was altered`, { details: { keyId: sig.keyId } })
}
