// The deployment and remote-invoke frames [W5]-[W7] and their validation: desired state
// (cloud -> device, retained), reported state (device -> cloud, retained), bundle fetch by
// sha256 (up/fetch, answered on down/bundle), and remote invocation (down/invoke ->
// up/invoke-result). Validators return a typed frame or throw LAMBKIN_WIRE_INVALID naming the
// field [W2]; unknown fields are ignored.
import { isValidId } from '../ids.js'
import { wireError } from './cbor.js'
import { readableData } from './record-data.js'

const SHA256 = /^[0-9a-f]{64}$/
const KEY_ID = /^[0-9a-f]{16}$/
/** A rollout id as a label: the cloud's are `r<n>`; any short printable id is taken. */
const ROLLOUT = /^[\x21-\x7e]{1,64}$/
const rolloutOf = (v: unknown, name: string): { rollout?: string } => {
  if (v === undefined || v === null) return {}
  field(typeof v === 'string' && ROLLOUT.test(v), name, 'a rollout id of 1 to 64 printable characters')
  return { rollout: v as string }
}
const VERSION = /^[0-9a-f]{16}$/
/** Entries one desired or reported state may list; failures and rollbacks kept per report. */
export const DEPLOY_LIMITS = Object.freeze({ maxFunctions: 1000, maxHistory: 20, maxMessageChars: 500, maxRequestId: 64 })

/** One version of a function as desired state names it [W5]. */
export interface DesiredVersion {
  /** The content version (16 hex digits), as `ctx.version` and results carry it. */
  version: string
  /** The cloud's sequence number for this function's versions (1, 2, 3 ... as Lambda's). */
  number: number
  /** The bundle's sha256, hex: the device fetches it by this [W6]. */
  sha256: string
  /** The bundle's size, bytes. */
  size: number
  /** ed25519 signature over the sha256 (src/bundle/sign.ts), 64 bytes. */
  signature: Uint8Array
  /** Which trusted key signed it. */
  keyId: string
}

/**
 * One function in desired state: the `live` alias and, optionally, a `canary` alias with the
 * percentage of invocations it takes (1-99); the rest go to `live`. `rollout`: the id of the
 * cloud's rollout that set this entry (`r3`), so the device names it as the operator sees it in
 * its log lines and reports; a label only, which the device never acts on (so the signature of
 * the desired state does not cover it, and a device that ignores it loses nothing).
 */
export interface DesiredFunction { name: string, live: DesiredVersion, canary?: DesiredVersion & { weight: number }, rollout?: string }

/**
 * `down/desired` [W5], retained: the whole set of deployed functions the device should run.
 * `deploymentId` increases with every change the cloud makes to any device's desired state; a
 * device refuses one lower than the one it runs (LAMBKIN_DEPLOYMENT_STALE). Functions from the
 * device's own folder are not listed and not touched.
 */
export interface DesiredFrame {
  deploymentId: number
  functions: DesiredFunction[]
  time?: number
  /**
   * The cloud's ed25519 signature over the canonical text of this device's state
   * (src/bundle/desired-sign.ts) and the id of the key that made it [W5]. A device refuses a
   * desired state without one, or whose signature does not verify (LAMBKIN_DESIRED_UNSIGNED,
   * LAMBKIN_SIGNATURE_INVALID, LAMBKIN_KEY_UNTRUSTED).
   */
  auth?: { keyId: string, signature: Uint8Array }
}

/**
 * What the device runs of one function [W5]; `sha256` is absent for a function from its own
 * folder. `watching`: the health window of the version(s) the last deployment of it brought is
 * still open, this many ms left (a duration, so the two clocks need not agree); absent once the
 * window passed, and on a device that keeps none (the verdict is then "applied" alone).
 */
export interface ReportedFunction {
  name: string
  version: string
  sha256?: string
  canary?: { version: string, sha256?: string, weight: number }
  watching?: number
}

/**
 * A deployment the device refused or could not apply. `transient`: the failure says nothing
 * about the version's bytes (a full disk, an I/O error, a fetch that timed out): the device
 * tries again, and a later report may show the version applied.
 */
export interface ReportedFailure {
  deploymentId: number
  name: string
  version?: string
  code: string
  message: string
  at: number
  transient?: boolean
  rollout?: string
}

