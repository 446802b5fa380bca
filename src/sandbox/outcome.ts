// Builds the public Outcome of one invocation from what the worker sent back: parses the
// envelope the worker already checked against the caps (output-check.ts) and checks publishes
// against the function's permissions once more where the outcome is made.
import { ErrorCodes } from '../errors.js'
import { reservedTopicProblem, topicMatches } from '../function/index.js'
import { classifyEnvelopeError } from './classify.js'
import type { RawOutcome } from './protocol.js'
import type { FunctionSpec, LogEntry, LogLevel, Outcome, OutcomeError, OutcomeOk, PublishRequest } from './types.js'

interface Envelope {
  ok: boolean
  logs?: Array<[LogLevel, number, string]>
  r?: unknown
  s?: unknown
  sv?: number
  pubs?: Array<[string, unknown, 0 | 1, boolean, { c?: string, rt?: string }?]>
  emits?: unknown[]
  err?: { code?: string, kind?: string, name: string, message: string, stack?: string }
}

export interface CallInfo { invocationId: string, traceId: string, timeoutMs: number, instructions: number }

export function buildOutcome (raw: RawOutcome, spec: FunctionSpec, call: CallInfo, instructionsPerPoll: number): Outcome {
  const base = {
    invocationId: call.invocationId,
    traceId: call.traceId,
    functionName: spec.name,
    version: spec.version,
    durationMs: raw.durationMs,
    instructions: raw.polls * instructionsPerPoll,
    memoryBytes: raw.memoryBytes,
    memoryLimitBytes: raw.memoryLimitBytes,
    coldStart: raw.coldStart,
    logs: [] as LogEntry[]
  }
  const fail = (error: OutcomeError): Outcome => ({ ...base, ok: false, error })
  if (raw.envelope === undefined) {
    const f = raw.failure ?? { code: ErrorCodes.SANDBOX_CRASHED, message: 'the sandbox returned nothing' }
    return fail({ code: f.code, message: f.message, stack: f.stack, details: f.details })
  }
  let env: Envelope
  try {
    env = JSON.parse(raw.envelope) as Envelope
    if (env.logs !== undefined) base.logs = env.logs.map(([level, time, msg]) => ({ level, time, msg }))
  } catch (cause) {
    return fail({ code: ErrorCodes.SANDBOX_CRASHED, message: `the sandbox returned a malformed envelope: ${String(cause)}` })
  }
  if (!env.ok || env.err !== undefined) {
    const e = env.err ?? { name: 'Error', message: 'unknown failure' }
    const f = classifyEnvelopeError(e, { ...spec.limits, timeoutMs: call.timeoutMs, instructions: call.instructions })
    return fail({ code: f.code, message: f.message, stack: f.stack, details: f.details })
  }
  // The worker checked every publish (output-check.ts); the grant is checked once more here,
  // where the outcome is made, so no other path can hand on a publish that was not allowed.
  const publishes: PublishRequest[] = []
  for (const [topic, payload, qos, retain, props] of env.pubs ?? []) {
    if (reservedTopicProblem(topic) !== undefined || !spec.publish.some((filter) => topicMatches(filter, topic))) {
      return fail({ code: ErrorCodes.PERMISSION_DENIED, message: `publishing to "${topic}" is not allowed by permissions.publish` })
    }
    const p: PublishRequest = { topic, payload, qos, retain }
    if (props?.c !== undefined) p.correlationData = props.c
    if (props?.rt !== undefined) p.responseTopic = props.rt
    publishes.push(p)
  }
  const out = base as OutcomeOk
  out.ok = true
  out.result = env.r
  out.publishes = publishes
  out.emits = env.emits ?? []
  out.state = env.s
  out.stateChanged = 's' in env
  out.stateVersion = env.sv
  return out
}

/** An outcome for a call that never reached a sandbox (throttled, quarantined, too big). */
export function rejectedOutcome (spec: { name: string, version: string }, call: { invocationId: string, traceId: string }, error: OutcomeError): Outcome {
  return {
    ok: false,
    error,
    invocationId: call.invocationId,
    traceId: call.traceId,
    functionName: spec.name,
    version: spec.version,
    durationMs: 0,
    instructions: 0,
    memoryBytes: 0,
    memoryLimitBytes: 0,
    coldStart: false,
    logs: []
  }
}
