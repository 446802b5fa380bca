// function.json: the schema of DESIGN.md section 2, its defaults and the device's caps.
// validateManifest() refuses anything unknown or out of range with LAMBKIN_MANIFEST_INVALID
// naming the key, and returns a complete, frozen manifest.
import cron from 'node-cron'
import { ErrorCodes, LambkinError } from '../errors.js'
import { isValidTopicFilter } from './topic.js'

export interface Limits { memoryKiB: number, timeoutMs: number, instructions: number, concurrency: number, stackKiB: number }

export const LIMIT_DEFAULTS: Readonly<Limits> = Object.freeze({ memoryKiB: 32768, timeoutMs: 1000, instructions: 10_000_000, concurrency: 1, stackKiB: 64 })
export const LIMIT_CAPS: Readonly<Limits> = Object.freeze({ memoryKiB: 262144, timeoutMs: 900_000, instructions: 1e12, concurrency: 64, stackKiB: 512 })
/** A wasm instance of QuickJS needs 16 MiB, so no budget can be smaller. */
export const LIMIT_MINIMUMS: Readonly<Limits> = Object.freeze({ memoryKiB: 16384, timeoutMs: 1, instructions: 10_000, concurrency: 1, stackKiB: 16 })

export interface MqttTrigger { mqtt: string, qos: 0 | 1, batch?: { size: number, windowMs: number } }
export interface SensorTrigger {
  sensor: string
  path: string
  everyMs: number
  scale: number
  deadband: number
  format: 'auto' | 'number' | 'w1'
  sim?: { min?: number, max?: number, periodMs?: number, step?: number, seed?: number }
}
export interface ScheduleTrigger { schedule: string, timezone: string, catchUp: number }
export type Trigger = MqttTrigger | SensorTrigger | ScheduleTrigger

export interface FunctionManifest {
  name: string
  handler: string
  triggers: Trigger[]
  limits: Limits
  env: Record<string, string>
  permissions: { publish: string[] }
  retry: { attempts: number, backoffMs: number }
  layers: string[]
  provisioned: number
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/
const TOP_KEYS = new Set(['name', 'handler', 'triggers', 'limits', 'env', 'permissions', 'retry', 'layers', 'provisioned', 'description'])

function bad (key: string, reason: string, code: typeof ErrorCodes.MANIFEST_INVALID | typeof ErrorCodes.LIMIT_EXCEEDS_CAP = ErrorCodes.MANIFEST_INVALID): never {
  throw new LambkinError(code, `function.json "${key}" ${reason}`, { details: { key, reason } })
}

function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function object (v: unknown, key: string, allowed: string[]): Record<string, unknown> {
  if (!isObject(v)) bad(key, 'must be an object')
  for (const k of Object.keys(v)) if (!allowed.includes(k)) bad(`${key}.${k}`, `is not a known key (expected one of ${allowed.join(', ')})`)
  return v
}

function int (v: unknown, key: string, min: number, max: number, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(key, `must be an integer, got ${JSON.stringify(v)}`)
  if (v < min || v > max) bad(key, `must be between ${min} and ${max}, got ${v}`)
  return v
}

function num (v: unknown, key: string, fallback: number, min = -Infinity): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(key, `must be a finite number, got ${JSON.stringify(v)}`)
  if (v < min) bad(key, `must be at least ${min}, got ${v}`)
  return v
}

function str (v: unknown, key: string): string {
  if (typeof v !== 'string' || v.length === 0) bad(key, `must be a non-empty string, got ${JSON.stringify(v)}`)
  return v
}

function filters (v: unknown, key: string): string[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) bad(key, 'must be an array of MQTT topic filters')
  return v.map((f, i) => {
    if (typeof f !== 'string' || !isValidTopicFilter(f)) bad(`${key}[${i}]`, `is not a valid MQTT topic filter: ${JSON.stringify(f)}`)
    return f
  })
}

function limits (v: unknown, caps: Limits): Limits {
  const raw = v === undefined ? {} : object(v, 'limits', Object.keys(LIMIT_DEFAULTS))
  const out = { ...LIMIT_DEFAULTS }
  for (const k of Object.keys(LIMIT_DEFAULTS) as Array<keyof Limits>) {
    if (raw[k] === undefined) continue
    const n = int(raw[k], `limits.${k}`, LIMIT_MINIMUMS[k], Number.MAX_SAFE_INTEGER)
    if (n > caps[k]) bad(`limits.${k}`, `is ${n}, above this device's cap of ${caps[k]}`, ErrorCodes.LIMIT_EXCEEDS_CAP)
    out[k] = n
  }
  return out
}

