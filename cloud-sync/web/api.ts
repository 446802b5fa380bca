// The page's one way to the cloud: the operator API's JSON, as the CLI uses it, with the
// session's token. Paths are relative to the page, so it works behind a proxy's sub-path too.
import { signOut, token } from './session.js'

export class ApiError extends Error {
  constructor (readonly code: string, message: string, readonly status: number) {
    super(message)
  }
}

/** Raised for a fetch that never got an answer (the cloud is down or unreachable). */
export const UNREACHABLE = 'LAMBKIN_CLOUD_UNAVAILABLE'

/**
 * Calls the API; throws ApiError with the API's own code. A refused token signs the operator
 * out with the cloud's reason, unless `signingIn` (the login form shows that error itself).
 */
export async function api<T> (path: string, init: { method?: 'GET' | 'POST', body?: unknown, token?: string, signingIn?: boolean } = {}): Promise<T> {
  const t = init.token ?? token.value ?? ''
  let res: Response
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${t}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      cache: 'no-store'
    })
  } catch (err) {
    throw new ApiError(UNREACHABLE, `the cloud did not answer (${(err as Error).message}); is lambkin cloud running?`, 0)
  }
  const text = await res.text()
  let json: unknown
  try { json = JSON.parse(text) } catch { json = undefined }
  if (!res.ok) {
    const e = (json as { error?: { code?: string, message?: string } } | undefined)?.error
    const err = new ApiError(e?.code ?? UNREACHABLE, e?.message ?? `the cloud answered ${res.status}`, res.status)
    if (err.code === 'LAMBKIN_UNAUTHORIZED' && init.signingIn !== true && t === token.value) {
      signOut(`The cloud no longer accepts this token (it was changed, or the cloud now has another one). Sign in with the token in <cloud data>/operator-token. (${err.code}: ${err.message})`)
    }
    throw err
  }
  return json as T
}

export const enc = encodeURIComponent
