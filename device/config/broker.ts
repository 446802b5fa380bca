// The embedded broker's access settings: user entries (from `broker.users` and
// `broker.usersFile`), and the rule that a broker listening beyond loopback needs users.
import { readFile } from 'node:fs/promises'
import { filterProblem } from '../links/broker/acl.js'
import { exposureProblem } from '../links/broker/exposure.js'
import { parsePasswordHash } from '../../src/secrets.js'
import { configError } from './source.js'
import type { Source } from './source.js'
import type { BrokerUserConfig, DeviceConfig } from './types.js'
import { errorMessage } from '../../src/errors.js'

const ENTRY_KEYS = ['username', 'passwordHash', 'publish', 'subscribe', 'retain']
/** MQTT 3.1.1 section 1.5.3: UTF-8 without NUL; control characters refused too, as they only confuse logs. */
const USERNAME = /^[^\u0000-\u001f\u007f]{1,256}$/
/** A users file is read whole; this is far above any real list of sensors. */
const USERS_FILE_MAX_BYTES = 1024 * 1024

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function filters (raw: unknown, what: string): string[] {
  if (raw === undefined) return []
  if (!Array.isArray(raw)) throw new Error(`${what} must be an array of topic filters`)
  return raw.map((f, i) => {
    if (typeof f !== 'string') throw new Error(`${what}[${i}] must be a string`)
    const problem = filterProblem(f)
    if (problem !== undefined) throw new Error(`${what}[${i}] ${JSON.stringify(f)} ${problem}`)
    return f
  })
}

/**
 * Checks a list of user entries `{ username, passwordHash, publish?, subscribe?, retain? }`
 * (publish/subscribe: MQTT topic filters, default none; retain default false). Throws an Error
 * whose message names the entry and the field; the caller wraps it with the config key.
 */
export function parseBrokerUsers (raw: unknown): BrokerUserConfig[] {
  if (!Array.isArray(raw)) throw new Error('must be an array of { username, passwordHash, publish, subscribe, retain }')
  const seen = new Set<string>()
  return raw.map((e, i) => {
    const at = `entry ${i}`
    if (!isPlainObject(e)) throw new Error(`${at} must be an object`)
    const unknown = Object.keys(e).find((k) => !ENTRY_KEYS.includes(k))
    if (unknown !== undefined) throw new Error(`${at} has unknown key "${unknown}" (known: ${ENTRY_KEYS.join(', ')})`)
    const { username, passwordHash, retain } = e
    if (typeof username !== 'string' || !USERNAME.test(username)) throw new Error(`${at}: username must be 1 to 256 characters without control characters`)
    const who = `${at} ("${username}")`
    if (seen.has(username)) throw new Error(`${who}: username appears twice`)
    seen.add(username)
    if (typeof passwordHash !== 'string') throw new Error(`${who}: passwordHash must be a string (make one with \`lambkin broker-passwd ${username}\`)`)
    try {
      parsePasswordHash(passwordHash)
    } catch (err) {
      throw new Error(`${who}: passwordHash ${errorMessage(err)}`)
    }
    if (retain !== undefined && typeof retain !== 'boolean') throw new Error(`${who}: retain must be true or false`)
    return {
      username,
      passwordHash,
      publish: filters(e.publish, `${who}: publish`),
      subscribe: filters(e.subscribe, `${who}: subscribe`),
      retain: retain === true
    }
  })
}

async function readUsersFile (path: string, source: Source): Promise<BrokerUserConfig[]> {
  let buf: Buffer
  try {
    buf = await readFile(path)
  } catch (cause) {
    throw configError('broker.usersFile', `names ${path}, which cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, source, cause)
  }
  if (buf.length > USERS_FILE_MAX_BYTES) throw configError('broker.usersFile', `names ${path}, which is over ${USERS_FILE_MAX_BYTES} bytes`, source)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf).replace(/^\uFEFF/, '')
  } catch (cause) {
    throw configError('broker.usersFile', `names ${path}, which is not valid UTF-8`, source, cause)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    throw configError('broker.usersFile', `names ${path}, which is not valid JSON: ${errorMessage(cause)}`, source, cause)
  }
  try {
    return parseBrokerUsers(isPlainObject(parsed) && Object.keys(parsed).join() === 'users' ? parsed.users : parsed)
  } catch (err) {
    throw configError('broker.usersFile', `names ${path}, whose users are invalid: ${errorMessage(err)}`, source)
  }
}

/**
 * Reads `broker.usersFile` into `cfg.broker.users` (a name in both is refused) and applies the
 * exposure rule: a broker on a non-loopback `brokerHost` needs users unless
 * `broker.allowAnonymous` is true. Throws LAMBKIN_CONFIG_INVALID naming `broker.users`.
 */
export async function checkBrokerAccess (cfg: DeviceConfig, sources: Map<string, Source>): Promise<void> {
  const b = cfg.broker
  if (b.usersFile !== undefined) {
    const fromFile = await readUsersFile(b.usersFile, sources.get('broker.usersFile') as Source)
    const clash = fromFile.find((u) => b.users.some((v) => v.username === u.username))
    if (clash !== undefined) throw configError('broker.usersFile', `names user "${clash.username}", who is also in broker.users; keep each user in one place`, sources.get('broker.usersFile') as Source)
    b.users = [...b.users, ...fromFile]
  }
  if (cfg.brokerPort === undefined) return
  const problem = exposureProblem(cfg.brokerHost, b.users.length, b.allowAnonymous)
  if (problem !== undefined) {
    throw configError('broker.users', problem, sources.get('broker.allowAnonymous') ?? sources.get('brokerHost') ?? { kind: 'default', name: 'defaults' })
  }
}
