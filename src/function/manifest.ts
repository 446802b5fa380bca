// function.json: the schema docs/functions.md documents (docs/architecture.md, "Functions").
// validateManifest() refuses anything unknown or out of range naming the key path, and
// returns a complete, deeply frozen manifest.
import { array, bad, int, isObject, object, show, str } from './check.js'
import { resolveCaps, validateLimits } from './limits.js'
import type { Limits } from './limits.js'
import { isValidTopicFilter, topicFilterProblem } from './topic-filter.js'
import { validateTrigger } from './triggers.js'
import type { Trigger } from './triggers.js'
import { deepFreeze } from '../deep-freeze.js'
import { ID_PATTERN } from '../ids.js'

/** The values are frozen at runtime; the types stay mutable so callers can copy them freely. */
export interface FunctionManifest {
  name: string
  handler: string
  triggers: Trigger[]
  limits: Limits
  env: Record<string, string>
  permissions: { publish: string[] }
  /**
   * `attempts`: retries after a failed first attempt (Lambda's MaximumRetryAttempts), so the
   * most tries in all is attempts + 1. `backoffMs`: the wait before the first retry, doubled
   * for each further one.
   */
  retry: { attempts: number, backoffMs: number }
  layers: string[]
  provisioned: number
}

/** Function, sensor and layer names (the device id rule of W1). */
export const NAME_PATTERN = ID_PATTERN
/** `layers/` beside the function folders holds layers, so no function may take that name. */
export const RESERVED_NAMES = Object.freeze(['layers'])
export const ENV_MAX_BYTES = 16 * 1024
/** function.json may be at most this many bytes (the largest valid manifest is far smaller). */
export const MANIFEST_MAX_BYTES = 256 * 1024
/** Nesting deeper than this is refused before validation (the schema itself nests 4 deep). */
export const MANIFEST_MAX_DEPTH = 32
export const MANIFEST_DEFAULTS = Object.freeze({
  handler: 'index.js',
  retry: Object.freeze({ attempts: 0, backoffMs: 100 }),
  provisioned: 0
})

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/
const TOP_KEYS = Object.freeze(['name', 'handler', 'triggers', 'limits', 'env', 'permissions', 'retry', 'layers', 'provisioned'])

export function validateManifest (raw: unknown, opts: { caps?: Partial<Limits> } = {}): FunctionManifest {
  const caps = resolveCaps(opts.caps)
  const m = object(raw, '', TOP_KEYS)
  const name = str(m.name, 'name')
  if (!NAME_PATTERN.test(name)) bad('name', `must match ${String(NAME_PATTERN)} (lower case, digits, "-" and "_", up to 63), got ${show(name)}`)
  if (RESERVED_NAMES.includes(name)) bad('name', `must not be ${show(name)}: that folder name is reserved for layers`)
  const triggers = m.triggers === undefined ? [] : array(m.triggers, 'triggers', 'triggers').map(validateTrigger)
  const limits = validateLimits(m.limits, caps)
  const perms = m.permissions === undefined ? {} : object(m.permissions, 'permissions', ['publish'])
  const retryRaw = m.retry === undefined ? {} : object(m.retry, 'retry', ['attempts', 'backoffMs'])
  const manifest: FunctionManifest = {
    name,
    handler: handler(m.handler),
    triggers,
    limits,
    env: env(m.env),
    permissions: { publish: publishFilters(perms.publish) },
    retry: {
      attempts: int(retryRaw.attempts, 'retry.attempts', 0, 10, MANIFEST_DEFAULTS.retry.attempts),
      backoffMs: int(retryRaw.backoffMs, 'retry.backoffMs', 0, 3_600_000, MANIFEST_DEFAULTS.retry.backoffMs)
    },
    layers: layers(m.layers),
    provisioned: provisioned(m.provisioned, limits.concurrency)
  }
  return deepFreeze(manifest)
}

/** A POSIX path inside the folder; `./` segments are dropped so it matches the loaded file keys. */
function handler (v: unknown): string {
  if (v === undefined) return MANIFEST_DEFAULTS.handler
  const h = str(v, 'handler')
  if (!/\.m?js$/.test(h)) bad('handler', `must name a .js or .mjs file, got ${show(h)}`)
  if (h.startsWith('/') || h.includes('\\')) bad('handler', `must be a relative path with "/" separators inside the function folder, got ${show(h)}`)
  const parts = h.split('/').filter((p) => p !== '.')
  if (parts.includes('..') || parts.includes('')) bad('handler', `must stay inside the function folder (no ".." or empty segments), got ${show(h)}`)
  if (parts.some((p) => p.startsWith('.') || p === 'node_modules')) bad('handler', `must not be inside node_modules/ or a dot-folder, which are not loaded; got ${show(h)}`)
  return parts.join('/')
}

function env (v: unknown): Record<string, string> {
  if (v === undefined) return {}
  if (!isObject(v)) bad('env', `must be an object of string values, got ${show(v)}`)
  let bytes = 0
  for (const [k, value] of Object.entries(v)) {
    if (!ENV_KEY.test(k)) bad(`env.${k}`, `is not a valid variable name (${String(ENV_KEY)})`)
    if (typeof value !== 'string') bad(`env.${k}`, `must be a string, got ${show(value)} (write numbers as "70")`)
    bytes += Buffer.byteLength(k) + Buffer.byteLength(value) + 2 // as KEY=VALUE\0 in a process environment
  }
  if (bytes > ENV_MAX_BYTES) bad('env', `holds ${bytes} bytes, more than the ${ENV_MAX_BYTES} allowed; keep large data out of env`, { bytes, max: ENV_MAX_BYTES })
  // fromEntries defines own properties, so a key like "__proto__" is kept rather than lost.
  return Object.fromEntries(Object.entries(v)) as Record<string, string>
}

function publishFilters (v: unknown): string[] {
  if (v === undefined) return []
  return array(v, 'permissions.publish', 'MQTT topic filters').map((f, i) => {
    if (!isValidTopicFilter(f)) bad(`permissions.publish[${i}]`, `is not a valid MQTT topic filter: ${show(f)}: it ${String(topicFilterProblem(f))}`)
    // The lambkin/ tree carries the device's own uploads and control (W1); a function writing
    // there could forge records, so no filter may name it. `#` and `+/...` are checked at publish time.
    if (f.split('/')[0] === 'lambkin') bad(`permissions.publish[${i}]`, `must not grant the reserved "lambkin/" topic tree, got ${show(f)}`)
    return f
  })
}

function layers (v: unknown): string[] {
  if (v === undefined) return []
  const seen = new Set<string>()
  return array(v, 'layers', 'layer names').map((l, i) => {
    if (typeof l !== 'string' || !NAME_PATTERN.test(l)) bad(`layers[${i}]`, `must be a layer name matching ${String(NAME_PATTERN)}, got ${show(l)}`)
    if (seen.has(l)) bad(`layers[${i}]`, `lists layer ${show(l)} twice`)
    seen.add(l)
    return l
  })
}

function provisioned (v: unknown, concurrency: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v > concurrency) {
    bad('provisioned', `is ${v}, more warm sandboxes than limits.concurrency (${concurrency}) allows; raise limits.concurrency or lower provisioned`)
  }
  return int(v, 'provisioned', 0, concurrency, MANIFEST_DEFAULTS.provisioned)
}
