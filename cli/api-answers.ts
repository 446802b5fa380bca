// What each operator API answer the CLI reads must hold at its top level (docs/cloud.md, "The
// operator API"), so that a 200 with JSON of another shape (another service's API on the port
// given as --api) is told apart from the lambkin cloud's answer before a command reads it.

/** The JSON kinds a top-level field is checked for. */
type Kind = 'array' | 'object' | 'string' | 'number' | 'boolean'

const ROLLOUT: Record<string, Kind> = { id: 'string', state: 'string', counts: 'object', devices: 'array' }

/** [method, path pattern (no query), the fields the answer holds]; the first match counts. */
const ANSWERS: Array<[string, RegExp, Record<string, Kind>]> = [
  ['GET', /^\/v1\/status$/, { devices: 'array', cloud: 'object' }],
  ['GET', /^\/v1\/devices$/, { devices: 'array' }],
  ['POST', /^\/v1\/devices$/, { id: 'string', secret: 'string' }],
  ['POST', /^\/v1\/devices\/[^/]+\/rotate$/, { id: 'string', secret: 'string' }],
  ['POST', /^\/v1\/devices\/[^/]+\/revoke$/, { id: 'string' }],
  ['POST', /^\/v1\/devices\/[^/]+\/clear-conflict$/, { id: 'string' }],
  ['POST', /^\/v1\/devices\/[^/]+\/invoke$/, { ok: 'boolean' }],
  ['GET', /^\/v1\/devices\/[^/]+\/metrics$/, { snapshots: 'number', functions: 'object' }],
  ['GET', /^\/v1\/devices\/[^/]+\/records$/, { records: 'array' }],
  ['GET', /^\/v1\/devices\/[^/]+$/, { highWater: 'number' }],
  ['GET', /^\/v1\/targets\/[^/]+$/, { devices: 'array' }],
  ['POST', /^\/v1\/bundles$/, { sha256: 'string' }],
  ['GET', /^\/v1\/rollouts$/, { rollouts: 'array' }],
  ['POST', /^\/v1\/(rollouts|rollbacks)$/, ROLLOUT],
  ['GET', /^\/v1\/rollouts\/[^/]+$/, ROLLOUT],
  ['POST', /^\/v1\/rollouts\/[^/]+\/cancel$/, ROLLOUT]
]

function kindOf (v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v
}

/**
 * Why `json`, a 200's body for `method` `route`, is not the operator API's answer: the field it
 * lacks or holds as another kind, or that it is not a JSON object at all; undefined when it fits
 * (or the route is not one the CLI reads).
 */
export function answerMismatch (method: string, route: string, json: unknown): string | undefined {
  const path = route.split('?')[0]
  const fields = ANSWERS.find(([m, p]) => m === method && p.test(path))?.[2]
  if (fields === undefined) return undefined
  if (kindOf(json) !== 'object') return `a JSON ${kindOf(json)}, not an object`
  for (const [name, kind] of Object.entries(fields)) {
    const got = Object.hasOwn(json as object, name) ? kindOf((json as Record<string, unknown>)[name]) : undefined
    if (got !== kind) return got === undefined ? `JSON without "${name}"` : `JSON whose "${name}" is a${/^[aeiou]/.test(got) ? 'n' : ''} ${got}, not a${/^[aeiou]/.test(kind) ? 'n' : ''} ${kind}`
  }
  return undefined
}
