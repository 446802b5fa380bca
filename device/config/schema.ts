// Every configuration key with its type and clamp, and the parsing of one value from a file
// (JSON types) or from the environment and flags (strings), with errors naming key and source.
import { isAbsolute, resolve } from 'node:path'
import { parseDecimalInteger } from '../../src/decimal.js'
import { controlCharProblem } from '../../src/control-chars.js'
import type { LambkinError } from '../../src/errors.js'
import { redactUrls } from '../../src/redact.js'
import { LIMIT_MINIMUMS } from '../../src/function/index.js'
import { parseBrokerUsers } from './broker.js'
import { DEVICE_ID_PATTERN } from './defaults.js'
import { MAX_TTL_MS, QUOTA_RANGE, SYNC_RANGE, WRITE_BUFFER_KIB_RANGE } from '../store/options.js'
import { isValidId } from '../../src/ids.js'
import { configError } from './source.js'
import type { Source } from './source.js'
import { errorMessage } from '../../src/errors.js'

/** `cloud.logExclude`: function names whose log records are not uploaded. */
function parseFunctionNames (raw: unknown): string[] {
  if (!Array.isArray(raw) || !raw.every((n) => isValidId(n))) throw new Error('must be an array of function names')
  return raw as string[]
}

export type Field =
  | { kind: 'int', min: number, max: number }
  /** A decimal number (fractions allowed), e.g. a rate from 0 to 1. */
  | { kind: 'number', min: number, max: number }
  /** A list of readable files (a JSON array in a file; comma-separated from env or flags). */
  | { kind: 'paths', rule: string }
  | { kind: 'bool' }
  | { kind: 'string', min: number, max: number, pattern?: RegExp, rule?: string, secret?: boolean }
  | { kind: 'host' }
  /** `file`: must name a readable file when the config is loaded (TLS material). */
  | { kind: 'path', file?: boolean }
  | { kind: 'url', protocols: readonly string[] }
  /** A JSON value checked by `parse`, which throws an Error saying what is wrong (JSON text from env and flags). */
  | { kind: 'json', rule: string, parse: (raw: unknown) => unknown }
export interface Group { kind: 'group', fields: Readonly<Record<string, Field | Group>> }

const int = (min: number, max: number): Field => ({ kind: 'int', min, max })
const group = (fields: Record<string, Field | Group>): Group => ({ kind: 'group', fields })
const DAY_MS = 86_400_000
const MiB = 1024 * 1024

const connection = {
  url: { kind: 'url', protocols: ['mqtt:', 'mqtts:', 'ws:', 'wss:'] },
  username: { kind: 'string', min: 1, max: 256 },
  password: { kind: 'string', min: 0, max: 1024, secret: true },
  caFile: { kind: 'path', file: true },
  certFile: { kind: 'path', file: true },
  keyFile: { kind: 'path', file: true },
  rejectUnauthorized: { kind: 'bool' },
  keepaliveSec: int(5, 3600),
  reconnectMs: int(100, 300_000)
} as const satisfies Record<string, Field>

