// Salted scrypt hashes for device secrets and broker passwords (node:crypto), and random
// secrets. One owner for the stored form, shared by the device's embedded broker and the cloud.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto'
import type { ScryptOptions } from 'node:crypto'

export interface ScryptParams { N: number, r: number, p: number }

/** For passwords people choose: N=2^14, r=8, p=1 (RFC 7914's interactive-login figures; ~16 MiB, ~40 ms here). */
export const SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 16384, r: 8, p: 1 })

/**
 * For secrets lambkin generates (newSecret: 256 random bits): N=2^10, ~2 ms. A work factor
 * guards guessable passwords; against 256 random bits it adds nothing, while a fleet
 * reconnecting after a cloud restart would pay it once per device. The stored form is the same.
 */
export const GENERATED_SECRET_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 1024, r: 8, p: 1 })
const KEY_BYTES = 32
const SALT_BYTES = 16

function scrypt (secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r }
  return new Promise((resolve, reject) => scryptCb(secret, salt, KEY_BYTES, opts, (err, key) => { if (err === null) resolve(key); else reject(err) }))
}

/**
 * Hashes `secret` with a fresh 16-byte salt and `params` (SCRYPT_PARAMS for people's passwords,
 * GENERATED_SECRET_PARAMS for newSecret's). Returns `scrypt$N$r$p$<salt b64url>$<hash b64url>`,
 * the only form in which secrets are stored.
 */
export async function hashSecret (secret: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const { N, r, p } = params
  const key = await scrypt(secret, salt, params)
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** True for a string of the form hashSecret produces (parameters within sane bounds). */
export function isSecretHash (stored: unknown): stored is string {
  if (typeof stored !== 'string') return false
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = parts.slice(1, 4).map(Number)
  return Number.isInteger(Math.log2(N)) && N >= 2 && N <= 2 ** 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16 && parts[4].length > 0 && parts[5].length > 0
}

/** Checks `secret` against a stored hash in constant time; false for a malformed hash. */
export async function verifySecret (secret: string, stored: string): Promise<boolean> {
  if (!isSecretHash(stored)) return false
  const parts = stored.split('$')
  const expected = Buffer.from(parts[5], 'base64url')
  const key = await scrypt(secret, Buffer.from(parts[4], 'base64url'), { N: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) })
  return expected.length === key.length && timingSafeEqual(expected, key)
}

/** A new random secret: 32 bytes as base64url (43 characters). */
export function newSecret (): string {
  return randomBytes(32).toString('base64url')
}
