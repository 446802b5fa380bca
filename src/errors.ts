// The one error type lambkin throws, and its stable codes (docs/architecture.md, "Errors").
// Codes are public interface: the CLI prints them, metrics count them, tests assert them.

export const ErrorCodes = Object.freeze({
  // Sandbox outcomes of one invocation.
  TIMEOUT: 'LAMBKIN_TIMEOUT',
  INSTRUCTION_LIMIT: 'LAMBKIN_INSTRUCTION_LIMIT',
  MEMORY_LIMIT: 'LAMBKIN_MEMORY_LIMIT',
  STACK_LIMIT: 'LAMBKIN_STACK_LIMIT',
  OUTPUT_LIMIT: 'LAMBKIN_OUTPUT_LIMIT',
  INPUT_LIMIT: 'LAMBKIN_INPUT_LIMIT',
  // A trigger message whose bytes are not what its trigger's `payload` format asks for.
  PAYLOAD_INVALID: 'LAMBKIN_PAYLOAD_INVALID',
  FUNCTION_ERROR: 'LAMBKIN_FUNCTION_ERROR',
  PERMISSION_DENIED: 'LAMBKIN_PERMISSION_DENIED',
  /** A topic no broker accepts (MQTT 5 sections 1.5.4, 4.7): control characters, wildcards in a name, too long. */
  TOPIC_INVALID: 'LAMBKIN_TOPIC_INVALID',
  THROTTLED: 'LAMBKIN_THROTTLED',
  QUARANTINED: 'LAMBKIN_QUARANTINED',
  COMPILE_ERROR: 'LAMBKIN_COMPILE_ERROR',
  SANDBOX_CRASHED: 'LAMBKIN_SANDBOX_CRASHED',
  /**
   * An error lambkin has no code for reached a command's top (a bug, or a system error it does
   * not classify); the message carries the original. A full disk or an I/O error there is
   * LAMBKIN_NO_SPACE / LAMBKIN_IO_ERROR instead (`systemErrorCode`).
   */
  INTERNAL: 'LAMBKIN_INTERNAL',
  CLOSED: 'LAMBKIN_CLOSED',
  // Functions, bundles, config and wire.
  MANIFEST_INVALID: 'LAMBKIN_MANIFEST_INVALID',
  FUNCTION_NOT_FOUND: 'LAMBKIN_FUNCTION_NOT_FOUND',
  /** Every function in the agent's folder failed to load and no cloud can deploy one: nothing would run. */
  NO_FUNCTIONS_LOADED: 'LAMBKIN_NO_FUNCTIONS_LOADED',
  LIMIT_EXCEEDS_CAP: 'LAMBKIN_LIMIT_EXCEEDS_CAP',
  CONFIG_INVALID: 'LAMBKIN_CONFIG_INVALID',
  USAGE: 'LAMBKIN_USAGE',
  STORE_ERROR: 'LAMBKIN_STORE_ERROR',
  STORE_FULL: 'LAMBKIN_STORE_FULL',
  /**
   * A store (the agent's outbox, the cloud's registry) failed a write (disk full, I/O error)
   * and takes nothing more until it has reopened and verified itself, which it retries alone.
   */
  STORE_FAULT: 'LAMBKIN_STORE_FAULT',
  /**
   * The cloud's PostgreSQL database cannot be reached (down, restarting, out of connections,
   * too slow): nothing is acknowledged meanwhile and everything resumes when it answers.
   */
  DB_UNAVAILABLE: 'LAMBKIN_DB_UNAVAILABLE',
  WIRE_INVALID: 'LAMBKIN_WIRE_INVALID',
  /** [W4] One outbox stream's seq came with other bytes than the cloud holds: two boards on one id. */
  STREAM_CONFLICT: 'LAMBKIN_STREAM_CONFLICT',
  SENSOR_UNAVAILABLE: 'LAMBKIN_SENSOR_UNAVAILABLE',
  SCHEDULE_INVALID: 'LAMBKIN_SCHEDULE_INVALID',
  SCHEDULE_MISSED: 'LAMBKIN_SCHEDULE_MISSED',
  BROKER_UNAVAILABLE: 'LAMBKIN_BROKER_UNAVAILABLE',
  BROKER_MALFORMED: 'LAMBKIN_BROKER_MALFORMED',
  /**
   * The trigger broker sent a packet larger than mqtt.maxPacketBytes: a PUBLISH is skipped
   * unread and dead-lettered (then acknowledged), any other packet ends the connection.
   */
  BROKER_PACKET_TOO_LARGE: 'LAMBKIN_BROKER_PACKET_TOO_LARGE',
  /**
   * An external broker's admin interface (Mosquitto's dynamic security) refused or did not answer
   * a command that manages a device's broker client; the message carries the broker's reason.
   */
  BROKER_ADMIN_FAILED: 'LAMBKIN_BROKER_ADMIN_FAILED',
  DEPENDENCY_MISMATCH: 'LAMBKIN_DEPENDENCY_MISMATCH',
  // The cloud side and its operator API.
  DEVICE_EXISTS: 'LAMBKIN_DEVICE_EXISTS',
  DEVICE_NOT_FOUND: 'LAMBKIN_DEVICE_NOT_FOUND',
  UNAUTHORIZED: 'LAMBKIN_UNAUTHORIZED',
  CLOUD_UNAVAILABLE: 'LAMBKIN_CLOUD_UNAVAILABLE',
  REQUEST_INVALID: 'LAMBKIN_REQUEST_INVALID',
  /** A list route's `limit` that is not a whole number from 1 to the route's maximum page size (docs/cloud.md, "Pages"). */
  PAGE_LIMIT_INVALID: 'LAMBKIN_PAGE_LIMIT_INVALID',
  /** A list route's `after` cursor that no page can start from: not a device id (docs/cloud.md, "Pages"). */
  CURSOR_INVALID: 'LAMBKIN_CURSOR_INVALID',
  /** The operator API has no such route (a CLI newer than its cloud, or a typo in a URL). */
  ROUTE_NOT_FOUND: 'LAMBKIN_ROUTE_NOT_FOUND',
  // The trigger broker's SUBACK refused a trigger's filter (MQTT 5 section 3.9.3).
  SUBSCRIBE_REFUSED: 'LAMBKIN_SUBSCRIBE_REFUSED',
  // A chain of functions triggering each other reached invocation.maxHops [W9].
  RECURSION_LIMIT: 'LAMBKIN_RECURSION_LIMIT',
  // A function's publish its broker will never take (too large, or refused with a reason code).
  PUBLISH_REFUSED: 'LAMBKIN_PUBLISH_REFUSED',
  // Bundles, keys and deployments [W5][W6].
  /** A bundle that is malformed, over BUNDLE_MAX_BYTES, or whose bytes do not hash to the sha256 it was asked for. */
  BUNDLE_INVALID: 'LAMBKIN_BUNDLE_INVALID',
  /** A bundle whose ed25519 signature does not verify with the key it names. */
  SIGNATURE_INVALID: 'LAMBKIN_SIGNATURE_INVALID',
  /** A bundle signed by a key the cloud or device does not trust (--trust, trustedKeys). */
  KEY_UNTRUSTED: 'LAMBKIN_KEY_UNTRUSTED',
  /** A key file that is missing, unreadable, not PEM, or not an ed25519 key. */
  KEY_INVALID: 'LAMBKIN_KEY_INVALID',
  /** A desired state whose deployment id is older than (or replays) the one the device runs. */
  DEPLOYMENT_STALE: 'LAMBKIN_DEPLOYMENT_STALE',
  /** A new version failed its health gate after the swap and the device rolled back on its own. */
  HEALTH_CHECK_FAILED: 'LAMBKIN_HEALTH_CHECK_FAILED',
  /** A deployment step (fetch, report) or a remote invocation did not finish in its time. */
  DEPLOY_TIMEOUT: 'LAMBKIN_DEPLOY_TIMEOUT',
  /** A write failed because the device's data partition is full (ENOSPC, EDQUOT): transient, tried again. */
  NO_SPACE: 'LAMBKIN_NO_SPACE',
  /** A read or write failed with an I/O error (EIO, a read-only remount, no file descriptors left): transient, tried again. */
  IO_ERROR: 'LAMBKIN_IO_ERROR',
  /** A desired state with no signature of a trusted cloud key [W5]: refused, never applied. */
  DESIRED_UNSIGNED: 'LAMBKIN_DESIRED_UNSIGNED',
  ROLLOUT_NOT_FOUND: 'LAMBKIN_ROLLOUT_NOT_FOUND',
  /** A rollout stopped because its failures passed --abort-at, or was cancelled or superseded. */
  ROLLOUT_ABORTED: 'LAMBKIN_ROLLOUT_ABORTED',
  /** A request that needs the device connected now (remote invoke) found it offline. */
  DEVICE_OFFLINE: 'LAMBKIN_DEVICE_OFFLINE',
  /** A remote invocation got no answer within its timeout [W7]. */
  INVOKE_TIMEOUT: 'LAMBKIN_INVOKE_TIMEOUT',
  /** `lambkin device install-service` could not write one of its files; none was installed. */
  INSTALL_FAILED: 'LAMBKIN_INSTALL_FAILED'
} as const)

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export interface LambkinErrorOptions {
  cause?: unknown
  /** Extra facts for machines (the manifest key, the limit that was hit). */
  details?: Record<string, unknown>
}