/** A version the device stopped running on its own (health gate) or on the cloud's word; `rollout` as in DesiredFunction. */
export interface ReportedRollback { deploymentId: number, name: string, from: string, to?: string, code: string, message: string, at: number, rollout?: string }

/**
 * `up/reported` [W5], retained: `deploymentId` is the newest desired state the device has
 * acted on (applied, refused, or rolled back from); `applying` is true while it fetches,
 * compiles or watches a health window; failures and rollbacks keep the last DEPLOY_LIMITS.maxHistory.
 */
export interface ReportedFrame {
  deploymentId: number
  applying: boolean
  functions: ReportedFunction[]
  failures: ReportedFailure[]
  rollbacks: ReportedRollback[]
  time: number
  /**
   * The last desired state the device refused before looking at it (unsigned, an untrusted
   * key, a signature that does not verify), so the cloud's view of that deployment says why.
   * Only the last one: what a relay forges must not fill the history [W5].
   */
  refusedDesired?: RefusedDesired
}

/** A desired state refused for its signature [W5]: its (claimed) deployment id, the code and why. */
export interface RefusedDesired { deploymentId: number, code: string, message: string, at: number }

/** `up/fetch` [W6]: the device asks for a bundle by sha256. */
export interface FetchFrame { sha256: string }

/** `down/bundle` [W6]: the bundle's bytes, or why the cloud cannot give them. */
export interface BundleFrame { sha256: string, bundle?: Uint8Array, error?: { code: string, message: string } }

/** `down/invoke` [W7]: run `fn` with `event` and answer within `timeoutMs`. */
export interface InvokeFrame { id: string, fn: string, event: unknown, timeoutMs: number }

/** `up/invoke-result` [W7]: the answer to the invoke with the same `id`. */
export interface InvokeResultFrame {
  id: string
  fn: string
  ok: boolean
  version?: string
  result?: unknown
  error?: { code: string; message: string }
  durationMs: number
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0
const isPositive = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1
const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n)
const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
/** Printable ASCII only: these strings reach an operator's terminal. */
const isText = (s: unknown, max: number): s is string => typeof s === 'string' && s.length <= max && /^[\x20-\x7e]*$/.test(s)
/** Messages may carry any text a function threw; control characters are replaced, length capped. */
const clean = (s: unknown): string => String(s).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, DEPLOY_LIMITS.maxMessageChars)

function field (ok: boolean, name: string, want: string): void {
  if (!ok) throw wireError('field', `${name} must be ${want}`)
}

function list (v: unknown, name: string, max: number): unknown[] {
  field(Array.isArray(v) && v.length <= max, name, `an array of at most ${max}`)
  return v as unknown[]
}

function desiredVersion (v: unknown, name: string): DesiredVersion {
  field(isMap(v), name, 'a map')
  const o = v as Record<string, unknown>
  field(typeof o.version === 'string' && VERSION.test(o.version), `${name}.version`, '16 hex digits')
  field(isPositive(o.number), `${name}.number`, 'a positive integer')
  field(typeof o.sha256 === 'string' && SHA256.test(o.sha256), `${name}.sha256`, '64 hex digits')
  field(isPositive(o.size), `${name}.size`, 'a positive byte count')
  field(o.signature instanceof Uint8Array && o.signature.byteLength === 64, `${name}.signature`, '64 bytes')
  field(typeof o.keyId === 'string' && KEY_ID.test(o.keyId), `${name}.keyId`, '16 hex digits')
  return {
    version: o.version as string,
    number: o.number as number,
    sha256: o.sha256 as string,
    size: o.size as number,
    signature: o.signature as Uint8Array,
    keyId: o.keyId as string
  }
}

