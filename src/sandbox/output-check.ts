// The host's check of everything a sandbox call hands back, run in the worker thread before
// the envelope is posted or its state adopted. The prelude applies the same caps first, but a
// function can replace the built-ins the prelude relies on, so nothing it computed after user
// code ran is trusted: counts, UTF-8 sizes, topics and permissions are all checked again here.
import { ErrorCodes } from '../errors.js'
// From its own file, not src/function/index.js: the index brings the function loader and acorn into the sandbox thread.
import { reservedTopicProblem, topicMatches, topicNameProblem } from '../function/topic-filter.js'
import { ERROR_TEXT_CHARS, MAX_CORRELATION_BASE64 } from './prelude.js'
import { jsonStringEnd, jsonValueEnd } from './json-scan.js'
import type { IoCaps } from './types.js'

const LEVELS = new Set(['debug', 'info', 'warn', 'error'])
/** Bytes each log entry counts besides its message (level and time, as the prelude counts). */
export const LOG_ENTRY_BYTES = 24
/** The longest MQTT topic, in UTF-8 bytes (MQTT 5 section 1.5.4). */
const MAX_TOPIC_BYTES = 65535

/**
 * The most UTF-16 units an envelope within `caps` can take, before it is parsed. JSON text
 * of a value is never longer than its UTF-8 bytes, but a string payload or log message sent
 * as it is can grow sixfold when escaped (`\u0001`), and a topic twofold (`\"`).
 */
export function maxEnvelopeChars (caps: IoCaps): number {
  // A topic, and a response topic and correlation data when given (MQTT 5 request/response).
  const perPublish = 6 * caps.publishBytes + 4 * MAX_TOPIC_BYTES + MAX_CORRELATION_BASE64 + 48
  return 1024 + caps.resultBytes + caps.stateBytes + 8 * caps.logBytes + caps.emitBytes + caps.maxEmits +
    caps.maxPublishes * perPublish + 12 * ERROR_TEXT_CHARS
}

/**
 * An envelope no longer than this, without a backslash and without publishes, emits or a new
 * state (which the worker keeps, so it is always checked whole), cannot break a cap: each of its parts is at most 6 UTF-8 bytes per character once
 * re-encoded (3 for a character, a little over 5 for a number such as `1e20`), plus 24 bytes a
 * log entry of at least 12 characters. So the common trivial call is not parsed twice.
 */
function fastChars (caps: IoCaps): number {
  return Math.floor(Math.min(caps.resultBytes, caps.stateBytes, caps.logBytes) / 6)
}

/**
 * A backslash, or a key whose value is checked whole (state, publishes, emits). One regular
 * expression scan costs a quarter of five includes() (76 against 330 ns on a trivial envelope).
 */
const KEPT_OR_ESCAPED = /\\|"(?:s|sv|pubs|emits)"/

export const PLAIN_LEAD = '{"ok":true,"r":'
/** Any key besides "ok" and "r" (an escape could spell one, so a backslash counts too). */
const OTHER_KEY = /\\|"(?:s|sv|pubs|emits|logs|err)"/

/**
 * For an envelope that looks like nothing but a result (`{"ok":true,"r":X}` or
 * `{"ok":true}`) and is short enough that checkEnvelope() would pass it without parsing, the
 * result's JSON X ('' for none), so the main thread parses only X; otherwise undefined (then
 * checkEnvelope() decides). X is cut out unparsed: if it is valid JSON the envelope was
 * exactly that one key; if not, the reader puts the envelope back together
 * (PLAIN_LEAD + X + '}') and reads it whole.
 */
export function plainResult (envelope: string, caps: IoCaps): string | undefined {
  if (envelope === '{"ok":true}') return ''
  if (envelope.length > fastChars(caps) || !envelope.startsWith(PLAIN_LEAD) || !envelope.endsWith('}') || OTHER_KEY.test(envelope)) return undefined
  return envelope.slice(PLAIN_LEAD.length, -1)
}