export class LambkinError extends Error {
  readonly code: ErrorCode
  /** Facts for machines (the key, the limit); `{}` when there are none. See printableDetails for its one hidden method. */
  readonly details: Record<string, unknown>

  constructor (code: ErrorCode, message: string, opts: LambkinErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'LambkinError'
    this.code = code
    this.details = printableDetails(opts.details ?? {})
  }

  toJSON (): { code: ErrorCode, message: string, details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details }
  }
}

/**
 * A copy of `details` with a non-enumerable `split` giving its JSON text's lines. uvu 0.5's
 * reporter prints a failing test's `err.details` with `details.split('\n')`; on a plain object
 * that throws inside the reporter, the failure is lost and the run exits 0
 * (test/src/errors.test.ts runs it). Non-enumerable, so JSON, Object.keys, spreading and deep
 * equality never see it; a `split` key of the caller's own is kept as it is.
 */
function printableDetails (details: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...details }
  if (!Object.hasOwn(copy, 'split')) {
    Object.defineProperty(copy, 'split', {
      enumerable: false,
      value: (sep: string): string[] => {
        try {
          return (JSON.stringify(copy, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v, 2) ?? '{}').split(sep)
        } catch {
          return ['(details that are not JSON)']
        }
      }
    })
  }
  return copy
}