/** Checks a `down/desired` frame [W5]: unique function names, each with a valid live (and canary) version. */
export function parseDesired (f: Record<string, unknown>): DesiredFrame {
  field(isPositive(f.deploymentId), 'deploymentId', 'a positive integer')
  const seen = new Set<string>()
  const functions = list(f.functions, 'functions', DEPLOY_LIMITS.maxFunctions).map((x, i): DesiredFunction => {
    field(isMap(x), `functions[${i}]`, 'a map')
    const o = x as Record<string, unknown>
    field(isValidId(o.name) && !seen.has(o.name), `functions[${i}].name`, 'a function name listed once')
    seen.add(o.name as string)
    const live = desiredVersion(o.live, `functions[${i}].live`)
    const rollout = rolloutOf(o.rollout, `functions[${i}].rollout`)
    if (o.canary === undefined || o.canary === null) return { name: o.name as string, live, ...rollout }
    const canary = desiredVersion(o.canary, `functions[${i}].canary`)
    const weight = (o.canary as Record<string, unknown>).weight
    field(Number.isInteger(weight) && (weight as number) >= 1 && (weight as number) <= 99, `functions[${i}].canary.weight`, 'a percentage from 1 to 99')
    return { name: o.name as string, live, canary: { ...canary, weight: weight as number }, ...rollout }
  })
  field(f.time === undefined || isTime(f.time), 'time', 'a number')
  const out: DesiredFrame = { deploymentId: f.deploymentId as number, functions, time: f.time as number | undefined }
  if (f.auth !== undefined && f.auth !== null) {
    const a = f.auth as Record<string, unknown>
    field(isMap(a) && typeof a.keyId === 'string' && KEY_ID.test(a.keyId) && a.signature instanceof Uint8Array && a.signature.byteLength === 64, 'auth', '{ keyId: 16 hex digits, signature: 64 bytes }')
    out.auth = { keyId: a.keyId as string, signature: a.signature as Uint8Array }
  }
  return out
}

/** Checks an `up/reported` frame [W5]. */
export function parseReported (f: Record<string, unknown>): ReportedFrame {
  field(isCount(f.deploymentId), 'deploymentId', 'a non-negative integer')
  field(typeof f.applying === 'boolean', 'applying', 'true or false')
  field(isTime(f.time), 'time', 'a number')
  const functions = list(f.functions, 'functions', DEPLOY_LIMITS.maxFunctions).map((x, i): ReportedFunction => {
    field(isMap(x), `functions[${i}]`, 'a map')
    const o = x as Record<string, unknown>
    field(isValidId(o.name), `functions[${i}].name`, 'a function name')
    field(isText(o.version, 64), `functions[${i}].version`, 'a version string')
    field(o.sha256 === undefined || (typeof o.sha256 === 'string' && SHA256.test(o.sha256)), `functions[${i}].sha256`, '64 hex digits')
    const out: ReportedFunction = { name: o.name as string, version: o.version as string }
    if (o.sha256 !== undefined) out.sha256 = o.sha256 as string
    field(o.watching === undefined || o.watching === null || isCount(o.watching), `functions[${i}].watching`, 'a number of ms')
    if (isCount(o.watching)) out.watching = o.watching
    if (o.canary !== undefined && o.canary !== null) {
      const c = o.canary as Record<string, unknown>
      field(isMap(c) && isText(c.version, 64) && Number.isInteger(c.weight) && (c.weight as number) >= 1 && (c.weight as number) <= 99, `functions[${i}].canary`, '{ version, weight 1-99 }')
      field(c.sha256 === undefined || (typeof c.sha256 === 'string' && SHA256.test(c.sha256)), `functions[${i}].canary.sha256`, '64 hex digits')
      out.canary = { version: c.version as string, weight: c.weight as number, ...(c.sha256 === undefined ? {} : { sha256: c.sha256 as string }) }
    }
    return out
  })
  const history = <T>(v: unknown, name: string, each: (o: Record<string, unknown>, at: string) => T): T[] =>
    list(v ?? [], name, DEPLOY_LIMITS.maxHistory).map((x, i) => {
      field(isMap(x), `${name}[${i}]`, 'a map')
      const o = x as Record<string, unknown>
      field(isCount(o.deploymentId) && isValidId(o.name) && isText(o.code, 64) && isTime(o.at), `${name}[${i}]`, '{ deploymentId, name, code, message, at }')
      return each(o, `${name}[${i}]`)
    })
  const failures = history(f.failures, 'failures', (o, at): ReportedFailure => {
    field(o.version === undefined || isText(o.version, 64), `${at}.version`, 'a version string')
    return { deploymentId: o.deploymentId as number, name: o.name as string, ...(o.version === undefined ? {} : { version: o.version as string }), code: o.code as string, message: clean(o.message ?? ''), at: o.at as number, ...(o.transient === true ? { transient: true } : {}), ...rolloutOf(o.rollout, `${at}.rollout`) }
  })
  const rollbacks = history(f.rollbacks, 'rollbacks', (o, at): ReportedRollback => {
    field(isText(o.from, 64) && (o.to === undefined || o.to === null || isText(o.to, 64)), `${at}`, '{ from, to } version strings')
    return { deploymentId: o.deploymentId as number, name: o.name as string, from: o.from as string, ...(typeof o.to === 'string' ? { to: o.to } : {}), code: o.code as string, message: clean(o.message ?? ''), at: o.at as number, ...rolloutOf(o.rollout, `${at}.rollout`) }
  })
  const out: ReportedFrame = { deploymentId: f.deploymentId as number, applying: f.applying as boolean, functions, failures, rollbacks, time: f.time as number }
  if (f.refusedDesired !== undefined && f.refusedDesired !== null) {
    const o = f.refusedDesired as Record<string, unknown>
    field(isMap(o) && isCount(o.deploymentId) && isText(o.code, 64) && isTime(o.at), 'refusedDesired', '{ deploymentId, code, message, at }')
    out.refusedDesired = { deploymentId: o.deploymentId as number, code: o.code as string, message: clean(o.message ?? ''), at: o.at as number }
  }
  return out
}

