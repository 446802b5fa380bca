// Deployment failures that say nothing about a version's bytes [W5]: a full data partition, an
// I/O error, a bundle that did not arrive in time, a store write that failed. They are reported
// with `transient: true`, never put a version on the rejected list (rejected.ts), and the
// deployer tries the deployment again with backoff (deployer.ts) until it applies or a newer
// one replaces it. Everything else (a bad signature, a manifest over the caps, code that does
// not compile) is about the bytes and is permanent.
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import type { ReportedFailure } from '../../src/wire/index.js'
import type { ActiveSet } from './active-set.js'

/** Codes a deployment step fails with that a later try may not meet. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCodes.NO_SPACE,
  ErrorCodes.IO_ERROR,
  ErrorCodes.DEPLOY_TIMEOUT,
  ErrorCodes.STORE_ERROR
])

/** errno codes (node:fs, libuv) of a full disk, and of I/O that may work later. */
const NO_SPACE_ERRNO = new Set(['ENOSPC', 'EDQUOT'])
const IO_ERRNO = new Set(['EIO', 'EROFS', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'ENOBUFS'])
/** LevelDB names the errno only in its message ("IO error: …/000005.log: No space left on device"). */
const NO_SPACE_TEXT = /no space left on device|disk quota exceeded/i
const IO_TEXT = /input\/output error|read-only file system|too many open files/i

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
  const found = errnoClass(err)
  if (found !== undefined) {
    const what = found === ErrorCodes.NO_SPACE ? 'the data partition is full' : 'an I/O error'
    return new LambkinError(found, `${what} (${errorMessage(err)}); the device tries again, and the version is not held against its bytes`, { cause: err })
  }
  if (err instanceof LambkinError) return err
  return new LambkinError(ErrorCodes.FUNCTION_ERROR, (err as Error)?.message ?? String(err), { cause: err })
}

function errnoClass (err: unknown): typeof ErrorCodes.NO_SPACE | typeof ErrorCodes.IO_ERROR | undefined {
  for (let e: unknown = err, depth = 0; e !== null && e !== undefined && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    const message = String((e as { message?: unknown }).message ?? '')
    if ((typeof code === 'string' && NO_SPACE_ERRNO.has(code)) || NO_SPACE_TEXT.test(message)) return ErrorCodes.NO_SPACE
    if ((typeof code === 'string' && IO_ERRNO.has(code)) || IO_TEXT.test(message)) return ErrorCodes.IO_ERROR
  }
  return undefined
}

/** Adds a failure to the set's history; a transient one replaces that function's earlier transient one at the same id, so retries do not fill the history. */
export function recordFailure (set: ActiveSet, x: ReportedFailure): void {
  if (x.transient === true) set.failures = set.failures.filter((y) => !(y.transient === true && y.deploymentId === x.deploymentId && y.name === x.name))
  set.failures.push(x)
}