export interface OutputFailure {
  code: string
  /** The cap that was passed (details.limit), when one was. */
  limit?: string
  message: string
  /** The call's logs, when they were well-formed and within their cap: kept with the failure. */
  logs?: unknown[]
}

// Buffer.byteLength counts a lone surrogate as U+FFFD (3 bytes), as Buffer.from() sends it.
const utf8 = (s: string): number => Buffer.byteLength(s)

function jsonBytes (v: unknown): number {
  const s = JSON.stringify(v)
  return s === undefined ? 0 : utf8(s)
}

const over = (limit: keyof IoCaps, what: string, size: number, cap: number): OutputFailure =>
  ({ code: ErrorCodes.OUTPUT_LIMIT, limit, message: `${what} is ${size} bytes, over the ${cap} byte cap (${limit}, counted as UTF-8 as stored and sent)` })
const tooMany = (limit: keyof IoCaps, what: string, n: number, cap: number): OutputFailure =>
  ({ code: ErrorCodes.OUTPUT_LIMIT, limit, message: `${n} ${what} in one invocation, over the cap of ${cap} (${limit})` })
const malformed = (why: string): OutputFailure =>
  ({ code: ErrorCodes.FUNCTION_ERROR, message: `the function's output was malformed (${why}): did it replace a built-in the sandbox glue uses?` })

/**
 * Checks one envelope against `caps` and the function's publish filters. Returns undefined
 * when it may be used as it is, or why it may not (OUTPUT_LIMIT with `limit`, TOPIC_INVALID,
 * PERMISSION_DENIED, or FUNCTION_ERROR for a malformed envelope).
 */
export function checkEnvelope (envelope: string, caps: IoCaps, publish: readonly string[]): OutputFailure | undefined {
  const most = maxEnvelopeChars(caps)
  if (envelope.length > most) {
    return { code: ErrorCodes.OUTPUT_LIMIT, limit: 'envelope', message: `the function's output is ${envelope.length} characters, more than any output within the caps can take (${most})` }
  }
  // Without a backslash no key can be spelt in escapes, so a key not found here is absent.
  if (envelope.length <= fastChars(caps) && !KEPT_OR_ESCAPED.test(envelope)) return undefined
  if (publishesPass(envelope, caps, publish)) return undefined
  let env: unknown
  try {
    env = JSON.parse(envelope)
  } catch {
    return malformed('not JSON')
  }
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return malformed('not an object')
  const e = env as Record<string, unknown>
  const logs = checkLogs(e.logs, caps)
  if (logs !== undefined) return logs
  if (e.ok !== true) return e.err !== null && typeof e.err === 'object' ? undefined : malformed('a failure without an error')
  const f = checkParts(e, caps, publish, envelope.length)
  if (f !== undefined && Array.isArray(e.logs)) f.logs = e.logs
  return f
}

function checkParts (e: Record<string, unknown>, caps: IoCaps, publish: readonly string[], envelopeChars: number): OutputFailure | undefined {
  if ('r' in e) {
    const n = jsonBytes(e.r)
    if (n > caps.resultBytes) return over('resultBytes', 'the result', n, caps.resultBytes)
  }
  if ('s' in e || 'sv' in e) {
    if (!Number.isSafeInteger(e.sv) || (e.sv as number) < 0) return malformed('a state without a version')
    if (e.s === null || typeof e.s !== 'object' || Array.isArray(e.s)) return malformed('a state that is not an object')
    const n = jsonBytes(e.s)
    if (n > caps.stateBytes) return over('stateBytes', 'ctx.state', n, caps.stateBytes)
  }
  return checkPublishes(e.pubs, caps, publish, envelopeChars) ?? checkEmits(e.emits, caps)
}

