// Deployment failures that say nothing about a version's bytes [W5]: a full data partition, an
// I/O error, a bundle that did not arrive in time, a store write that failed. They are reported
// with `transient: true`, never put a version on the rejected list (rejected.ts), and the
// deployer tries the deployment again with backoff (deployer.ts) until it applies or a newer
// one replaces it. Everything else (a bad signature, a manifest over the caps, code that does
// not compile) is about the bytes and is permanent.
import { ErrorCodes, errorMessage, LambkinError, systemErrorCode } from '../../src/errors.js'
import type { ReportedFailure } from '../../src/wire/index.js'
import type { ActiveSet } from './active-set.js'

/** Codes a deployment step fails with that a later try may not meet. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCodes.NO_SPACE,
  ErrorCodes.IO_ERROR,
  ErrorCodes.DEPLOY_TIMEOUT,
  ErrorCodes.STORE_ERROR
])

/** Retry backoff of a deployment that failed transiently: deploy.retryMs, doubled per try up to this factor. */
export const RETRY_MAX_FACTOR = 32

export function isTransient (code: string): boolean {
  return TRANSIENT_CODES.has(code)
}

/** The wait before try `attempt` (1 for the first retry): retryMs doubled per try, capped at RETRY_MAX_FACTOR times. */
export function retryDelayMs (retryMs: number, attempt: number): number {
  return retryMs * Math.min(2 ** Math.max(0, attempt - 1), RETRY_MAX_FACTOR)
}

/**
 * The LambkinError a deployment step's failure is reported as: a full disk or an I/O error
 * anywhere in the cause chain becomes LAMBKIN_NO_SPACE / LAMBKIN_IO_ERROR (also under a
 * LAMBKIN_STORE_ERROR from the store's write); another LambkinError keeps its code; anything
 * else is LAMBKIN_FUNCTION_ERROR (the function's own initialisation threw).
 */
export function deployFailure (err: unknown): LambkinError {
  if (err instanceof LambkinError && (err.code === ErrorCodes.NO_SPACE || err.code === ErrorCodes.IO_ERROR)) return err
  const found = systemErrorCode(err)
  if (found !== undefined) {
    const what = found === ErrorCodes.NO_SPACE ? 'the data partition is full' : 'an I/O error'
    return new LambkinError(found, `${what} (${errorMessage(err)}); the device tries again, and the version is not held against its bytes`, { cause: err })
  }
  if (err instanceof LambkinError) return err
  return new LambkinError(ErrorCodes.FUNCTION_ERROR, (err as Error)?.message ?? String(err), { cause: err })
}

/** Adds a failure to the set's history; a transient one replaces that function's earlier transient one at the same id, so retries do not fill the history. */
export function recordFailure (set: ActiveSet, x: ReportedFailure): void {
  if (x.transient === true) set.failures = set.failures.filter((y) => !(y.transient === true && y.deploymentId === x.deploymentId && y.name === x.name))
  set.failures.push(x)
}