const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes))

/**
 * True for any object carrying one of our codes and a message: a LambkinError, or one that
 * crossed a worker boundary or the wire (structured clone and JSON keep the fields, not the class).
 */
export function isLambkinError (err: unknown): err is LambkinError {
  if (typeof err !== 'object' || err === null) return false
  const { code, message } = err as { code?: unknown, message?: unknown }
  return typeof code === 'string' && CODES.has(code) && typeof message === 'string'
}

/** The message of whatever was thrown: an Error's `message`, else the value as text. */
export function errorMessage (err: unknown): string {
  if (err instanceof Error) return err.message
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message
  return String(err)
}

/** Rebuilds a LambkinError from its JSON form (worker messages, wire records). */
export function fromJSON (obj: { code: string, message: string, details?: Record<string, unknown>, stack?: string }): LambkinError {
  const code = (CODES.has(obj.code) ? obj.code : ErrorCodes.SANDBOX_CRASHED) as ErrorCode
  const err = new LambkinError(code, obj.message, { details: obj.details })
  if (obj.stack !== undefined) err.stack = obj.stack
  return err
}

/** errno codes (node:fs, libuv) of a full disk, and of I/O that may work later. */
const NO_SPACE_ERRNO = new Set(['ENOSPC', 'EDQUOT'])
const IO_ERRNO = new Set(['EIO', 'EROFS', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'ENOBUFS'])
/** LevelDB names the errno only in its message ("IO error: …/000005.log: No space left on device"). */
const NO_SPACE_TEXT = /no space left on device|disk quota exceeded/i
const IO_TEXT = /input\/output error|read-only file system|too many open files/i

/**
 * LAMBKIN_NO_SPACE for a full disk (ENOSPC, EDQUOT), LAMBKIN_IO_ERROR for an I/O error
 * (EIO, EROFS, no file descriptors left ...), found by errno or message anywhere in the
 * cause chain (8 deep at most); undefined for anything else.
 */
export function systemErrorCode (err: unknown): typeof ErrorCodes.NO_SPACE | typeof ErrorCodes.IO_ERROR | undefined {
  for (let e: unknown = err, depth = 0; e !== null && e !== undefined && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    const message = String((e as { message?: unknown }).message ?? '')
    if ((typeof code === 'string' && NO_SPACE_ERRNO.has(code)) || NO_SPACE_TEXT.test(message)) return ErrorCodes.NO_SPACE
    if ((typeof code === 'string' && IO_ERRNO.has(code)) || IO_TEXT.test(message)) return ErrorCodes.IO_ERROR
  }
  return undefined
}