function checkLogs (logs: unknown, caps: IoCaps): OutputFailure | undefined {
  if (logs === undefined) return undefined
  if (!Array.isArray(logs)) return malformed('logs are not a list')
  let bytes = 0
  for (const l of logs as unknown[]) {
    if (!Array.isArray(l) || l.length !== 3 || !LEVELS.has(l[0] as string) || typeof l[1] !== 'number' || typeof l[2] !== 'string') return malformed('a log entry')
    bytes += utf8(l[2]) + LOG_ENTRY_BYTES
  }
  return bytes > caps.logBytes ? over('logBytes', 'the logs of this invocation', bytes, caps.logBytes) : undefined
}

/**
 * The last topic a publish was let through to, with the filters it was checked against: the
 * verdict depends on nothing else, and a function most often publishes to one topic, so its
 * name and grant checks (about 0.3 us) run once. Matched by identity of the filter list (the
 * function's spec) and equality of the topic string.
 */
let passed: { publish: readonly string[], topic: string } = { publish: [], topic: '' }

const remembered = (topic: unknown, publish: readonly string[]): boolean => topic === passed.topic && publish === passed.publish

/**
 * Whether `topic`, a valid topic name, may be published to under the filters `publish`: not a
 * reserved topic, and matched by a filter. The last topic allowed is remembered (see above).
 */
export function publishAllowed (topic: string, publish: readonly string[]): boolean {
  if (remembered(topic, publish)) return true
  if (reservedTopicProblem(topic) !== undefined || !publish.some((f) => topicMatches(f, topic))) return false
  passed = { publish, topic }
  return true
}

/** Why `topic` may not be published to under `publish`, or undefined. */
function topicRefusal (topic: unknown, publish: readonly string[]): OutputFailure | undefined {
  if (remembered(topic, publish)) return undefined
  const bad = topicNameProblem(topic)
  if (bad !== undefined) return { code: ErrorCodes.TOPIC_INVALID, message: `ctx.publish: the topic ${JSON.stringify(String(topic).slice(0, 200))} ${bad}` }
  if (publishAllowed(topic as string, publish)) return undefined
  const reserved = reservedTopicProblem(topic as string)
  if (reserved !== undefined) return { code: ErrorCodes.PERMISSION_DENIED, message: `publishing to "${topic as string}" is not allowed: ${reserved}, whatever permissions.publish says` }
  return { code: ErrorCodes.PERMISSION_DENIED, message: `publishing to "${topic as string}" is not allowed by permissions.publish` }
}

/**
 * `envelopeChars`: the length of the envelope the publishes came in. A payload's JSON grows at
 * most sixfold when re-encoded (see fastChars()), so when six times that is within
 * publishBytes no payload can pass it and none is measured.
 */
function checkPublishes (pubs: unknown, caps: IoCaps, publish: readonly string[], envelopeChars: number): OutputFailure | undefined {
  if (pubs === undefined) return undefined
  if (!Array.isArray(pubs)) return malformed('publishes are not a list')
  if (pubs.length > caps.maxPublishes) return tooMany('maxPublishes', 'publishes', pubs.length, caps.maxPublishes)
  for (const p of pubs as unknown[]) {
    if (!Array.isArray(p) || (p.length !== 4 && p.length !== 5) || (p[2] !== 0 && p[2] !== 1) || typeof p[3] !== 'boolean') return malformed('a publish')
    if (p.length === 5) {
      const props = requestPropsProblem(p[4])
      if (props !== undefined) return props
    }
    const topic = p[0]
    const refused = topicRefusal(topic, publish)
    if (refused !== undefined) return refused
    if (envelopeChars * 6 <= caps.publishBytes) continue
    const n = typeof p[1] === 'string' ? utf8(p[1]) : jsonBytes(p[1])
    if (n > caps.publishBytes) return over('publishBytes', `a publish payload to "${topic as string}"`, n, caps.publishBytes)
  }
  return undefined
}

/** How the prelude's envelope of a call that only published begins (prelude.ts run()). */
const PUBS_LEAD = '{"ok":true,"pubs":['

