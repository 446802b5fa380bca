// Shapes that cross between the pool, its workers and callers: what a function is, what one
// invocation asks for, and what it produced. Everything here is plain data (structured-clone safe).

import type { Limits } from '../function/index.js'

/** The sandbox enforces exactly the manifest's limits. */
export type SandboxLimits = Limits

/** Size caps on everything that crosses the sandbox boundary, in bytes (counts where named). */
export interface IoCaps {
  eventBytes: number
  resultBytes: number
  stateBytes: number
  logBytes: number
  publishBytes: number
  maxPublishes: number
  emitBytes: number
  maxEmits: number
}

/** What a worker needs to build instances of one function version. */
export interface FunctionSpec {
  name: string
  version: string
  /** Relative POSIX path -> source, as loaded from the function folder or bundle. */
  files: Record<string, string>
  /** Layer name -> ES module source, importable by bare name. */
  layers: Record<string, string>
  handler: string
  limits: SandboxLimits
  env: Record<string, string>
  /** MQTT topic filters `ctx.publish` may use. */
  publish: string[]
  /** Warm instances kept ready (docs/architecture.md, "Functions", `provisioned`). */
  provisioned: number
}

export interface InvokeOptions {
  invocationId?: string
  traceId?: string
  /** The function's persisted `ctx.state`; `{}` when absent. */
  state?: unknown
  /**
   * The version of `state` (from an earlier outcome's `stateVersion`). A warm instance that
   * produced a newer version itself uses its own, so calls can be queued without waiting for
   * the previous outcome; omit it (or pass -1) to always use `state`.
   */
  stateVersion?: number
  /** `state` already as JSON, for a caller that keeps it so (used instead of `state`). */
  stateJson?: string
  /** Per-call overrides, clamped to the function's own limits by the caller. */
  timeoutMs?: number
  instructions?: number
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export interface LogEntry { level: LogLevel, time: number, msg: string }
/**
 * One ctx.publish. `correlationData` (base64) and `responseTopic` are MQTT 5 request/response
 * properties (section 4.10), present only when the function gave them.
 */
export interface PublishRequest { topic: string, payload: unknown, qos: 0 | 1, retain: boolean, correlationData?: string, responseTopic?: string }

export interface OutcomeError {
  code: string
  message: string
  stack?: string
  details?: Record<string, unknown>
}

interface OutcomeBase {
  invocationId: string
  traceId: string
  functionName: string
  version: string
  durationMs: number
  /** QuickJS interrupt polls x INSTRUCTIONS_PER_POLL (see budget.ts for the granularity). */
  instructions: number
  /** The instance's wasm memory size after the call: its real high-water, in bytes. */
  memoryBytes: number
  memoryLimitBytes: number
  coldStart: boolean
  logs: LogEntry[]
}

export interface OutcomeOk extends OutcomeBase {
  ok: true
  result: unknown
  publishes: PublishRequest[]
  emits: unknown[]
  /** The new state when the handler changed it, else undefined. */
  state: unknown
  stateChanged: boolean
  /** The new state's version when it changed (see InvokeOptions.stateVersion). */
  stateVersion?: number
}

export interface OutcomeFail extends OutcomeBase {
  ok: false
  error: OutcomeError
}

export type Outcome = OutcomeOk | OutcomeFail