function validTimezone (tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

function trigger (v: unknown, i: number): Trigger {
  const key = `triggers[${i}]`
  if (!isObject(v)) bad(key, 'must be an object with one of "mqtt", "sensor" or "schedule"')
  const kinds = ['mqtt', 'sensor', 'schedule'].filter((k) => k in v)
  if (kinds.length !== 1) bad(key, `must have exactly one of "mqtt", "sensor" or "schedule", found ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`)
  if (kinds[0] === 'mqtt') {
    const t = object(v, key, ['mqtt', 'qos', 'batch'])
    if (typeof t.mqtt !== 'string' || !isValidTopicFilter(t.mqtt)) bad(`${key}.mqtt`, `is not a valid MQTT topic filter: ${JSON.stringify(t.mqtt)}`)
    const qos = int(t.qos, `${key}.qos`, 0, 1, 1) as 0 | 1
    if (t.batch === undefined) return { mqtt: t.mqtt, qos }
    const b = object(t.batch, `${key}.batch`, ['size', 'windowMs'])
    return { mqtt: t.mqtt, qos, batch: { size: int(b.size, `${key}.batch.size`, 1, 10_000), windowMs: int(b.windowMs, `${key}.batch.windowMs`, 1, 60_000) } }
  }
  if (kinds[0] === 'sensor') {
    const t = object(v, key, ['sensor', 'path', 'everyMs', 'scale', 'deadband', 'format', 'sim'])
    const name = str(t.sensor, `${key}.sensor`)
    if (!NAME_PATTERN.test(name)) bad(`${key}.sensor`, `must match ${NAME_PATTERN}, got "${name}"`)
    const path = str(t.path, `${key}.path`)
    if (path.startsWith('sim:') && !['sim:sine', 'sim:random-walk'].includes(path)) bad(`${key}.path`, `unknown simulated sensor "${path}" (use sim:sine or sim:random-walk)`)
    const format = t.format ?? 'auto'
    if (!['auto', 'number', 'w1'].includes(format as string)) bad(`${key}.format`, 'must be "auto", "number" or "w1"')
    const out: SensorTrigger = {
      sensor: name,
      path,
      everyMs: int(t.everyMs, `${key}.everyMs`, 10, 86_400_000, 1000),
      scale: num(t.scale, `${key}.scale`, 1),
      deadband: num(t.deadband, `${key}.deadband`, 0, 0),
      format: format as SensorTrigger['format']
    }
    if (t.sim !== undefined) {
      const s = object(t.sim, `${key}.sim`, ['min', 'max', 'periodMs', 'step', 'seed'])
      for (const k of Object.keys(s)) num(s[k], `${key}.sim.${k}`, 0)
      out.sim = s as SensorTrigger['sim']
    }
    return out
  }
  const t = object(v, key, ['schedule', 'timezone', 'catchUp'])
  const expr = str(t.schedule, `${key}.schedule`)
  if (!cron.validate(expr)) bad(`${key}.schedule`, `is not a valid cron expression: "${expr}" (5 fields, or 6 with seconds first)`)
  const timezone = t.timezone === undefined ? 'UTC' : str(t.timezone, `${key}.timezone`)
  if (!validTimezone(timezone)) bad(`${key}.timezone`, `is not a known IANA time zone: "${timezone}"`)
  return { schedule: expr, timezone, catchUp: int(t.catchUp, `${key}.catchUp`, 0, 1000, 0) }
}

export function validateManifest (raw: unknown, opts: { caps?: Partial<Limits> } = {}): FunctionManifest {
  const caps = { ...LIMIT_CAPS, ...opts.caps }
  if (!isObject(raw)) bad('(root)', 'must be a JSON object')
  for (const k of Object.keys(raw)) if (!TOP_KEYS.has(k)) bad(k, `is not a known key (expected one of ${[...TOP_KEYS].join(', ')})`)
  const name = str(raw.name, 'name')
  if (!NAME_PATTERN.test(name) || name === 'layers') bad('name', `must match ${NAME_PATTERN} and not be "layers", got "${name}"`)
  const handler = raw.handler === undefined ? 'index.js' : str(raw.handler, 'handler')
  if (!/\.(m?js)$/.test(handler) || handler.startsWith('/') || handler.split('/').includes('..')) bad('handler', 'must be a relative .js or .mjs path inside the function folder')
  if (raw.triggers !== undefined && !Array.isArray(raw.triggers)) bad('triggers', 'must be an array')
  const triggers = ((raw.triggers ?? []) as unknown[]).map(trigger)
  const lim = limits(raw.limits, caps)
  const env: Record<string, string> = {}
  if (raw.env !== undefined) {
    if (!isObject(raw.env)) bad('env', 'must be an object of strings')
    for (const [k, v] of Object.entries(raw.env)) {
      if (!ENV_KEY.test(k)) bad(`env.${k}`, 'is not a valid variable name')
      if (typeof v !== 'string') bad(`env.${k}`, `must be a string, got ${JSON.stringify(v)}`)
      env[k] = v
    }
    if (Buffer.byteLength(JSON.stringify(env)) > 16 * 1024) bad('env', 'is larger than 16 KiB')
  }
  const perms = raw.permissions === undefined ? {} : object(raw.permissions, 'permissions', ['publish'])
  const retryRaw = raw.retry === undefined ? {} : object(raw.retry, 'retry', ['attempts', 'backoffMs'])
  const retry = { attempts: int(retryRaw.attempts, 'retry.attempts', 0, 10, 0), backoffMs: int(retryRaw.backoffMs, 'retry.backoffMs', 0, 3_600_000, 100) }
  if (raw.layers !== undefined && !Array.isArray(raw.layers)) bad('layers', 'must be an array of layer names')
  const layers = ((raw.layers ?? []) as unknown[]).map((l, i) => {
    if (typeof l !== 'string' || !NAME_PATTERN.test(l)) bad(`layers[${i}]`, `must be a layer name matching ${NAME_PATTERN}`)
    return l
  })
  const provisioned = int(raw.provisioned, 'provisioned', 0, lim.concurrency, 0)
  return deepFreeze({ name, handler, triggers, limits: lim, env, permissions: { publish: filters(perms.publish, 'permissions.publish') }, retry, layers, provisioned })
}

function deepFreeze<T> (v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}
