// ed25519 signing keys (RFC 8032, through node:crypto): generating a pair as PEM files, reading
// them back, and the key id that names a public key inside bundles and desired state [W5][W6].
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { chmodSync, existsSync, rmSync } from 'node:fs'
import { readSmallFileSync } from '../small-file.js'
import { join, resolve } from 'node:path'
import { ErrorCodes, errorMessage, LambkinError } from '../errors.js'
import { writeNewFile } from '../new-file.js'
import { makeFolder } from '../data-dir.js'

/** A key id: the first 16 hex digits of sha256 over the public key's SPKI DER bytes. */
export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/

/** File names `lambkin keys generate` writes. */
export const PRIVATE_KEY_FILE = 'lambkin.key'
export const PUBLIC_KEY_FILE = 'lambkin.pub'

/** A private key ready to sign, with the id of its public half. */
export interface SigningKey { keyId: string, privateKey: KeyObject }

/**
 * A public key file's first line that limits the key to signing desired state [W5]: the cloud
 * writes its own key (`<data>/cloud-signing.pub`) with it, so a device that trusts the cloud
 * for desired state never takes a bundle the cloud signed: bundles stay the deploy key's.
 */
export const DESIRED_STATE_USE = 'desired-state'
const USE_LINE = /^lambkin-key-use: ([a-z-]+)\r?\n/

/**
 * A public key a device or the cloud trusts, with its id and the file it came from. `use`:
 * `desired-state` for a key that signs desired state only; absent, it signs bundles and desired state.
 */
export interface TrustedKey { keyId: string, publicKey: KeyObject, file?: string, use?: typeof DESIRED_STATE_USE }

/** The id of an ed25519 public key (see KEY_ID_PATTERN). */
export function keyIdOf (publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)
}

function keyError (file: string, reason: string, cause?: unknown): LambkinError {
  return new LambkinError(ErrorCodes.KEY_INVALID, `${file} ${reason}`, { cause, details: { file } })
}

function readPem (file: string, what: string): string {
  try {
    return readSmallFileSync(file).toString('utf8')
  } catch (cause) {
    throw keyError(file, `cannot be read as ${what} (${(cause as NodeJS.ErrnoException).code ?? errorMessage(cause)}); make a key pair with \`lambkin keys generate\``, cause)
  }
}

/**
 * Writes a new ed25519 pair into `dir` (created if missing): `lambkin.key` (PKCS#8 PEM, mode
 * 0600) and `lambkin.pub` (SPKI PEM). Refuses to overwrite an existing private key.
 * @throws LambkinError LAMBKIN_KEY_INVALID when `lambkin.key` already exists there, or the files cannot be written;
 * LAMBKIN_CONFIG_INVALID when `dir` cannot be a folder (a file, /proc, /sys).
 */
export function generateKeys (dir: string): { keyId: string, privateFile: string, publicFile: string } {
  const abs = resolve(dir)
  const privateFile = join(abs, PRIVATE_KEY_FILE)
  const publicFile = join(abs, PUBLIC_KEY_FILE)
  if (existsSync(privateFile)) throw keyError(privateFile, 'already exists; move it away first or choose another --out (a new key cannot sign for devices that trust the old one)')
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  // LAMBKIN_CONFIG_INVALID for a file or /proc, /sys (where mkdir -p spun for ever).
  makeFolder(abs, '--out', 0o700)
  let wrote = false
  try {
    // Whole or absent (src/new-file.ts): a full disk or a power cut must not leave an empty key
    // behind, which the next try would refuse to overwrite.
    writeNewFile(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600)
    wrote = true
    chmodSync(privateFile, 0o600)
    rmSync(publicFile, { force: true })
    writeNewFile(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), 0o644)
  } catch (cause) {
    // A private key whose public half could not be written was never used: it goes, so the next try makes a pair.
    if (wrote) rmSync(privateFile, { force: true })
    throw keyError(abs, `could not be written (${(cause as NodeJS.ErrnoException).code ?? errorMessage(cause)})`, cause)
  }
  return { keyId: keyIdOf(publicKey), privateFile, publicFile }
}

/**
 * Reads a private key file written by generateKeys (or any PKCS#8 PEM ed25519 key).
 * @throws LambkinError LAMBKIN_KEY_INVALID when unreadable, not PEM, or not ed25519.
 */
export function readSigningKey (file: string): SigningKey {
  const pem = readPem(file, 'a private key')
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(pem)
  } catch (cause) {
    throw keyError(file, 'is not a PEM private key (sign with the lambkin.key `lambkin keys generate` wrote)', cause)
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw keyError(file, `holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; lambkin signs with ed25519 only`)
  return { keyId: keyIdOf(createPublicKey(privateKey)), privateKey }
}

/**
 * Reads a public key file (`lambkin.pub`). A private key file is refused, so a secret is
 * never handed out as a trust anchor by mistake.
 * @throws LambkinError LAMBKIN_KEY_INVALID when unreadable, not an SPKI PEM, or not ed25519.
 */
export function readTrustedKey (file: string): TrustedKey {
  const text = readPem(file, 'a public key')
  const use = USE_LINE.exec(text)
  if (use !== null && use[1] !== DESIRED_STATE_USE) throw keyError(file, `says lambkin-key-use: ${use[1]}; the only use a key file may name is ${DESIRED_STATE_USE}`)
  const pem = use === null ? text : text.slice(use[0].length)
  if (pem.includes('PRIVATE KEY')) throw keyError(file, 'is a private key; trust the public half (lambkin.pub), and keep the private key with whoever deploys')
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey(pem)
  } catch (cause) {
    throw keyError(file, 'is not a PEM public key (trust the lambkin.pub `lambkin keys generate` wrote)', cause)
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw keyError(file, `holds a ${publicKey.asymmetricKeyType ?? 'unknown'} key; lambkin verifies ed25519 only`)
  return { keyId: keyIdOf(publicKey), publicKey, file, ...(use === null ? {} : { use: DESIRED_STATE_USE }) }
}

/** The text of a public key file limited to signing desired state (see DESIRED_STATE_USE). */
export function desiredStateKeyText (publicKey: KeyObject): string {
  return `lambkin-key-use: ${DESIRED_STATE_USE}\n${publicKey.export({ type: 'spki', format: 'pem' }) as string}`
}

/** Reads every file as a trusted key, keyed by key id. @throws LambkinError LAMBKIN_KEY_INVALID for the first bad file. */
export function readTrustedKeys (files: readonly string[]): Map<string, TrustedKey> {
  const out = new Map<string, TrustedKey>()
  for (const f of files) {
    const k = readTrustedKey(f)
    out.set(k.keyId, k)
  }
  return out
}