export const SCHEMA: Group = group({
  id: { kind: 'string', min: 1, max: 63, pattern: DEVICE_ID_PATTERN, rule: 'a device id of 1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit' },
  dataDir: { kind: 'path' },
  functionsDir: { kind: 'path' },
  layersDir: { kind: 'path' },
  mqtt: group({
    ...connection,
    clientId: { kind: 'string', min: 1, max: 128, pattern: /^[\x21-\x7e]+$/, rule: 'a client id of 1 to 128 printable characters without spaces' },
    // 4 is MQTT 3.1.1, 5 is MQTT 5 (the CONNECT packet's protocol level).
    protocolVersion: int(4, 5),
    // MQTT 5 section 3.2.2.3.6: the smallest useful packet up to MQTT's own ceiling.
    maxPacketBytes: int(64, 268_435_460)
  }),
  // The cloud link (docs/wire.md): its user name is always the device id [W1].
  cloud: group({
    ...connection,
    heartbeatMs: int(1000, 3_600_000),
    reconnectMaxMs: int(100, 3_600_000),
    uploadBytesPerSec: int(0, 2 ** 40),
    dailyUploadBytes: int(0, 2 ** 50),
    uploadLogs: { kind: 'bool' },
    logExclude: { kind: 'json', rule: 'an array of function names', parse: parseFunctionNames },
    batchRecords: int(1, 5000),
    ackTimeoutMs: int(1000, 600_000)
  }),
  brokerPort: int(0, 65_535),
  brokerHost: { kind: 'host' },
  broker: group({
    users: { kind: 'json', rule: 'an array of { username, passwordHash, publish, subscribe, retain }', parse: parseBrokerUsers },
    usersFile: { kind: 'path', file: true },
    allowAnonymous: { kind: 'bool' },
    // Floor: a CONNECT with a long client id, user name and password still fits.
    maxPacketBytes: int(1024, 256 * MiB),
    maxConnections: int(1, 65_536),
    connectTimeoutMs: int(1000, 300_000),
    // 65,535 s is the largest keepalive MQTT can carry (section 3.1.2.10).
    maxKeepaliveSec: int(1, 65_535),
    maxTaken: int(1, 65_536)
  }),
  metricsPort: int(0, 65_535),
  metricsHost: { kind: 'host' },
  // The agent's console (device/function-log-lines.ts): ctx.log lines from this level up.
  functionLogs: { kind: 'string', min: 3, max: 5, pattern: /^(?:debug|info|warn|error|off)$/, rule: 'debug, info, warn, error or off' },
  // The local functions folder reloading itself on change (device/watch/).
  watch: group({
    functions: { kind: 'bool' },
    debounceMs: int(10, 60_000)
  }),
  metricsSnapshotMs: int(1000, DAY_MS),
  outbox: group({
    quotaBytes: int(...QUOTA_RANGE),
    syncIntervalMs: int(...SYNC_RANGE),
    // The outbox's record kinds; 0 means never expires, as in the store.
    ttlMs: group({
      log: int(0, MAX_TTL_MS),
      metric: int(0, MAX_TTL_MS),
      emit: int(0, MAX_TTL_MS),
      result: int(0, MAX_TTL_MS),
      'dead-letter': int(0, MAX_TTL_MS)
    }),
    writeBufferKiB: int(...WRITE_BUFFER_KIB_RANGE)
  }),
  invocation: group({
    maxConcurrent: int(1, 1024),
    queueDepth: int(1, 1_000_000),
    workers: int(1, 64),
    drainTimeoutMs: int(0, 600_000),
    maxHops: int(1, 1000)
  }),
  // Public keys (lambkin.pub) whose signatures this device accepts on deployed bundles [W6].
  trustedKeys: { kind: 'paths', rule: 'an array of public key files (lambkin.pub)' },
  // The deployer (device/deployer): health gate after a swap, and bundle fetches.
  deploy: group({
    healthWindowMs: int(0, DAY_MS),
    maxErrorRate: { kind: 'number', min: 0, max: 1 },
    minInvocations: int(1, 1_000_000),
    fetchTimeoutMs: int(100, 600_000),
    retryMs: int(100, 3_600_000)
  }),
  // Floors: what a sandbox needs to run at all. Ceilings: a wasm32 memory (4 GiB), a day,
  // and the stack the sandbox measured as safe (MAX_SAFE_STACK_KIB in src/sandbox/budget.ts).
  caps: group({
    memoryKiB: int(LIMIT_MINIMUMS.memoryKiB, 4_194_304),
    timeoutMs: int(LIMIT_MINIMUMS.timeoutMs, DAY_MS),
    instructions: int(LIMIT_MINIMUMS.instructions, 1e15),
    concurrency: int(LIMIT_MINIMUMS.concurrency, 1024),
    stackKiB: int(LIMIT_MINIMUMS.stackKiB, 1024)
  })
})

/** The field at a dotted key, or undefined for keys that do not exist. */
export function fieldAt (key: string): Field | Group | undefined {
  let node: Field | Group = SCHEMA
  for (const part of key.split('.')) {
    if (node.kind !== 'group' || !Object.hasOwn(node.fields, part)) return undefined
    node = node.fields[part] as Field | Group
  }
  return node
}

function shown (field: Field, raw: unknown): string {
  if (field.kind === 'string' && field.secret === true) return 'a hidden value'
  if (raw === undefined) return 'nothing'
  if (field.kind === 'url' && typeof raw === 'string' && raw.includes('@')) return 'a URL with credentials (not shown)'
  let s = JSON.stringify(raw) ?? String(raw)
  // Credentials in a URL are not echoed back into logs.
  s = redactUrls(s)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** What a value of this field must be, in words (errors and the usage text share it). */
export function ruleOf (field: Field): string {
  switch (field.kind) {
    case 'int': return `an integer between ${field.min} and ${field.max}`
    case 'number': return `a number between ${field.min} and ${field.max}`
    case 'paths': return field.rule
    case 'bool': return 'true or false'
    case 'string': return field.rule ?? `a string of ${field.min} to ${field.max} characters`
    case 'host': return 'a host name or IP address'
    case 'path': return field.file === true ? 'the path of a readable file' : 'a folder path'
    case 'url': return `a URL starting with ${field.protocols.map((p) => `${p}//`).join(', ')}`
    case 'json': return field.rule
  }
}

const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])
const HOST = /^[A-Za-z0-9._:%[\]-]{1,253}$/
/** RFC 3986 userinfo: unreserved, sub-delims, ':' and %XX escapes (which must be valid). */
const USERINFO = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*$/

/**
 * Refuses a text value or path holding a control character (a line end kept from a file saved
 * with Windows line ends, say): the character and its place named, the value never shown.
 * @throws LambkinError LAMBKIN_CONFIG_INVALID naming `key` and `source`.
 */
