// Builds the public Outcome of one invocation from what the worker sent back: parses the
// envelope the worker already checked against the caps (output-check.ts) and checks publishes
// against the function's permissions once more where the outcome is made.
import { ErrorCodes } from '../errors.js'
import { classifyEnvelopeError } from './classify.js'
import { PLAIN_LEAD, publishAllowed } from './output-check.js'
import type { RawOutcome } from './protocol.js'
import type { FunctionSpec, LogEntry, LogLevel, Outcome, OutcomeError, PublishRequest } from './types.js'

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
  if (raw.envelope === undefined) {
    const f = raw.failure ?? { code: ErrorCodes.SANDBOX_CRASHED, message: 'the sandbox returned nothing' }
    return failed(raw, spec, call, instructionsPerPoll, [], { code: f.code, message: f.message, stack: f.stack, details: f.details })
  }
  let envelope = raw.envelope
  if (raw.plain === true) {
    // Nothing but a result, as far as the worker could tell (output-check.ts plainResult).
    if (envelope === '') return ok(raw, spec, call, instructionsPerPoll, [], undefined, [], [], undefined, false, undefined)
    try {
      return ok(raw, spec, call, instructionsPerPoll, [], JSON.parse(envelope), [], [], undefined, false, undefined)
    } catch {
      envelope = PLAIN_LEAD + envelope + '}'
    }
  }
  let env: Envelope
  let logs: LogEntry[] = []
  try {
    env = JSON.parse(envelope) as Envelope
    if (env.logs !== undefined) logs = env.logs.map(([level, time, msg]) => ({ level, time, msg }))
  } catch (cause) {
    return failed(raw, spec, call, instructionsPerPoll, logs, { code: ErrorCodes.SANDBOX_CRASHED, message: `the sandbox returned a malformed envelope: ${String(cause)}` })
  }
  if (!env.ok || env.err !== undefined) {
    const e = env.err ?? { name: 'Error', message: 'unknown failure' }
    const f = classifyEnvelopeError(e, { ...spec.limits, timeoutMs: call.timeoutMs, instructions: call.instructions })
    return failed(raw, spec, call, instructionsPerPoll, logs, { code: f.code, message: f.message, stack: f.stack, details: f.details })
  }
  // The worker checked every publish (output-check.ts); the grant is checked once more here,
  // where the outcome is made, so no other path can hand on a publish that was not allowed.
  const publishes: PublishRequest[] = []
  if (env.pubs !== undefined) {
    for (const [topic, payload, qos, retain, props] of env.pubs) {
      if (!publishAllowed(topic, spec.publish)) {
        return failed(raw, spec, call, instructionsPerPoll, logs, { code: ErrorCodes.PERMISSION_DENIED, message: `publishing to "${topic}" is not allowed by permissions.publish` })
      }
      const p: PublishRequest = { topic, payload, qos, retain }
      if (props?.c !== undefined) p.correlationData = props.c
      if (props?.rt !== undefined) p.responseTopic = props.rt
      publishes.push(p)
    }
  }
  return ok(raw, spec, call, instructionsPerPoll, logs, env.r, publishes, env.emits ?? [], env.s, 's' in env, env.sv)
}

// One literal with every field, in the order of OutcomeOk (V8 builds it at once).
function ok (raw: RawOutcome, spec: FunctionSpec, call: CallInfo, instructionsPerPoll: number, logs: LogEntry[], result: unknown,
  publishes: PublishRequest[], emits: unknown[], state: unknown, stateChanged: boolean, stateVersion: number | undefined): Outcome {
  return {
    invocationId: call.invocationId,
    traceId: call.traceId,
    functionName: spec.name,
    version: spec.version,
    durationMs: raw.durationMs,
    instructions: raw.polls * instructionsPerPoll,
    memoryBytes: raw.memoryBytes,
    memoryLimitBytes: raw.memoryLimitBytes,
    coldStart: raw.coldStart,
    logs,
    ok: true,
    result,
    publishes,
    emits,
    state,
    stateChanged,
    stateVersion
  }
}

function failed (raw: RawOutcome, spec: FunctionSpec, call: CallInfo, instructionsPerPoll: number, logs: LogEntry[], error: OutcomeError): Outcome {
  return {
    invocationId: call.invocationId,
    traceId: call.traceId,
    functionName: spec.name,
    version: spec.version,
    durationMs: raw.durationMs,
    instructions: raw.polls * instructionsPerPoll,
    memoryBytes: raw.memoryBytes,
    memoryLimitBytes: raw.memoryLimitBytes,
    coldStart: raw.coldStart,
    logs,
    ok: false,
    error
  }
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
