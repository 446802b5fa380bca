// The operator commands' way to the cloud: the operator API over HTTP, found with
// --api / LAMBKIN_API and authenticated with --token / LAMBKIN_TOKEN (docs/architecture.md, "Command line").
import { ErrorCodes, errorMessage, LambkinError } from '../src/errors.js'
import type { ErrorCode } from '../src/errors.js'
import { answerMismatch } from './api-answers.js'

export const DEFAULT_API = 'http://127.0.0.1:8080'

/** Node's codes for a server certificate that does not chain to a trusted CA or does not name the host. */
const TLS_TRUST = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'])

/**
 * True for an error a follower (a followed rollout, `logs -f`) waits out rather than exits on:
 * the API did not answer (LAMBKIN_CLOUD_UNAVAILABLE: the cloud restarting), or it answered 503
 * LAMBKIN_DB_UNAVAILABLE (its PostgreSQL restarting; the cloud resumes by itself, docs/scale-out.md "Faults").
 */
export function isPassingOutage (err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code
  return code === ErrorCodes.CLOUD_UNAVAILABLE || code === ErrorCodes.DB_UNAVAILABLE
}

export interface ApiTarget { api?: string, token?: string }

/**
 * The operator API's base URL from --api, else LAMBKIN_API, else the default. A bare
 * `host:port` (or `host`) means http:// there, as `lambkin cloud --api-host/--api-port` serve it.
 * @throws LambkinError LAMBKIN_USAGE naming the flag or variable for anything else.
 */
export function apiBase (flag: string | undefined, envValue: string | undefined): string {
  const from = flag !== undefined ? '--api' : envValue !== undefined && envValue !== '' ? 'LAMBKIN_API' : undefined
  const given = (from === '--api' ? flag : from === 'LAMBKIN_API' ? envValue : DEFAULT_API) as string
  const raw = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`
  let url: URL | undefined
  try { url = new URL(raw) } catch { url = undefined }
  const fix = 'give the address lambkin cloud prints as "api", e.g. http://127.0.0.1:8080 (or 127.0.0.1:8080)'
  if (url === undefined || url.hostname === '') throw new LambkinError(ErrorCodes.USAGE, `${from ?? 'the default API'} "${given}" is not an address: ${fix}`)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new LambkinError(ErrorCodes.USAGE, `${from ?? 'the default API'} "${given}" is a ${url.protocol.replace(/:$/, '')}:// address; the operator API speaks http or https: ${fix}`)
  return raw.replace(/\/+$/, '')
}

/**
 * `value` (a device or rollout id as typed) encoded as one part of an API path. fetch resolves a
 * part that is `.` or `..` (also as %2e) as a path step (WHATWG URL), so `devices revoke ..`
 * would reach POST /v1/revoke: no id is either, so both are refused here, naming what was typed.
 * @throws LambkinError LAMBKIN_USAGE for `.` and `..`.
 */
export function pathPart (value: string, what: string): string {
  if (value === '.' || value === '..') throw new LambkinError(ErrorCodes.USAGE, `"${value}" is not a ${what}: ids start with a letter or digit`)
  return encodeURIComponent(value)
}

export class ApiClient {
  readonly base: string
  readonly #token: string

  /** Throws LAMBKIN_USAGE when no token is given by flag or environment. */
  constructor (t: ApiTarget, env: NodeJS.ProcessEnv = process.env) {
    this.base = apiBase(t.api, env.LAMBKIN_API)
    const token = t.token ?? env.LAMBKIN_TOKEN
    if (token === undefined || token === '') {
      throw new LambkinError(ErrorCodes.USAGE, 'no operator token: pass --token or set LAMBKIN_TOKEN (lambkin cloud writes it to <data>/operator-token)')
    }
    this.#token = token
  }

  /**
   * Calls the API and returns its JSON. Throws the API's own error code (LAMBKIN_UNAUTHORIZED,
   * LAMBKIN_DEVICE_NOT_FOUND, …), or LAMBKIN_CLOUD_UNAVAILABLE when nothing answers within
   * `timeoutMs`, `signal` aborts the call (a followed rollout left with Ctrl-C), or what answers
   * is not JSON or not JSON of the route's shape (another web server or API on that address).
   */
  async call<T> (method: 'GET' | 'POST', route: string, body?: unknown, timeoutMs = 35_000, signal?: AbortSignal): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.base}${route}`, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([AbortSignal.timeout(timeoutMs), signal])
      })
    } catch (err) {
      const why = (err as { cause?: { code?: string } }).cause?.code ?? errorMessage(err)
      if (TLS_TRUST.has(why)) {
        throw new LambkinError(ErrorCodes.CLOUD_UNAVAILABLE, `the cloud API at ${this.base} answered with a certificate this machine does not trust (${why}); give its CA as NODE_EXTRA_CA_CERTS=<ca.pem> (read when lambkin starts)`, { cause: err })
      }
      throw new LambkinError(ErrorCodes.CLOUD_UNAVAILABLE, `the cloud API at ${this.base} did not answer (${why}); is \`lambkin cloud\` running? (--api or LAMBKIN_API)`, { cause: err })
    }
    const text = await res.text()
    let json: unknown
    try { json = JSON.parse(text) } catch { json = undefined }
    if (!res.ok) {
      const e = (json as { error?: { code?: string, message?: string } } | undefined)?.error
      const known = Object.values(ErrorCodes) as string[]
      const code = (e?.code !== undefined && known.includes(e.code) ? e.code : ErrorCodes.CLOUD_UNAVAILABLE) as ErrorCode
      throw new LambkinError(code, e?.message ?? `the cloud API answered ${res.status}`)
    }
    // A 200 that is not JSON: another web server on that address (a router's page, a proxy, a wrong port).
    if (json === undefined) {
      const type = res.headers.get('content-type') ?? 'no content type'
      throw new LambkinError(ErrorCodes.CLOUD_UNAVAILABLE, `${this.base} answered ${route.split('?')[0]} with ${type}, not JSON: it is not the lambkin operator API; give the address lambkin cloud prints as "api" (--api or LAMBKIN_API)`)
    }
    // A 200 with JSON of another shape: another service's API on that address.
    const mismatch = answerMismatch(method, route, json)
    if (mismatch !== undefined) {
      throw new LambkinError(ErrorCodes.CLOUD_UNAVAILABLE, `${this.base} answered ${method} ${route.split('?')[0]} with ${mismatch}: it is not the lambkin operator API; give the address lambkin cloud prints as "api" (--api or LAMBKIN_API)`)
    }
    return json as T
  }
}