export function refuseControl (key: string, raw: string, source: Source): void {
  const problem = controlCharProblem(raw)
  if (problem !== undefined) throw configError(key, problem, source)
}

/**
 * Checks one value and returns it in its final form. Files must use the JSON type itself;
 * the environment and flags only have strings, so those are parsed. Relative paths resolve
 * against the config file's folder, or the working directory for the other sources.
 */
export function parseValue (key: string, field: Field, raw: unknown, source: Source, cwd: string): unknown {
  const fromText = source.kind === 'env' || source.kind === 'flag'
  // A config file's "1024" or "true" is a JSON string, not the number or boolean it reads as.
  const quoted = !fromText && typeof raw === 'string' && (field.kind === 'int' || field.kind === 'number' || field.kind === 'bool') ? ' (a JSON string: write it without quotes)' : ''
  const bad = (how = ''): LambkinError => configError(key, `must be ${ruleOf(field)}${how}, got ${shown(field, raw)}${quoted}`, source)
  switch (field.kind) {
    case 'int': {
      let n = raw
      // Text is plain decimal digits: "1e3", "0x10" or "8.0" are refused, not reinterpreted.
      if (fromText && typeof raw === 'string') {
        n = parseDecimalInteger(raw.trim())
        if (n === undefined) throw bad(' in plain decimal digits')
      }
      if (typeof n !== 'number' || !Number.isInteger(n) || n < field.min || n > field.max) throw bad()
      return n
    }
    case 'number': {
      let n = raw
      if (fromText && typeof raw === 'string') n = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : undefined
      if (typeof n !== 'number' || !Number.isFinite(n) || n < field.min || n > field.max) throw bad()
      return n
    }
    case 'paths': {
      const list = fromText && typeof raw === 'string' ? raw.split(',').map((p) => p.trim()).filter((p) => p !== '') : raw
      if (!Array.isArray(list) || list.length > 100 || !list.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 4096 && !p.includes('\0'))) throw bad()
      return (list as string[]).map((p) => isAbsolute(p) ? resolve(p) : resolve(source.kind === 'file' ? source.baseDir : cwd, p))
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw
      if (fromText && typeof raw === 'string') {
        const t = raw.trim().toLowerCase()
        if (TRUE.has(t)) return true
        if (FALSE.has(t)) return false
      }
      throw bad()
    }
    case 'string': {
      if (typeof raw !== 'string' || raw.length < field.min || raw.length > field.max) throw bad()
      // A line end kept from an env file saved with CRLF, or written into the JSON: invisible in
      // the value, it would make a right password a wrong one. Named, never shown (secrets).
      refuseControl(key, raw, source)
      if (field.pattern !== undefined && !field.pattern.test(raw)) throw bad()
      return raw
    }
    case 'host': {
      if (typeof raw !== 'string' || !HOST.test(raw)) throw bad()
      return raw
    }
    case 'path': {
      if (typeof raw !== 'string' || raw.length === 0 || raw.length > 4096 || raw.includes('\0')) throw bad()
      // "data\r" from a CRLF env file would be a new, empty folder: the store in "data" stranded.
      refuseControl(key, raw, source)
      if (isAbsolute(raw)) return resolve(raw)
      return resolve(source.kind === 'file' ? source.baseDir : cwd, raw)
    }
    case 'url': {
      if (typeof raw !== 'string') throw bad()
      // Credentials must be written as RFC 3986 allows (section 3.2.1: unreserved, %XX and
      // sub-delims); anything else (a space, '#', '/', a bad %-escape) would be parsed as
      // something else, and echoed back in errors and log lines with the password in it.
      const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^@]*)@/i.exec(raw)?.[1]
      if (/\s|\\/.test(raw) || (userinfo !== undefined && !USERINFO.test(userinfo))) {
        throw configError(key, `must be a URL whose user name and password (if any) are percent-encoded (RFC 3986 section 3.2.1); better, leave them out of the URL and set ${key.replace(/\.url$/, '')}.username and .password`, source)
      }
      let url: URL
      try {
        url = new URL(raw)
      } catch {
        throw bad('; check its host and port (1 to 65535)')
      }
      if (!field.protocols.includes(url.protocol)) throw bad()
      if (url.hostname === '') throw configError(key, 'must name a host (and may give a port from 1 to 65535)', source)
      return raw
    }
    case 'json': {
      // From the environment or a flag the value is JSON text (a unit file or an image sets
      // every key that way).
      let value = raw
      if (fromText) {
        try {
          value = JSON.parse(raw as string)
        } catch (err) {
          throw configError(key, `must be ${field.rule}, written as JSON text: ${errorMessage(err)}`, source)
        }
      }
      try {
        return field.parse(value)
      } catch (err) {
        // A parser that refuses the whole value says "must be <the rule>" itself: not twice.
        const why = errorMessage(err)
        throw configError(key, why.startsWith('must be ') ? why : `must be ${field.rule}: ${why}`, source)
      }
    }
  }
}