/**
 * Whether an envelope of publishes alone passes every check below, told without JSON.parse
 * (a relay call's envelope: the parse was 0.9 of the check's 1.3-1.5 us, json-scan.ts). True
 * only for PUBS_LEAD, then entries [topic,payload,qos,retain] (qos 0 or 1, a topic written
 * without escapes and let through by topicRefusal(), a payload that is one JSON value), then
 * ']}' and nothing else, at most maxPublishes of them, in an envelope too short for any
 * payload to pass publishBytes. False says only "not told here": the envelope is then
 * parsed and checked whole, with the errors that gives.
 */
export function publishesPass (envelope: string, caps: IoCaps, publish: readonly string[]): boolean {
  if (envelope.length * 6 > caps.publishBytes || !envelope.startsWith(PUBS_LEAD)) return false
  const end = envelope.length - 2
  let i = PUBS_LEAD.length
  for (let n = 1; n <= caps.maxPublishes; n++) {
    if (envelope.charCodeAt(i) !== 0x5b) return false
    const topicEnd = jsonStringEnd(envelope, i + 1)
    if (envelope.charCodeAt(i + 1) !== 0x22 || topicEnd < 0 || envelope.charCodeAt(topicEnd) !== 0x2c) return false
    const topic = envelope.slice(i + 2, topicEnd - 1)
    if (topic.includes('\\') || topicRefusal(topic, publish) !== undefined) return false
    i = jsonValueEnd(envelope, topicEnd + 1)
    if (i < 0) return false
    const qos = envelope.charCodeAt(i + 1)
    if (envelope.charCodeAt(i) !== 0x2c || (qos !== 0x30 && qos !== 0x31) || envelope.charCodeAt(i + 2) !== 0x2c) return false
    i += 3
    if (envelope.startsWith('true]', i)) i += 5
    else if (envelope.startsWith('false]', i)) i += 6
    else return false
    if (i === end) return envelope.endsWith(']}')
    if (envelope.charCodeAt(i) !== 0x2c) return false
    i++
  }
  return false
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** A publish's MQTT 5 request/response properties: { c: correlation data (base64), rt: response topic }. */
function requestPropsProblem (v: unknown): OutputFailure | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return malformed('a publish\'s properties')
  const { c, rt, ...rest } = v as Record<string, unknown>
  if (Object.keys(rest).length > 0 || (c === undefined && rt === undefined)) return malformed('a publish\'s properties')
  if (c !== undefined && (typeof c !== 'string' || c.length > MAX_CORRELATION_BASE64 || !BASE64.test(c))) {
    return { code: ErrorCodes.FUNCTION_ERROR, message: 'ctx.publish: correlationData must be base64 of at most 65535 bytes' }
  }
  if (rt !== undefined) {
    const bad = topicNameProblem(rt)
    if (bad !== undefined) return { code: ErrorCodes.TOPIC_INVALID, message: `ctx.publish: the responseTopic ${JSON.stringify(String(rt).slice(0, 200))} ${bad}` }
  }
  return undefined
}

function checkEmits (emits: unknown, caps: IoCaps): OutputFailure | undefined {
  if (emits === undefined) return undefined
  if (!Array.isArray(emits)) return malformed('emits are not a list')
  if (emits.length > caps.maxEmits) return tooMany('maxEmits', 'emits', emits.length, caps.maxEmits)
  let bytes = 0
  for (const r of emits as unknown[]) bytes += jsonBytes(r)
  return bytes > caps.emitBytes ? over('emitBytes', 'the emitted records', bytes, caps.emitBytes) : undefined
}

/** The envelope the worker posts instead of one that failed checkEnvelope(). */
export function failureEnvelope (f: OutputFailure): string {
  return JSON.stringify({ ok: false, logs: f.logs, err: { code: f.code, kind: f.limit, name: 'Error', message: f.message } })
}