/** Checks an `up/fetch` frame [W6]. */
export function parseFetch (f: Record<string, unknown>): FetchFrame {
  field(typeof f.sha256 === 'string' && SHA256.test(f.sha256), 'sha256', '64 hex digits')
  return { sha256: f.sha256 as string }
}

/** Checks a `down/bundle` frame [W6]: bytes or an error, never neither. The bytes are checked by src/bundle. */
export function parseBundleFrame (f: Record<string, unknown>): BundleFrame {
  field(typeof f.sha256 === 'string' && SHA256.test(f.sha256), 'sha256', '64 hex digits')
  if (f.bundle instanceof Uint8Array) return { sha256: f.sha256 as string, bundle: f.bundle }
  const e = f.error as Record<string, unknown> | undefined
  field(isMap(e) && isText(e.code, 64), 'bundle', 'bytes, or an error { code, message }')
  return { sha256: f.sha256 as string, error: { code: (e as Record<string, unknown>).code as string, message: clean((e as Record<string, unknown>).message ?? '') } }
}

/** Checks a `down/invoke` frame [W7]. `timeoutMs` defaults to 10 s and is clamped to 1..300 s. */
export function parseInvoke (f: Record<string, unknown>): InvokeFrame {
  field(isText(f.id, DEPLOY_LIMITS.maxRequestId) && (f.id as string).length > 0, 'id', `a request id of 1 to ${DEPLOY_LIMITS.maxRequestId} printable characters`)
  field(isValidId(f.fn), 'fn', 'a function name')
  field(f.timeoutMs === undefined || isPositive(f.timeoutMs), 'timeoutMs', 'a positive integer')
  const timeoutMs = Math.min(Math.max(f.timeoutMs === undefined ? 10_000 : f.timeoutMs as number, 1), 300_000)
  return { id: f.id as string, fn: f.fn as string, event: f.event ?? {}, timeoutMs }
}

/** Checks an `up/invoke-result` frame [W7]. */
export function parseInvokeResult (f: Record<string, unknown>): InvokeResultFrame {
  field(isText(f.id, DEPLOY_LIMITS.maxRequestId) && (f.id as string).length > 0, 'id', 'a request id')
  field(isValidId(f.fn), 'fn', 'a function name')
  field(typeof f.ok === 'boolean', 'ok', 'true or false')
  field(isTime(f.durationMs) && (f.durationMs as number) >= 0, 'durationMs', 'a duration in ms')
  field(f.version === undefined || isText(f.version, 64), 'version', 'a version string')
  const out: InvokeResultFrame = { id: f.id as string, fn: f.fn as string, ok: f.ok as boolean, durationMs: f.durationMs as number }
  if (f.version !== undefined) out.version = f.version as string
  // The API answers the caller with the result: data JSON cannot show becomes a placeholder
  // saying why (record-data.ts), so the caller gets an answer rather than a timeout.
  if (f.ok === true) out.result = readableData(f.result ?? null)
  else {
    const e = f.error as Record<string, unknown> | undefined
    field(isMap(e) && isText(e.code, 64), 'error', '{ code, message }')
    out.error = { code: (e as Record<string, unknown>).code as string, message: clean((e as Record<string, unknown>).message ?? '') }
  }
  return out
}
