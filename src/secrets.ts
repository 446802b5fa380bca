// Salted scrypt hashes (RFC 7914) in one text form, `scrypt$N$r$p$salt$hash` with salt and hash
// in unpadded base64url, so a config file or a registry row can hold it: the embedded broker's
// users and the cloud's device secrets. And new random secrets.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { ScryptOptions } from 'node:crypto'

/** Parameters of one stored hash. N is the CPU/memory cost (a power of two), r the block size, p parallelism. */
export interface ScryptParams { N: number, r: number, p: number }

/**
 * The cost new hashes get: N=2^14, r=8 needs 16 MiB and ~50-100 ms on a Raspberry Pi 4, the
 * figures RFC 7914 section 2 and OWASP's password storage sheet give for interactive logins.
 */
export const SCRYPT_DEFAULTS: Readonly<ScryptParams> = Object.freeze({ N: 16_384, r: 8, p: 1 })
const SALT_BYTES = 16
const KEY_BYTES = 32
/** Above this a hash would need more memory than a small board should spend on one login. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
const B64URL = /^[A-Za-z0-9_-]+$/

export interface ParsedHash extends ScryptParams { salt: Buffer, hash: Buffer }

function memoryOf (p: ScryptParams): number {
  return 128 * p.N * p.r * p.p
}

/**
 * Reads `scrypt$N$r$p$salt$hash`. Throws an Error whose message says what is wrong (the config
 * loader puts it in a LAMBKIN_CONFIG_INVALID naming the key).
 */
export function parsePasswordHash (text: string): ParsedHash {
  const parts = text.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new Error('must have the form scrypt$N$r$p$salt$hash (make one with `lambkin broker-passwd <username>`)')
  const [N, r, p] = parts.slice(1, 4).map((s) => /^\d{1,9}$/.test(s) ? Number(s) : NaN) as [number, number, number]
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 24 || (N & (N - 1)) !== 0) throw new Error(`has N=${parts[1] ?? ''}; N must be a power of two between 2 and 2^24`)
  if (!Number.isInteger(r) || r < 1 || r > 64) throw new Error(`has r=${parts[2] ?? ''}; r must be 1 to 64`)
  if (!Number.isInteger(p) || p < 1 || p > 16) throw new Error(`has p=${parts[3] ?? ''}; p must be 1 to 16`)
  if (memoryOf({ N, r, p }) > MAX_SCRYPT_MEMORY) throw new Error(`needs ${memoryOf({ N, r, p }) >> 20} MiB per check (128*N*r*p); at most ${MAX_SCRYPT_MEMORY >> 20} MiB`)
  const [salt, hash] = [parts[4] ?? '', parts[5] ?? '']
  if (!B64URL.test(salt) || !B64URL.test(hash)) throw new Error('has a salt or hash that is not base64url')
  const saltBytes = Buffer.from(salt, 'base64url')
  const hashBytes = Buffer.from(hash, 'base64url')
  if (saltBytes.length < 8) throw new Error('has a salt under 8 bytes')
  if (hashBytes.length < 16 || hashBytes.length > 64) throw new Error('has a hash that is not 16 to 64 bytes long')
  return { N, r, p, salt: saltBytes, hash: hashBytes }
}

async function derive (password: Buffer | string, salt: Buffer, length: number, p: ScryptParams): Promise<Buffer> {
  // maxmem above what the parameters need: Node's own default (32 MiB) refuses N=2^15, r=8.
  const opts: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: memoryOf(p) + 1024 * 1024 }
  return await new Promise((resolve, reject) => {
    scrypt(password, salt, length, opts, (err, key) => { if (err !== null) reject(err); else resolve(key) })
  })
}

/** A new stored form for `password`, with a fresh random salt. */
export async function hashPassword (password: string, params: ScryptParams = SCRYPT_DEFAULTS): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, KEY_BYTES, params)
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** True when `password` is the one `stored` was made from; compared in constant time. */
export async function verifyPassword (password: Buffer | string, stored: ParsedHash): Promise<boolean> {
  const key = await derive(password, stored.salt, stored.hash.length, stored)
  return timingSafeEqual(key, stored.hash)
}

/**
 * For secrets lambkin generates (newSecret: 256 random bits): N=2^10, ~2 ms. A work factor
 * guards guessable passwords; against 256 random bits it adds nothing, while a fleet
 * reconnecting after a cloud restart would pay it once per device. The stored form is the same.
 */
export const GENERATED_SECRET_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 1024, r: 8, p: 1 })

/** A new random secret: 32 bytes as base64url (43 characters). */
export function newSecret (): string {
  return randomBytes(32).toString('base64url')
}

/** Checks `password` against a stored form; false (not a throw) when the form is malformed. */
export async function verifyStored (password: Buffer | string, stored: string): Promise<boolean> {
  let parsed: ParsedHash
  try {
    parsed = parsePasswordHash(stored)
  } catch {
    return false
  }
  return await verifyPassword(password, parsed)
}
