// Turns whatever came out of a sandbox call (a QuickJS error dumped to the host, a host
// exception raised from inside wasm, or our interrupt reason) into one stable error code.
import { errors as qjsErrors } from 'quickjs-emscripten'
import { ErrorCodes } from '../errors.js'

export interface RawFailure {
  code: string
  message: string
  stack?: string
  details?: Record<string, unknown>
  /** false when the instance is still consistent and may be reused. */
  poison?: boolean
}

interface Dumped { name?: unknown, message?: unknown, stack?: unknown, lambkinCode?: unknown, lambkinKind?: unknown }

function unwrap (err: unknown): { dumped: Dumped, host: boolean } {
  if (err instanceof qjsErrors.QuickJSUnwrapError) {
    const cause = err.cause
    return { dumped: (typeof cause === 'object' && cause !== null ? cause : { message: String(cause) }) as Dumped, host: false }
  }
  if (err instanceof Error) return { dumped: err as Dumped, host: true }
  if (typeof err === 'object' && err !== null) return { dumped: err as Dumped, host: false }
  return { dumped: { message: String(err) }, host: false }
}

export function classify (
  err: unknown,
  reason: 'timeout' | 'instructions' | undefined,
  limits: { timeoutMs: number, instructions: number, memoryKiB: number },
  atMemoryCap: boolean
): RawFailure {
  if (reason === 'timeout') {
    return { code: ErrorCodes.TIMEOUT, message: `the function ran past its timeoutMs of ${limits.timeoutMs} ms and was stopped`, details: { timeoutMs: limits.timeoutMs } }
  }
  if (reason === 'instructions') {
    return { code: ErrorCodes.INSTRUCTION_LIMIT, message: `the function used its instruction budget of ${limits.instructions} and was stopped; raise limits.instructions if the work is legitimate`, details: { instructions: limits.instructions } }
  }
  const { dumped, host } = unwrap(err)
  const name = typeof dumped.name === 'string' ? dumped.name : 'Error'
  const message = typeof dumped.message === 'string' ? dumped.message : String(dumped.message)
  const stack = typeof dumped.stack === 'string' ? dumped.stack : undefined
  const memory = (): RawFailure => ({
    code: ErrorCodes.MEMORY_LIMIT,
    message: `the function ran out of its ${limits.memoryKiB} KiB memory budget; raise limits.memoryKiB or hold less data`,
    details: { memoryKiB: limits.memoryKiB }
  })
  const stackFailure = (): RawFailure => ({
    code: ErrorCodes.STACK_LIMIT,
    message: 'the function exceeded its stack limit (deep recursion or deeply nested data); raise limits.stackKiB or flatten the work',
    stack
  })
  if (host) {
    // Raised by V8 or Emscripten while wasm ran: the instance cannot be trusted again.
    if (err instanceof RangeError && /call stack/i.test(message)) return stackFailure()
    if (atMemoryCap) return memory()
    return { code: ErrorCodes.SANDBOX_CRASHED, message: `the sandbox crashed (${name}: ${message}); it was rebuilt`, stack }
  }
  // QuickJS strings are ropes, so doubling one reaches the 2^30 length limit before it
  // touches much memory; it is the same runaway growth, so it gets the same code.
  if (message === 'out of memory' || message === 'string too long') return memory()
  if (message === 'stack overflow') return { ...stackFailure(), poison: false }
  if (message === 'interrupted') {
    return { code: ErrorCodes.TIMEOUT, message: 'the function was interrupted', stack }
  }
  return { code: ErrorCodes.FUNCTION_ERROR, message: `${name}: ${message}`, stack, poison: false }
}

const GLUE_CODES = new Set<string>([ErrorCodes.OUTPUT_LIMIT, ErrorCodes.PERMISSION_DENIED, ErrorCodes.TOPIC_INVALID, ErrorCodes.FUNCTION_ERROR])

/** Maps the prelude's envelope error (already carrying our code when the glue raised it). */
export function classifyEnvelopeError (
  e: { code?: string, kind?: string, name: string, message: string, stack?: string },
  limits: { timeoutMs: number, instructions: number, memoryKiB: number }
): RawFailure {
  // Only codes the glue raises are believed: a function cannot dress its own throw up as,
  // say, a timeout by setting lambkinCode.
  if (typeof e.code === 'string' && GLUE_CODES.has(e.code)) {
    return { code: e.code, message: e.message, stack: e.stack, details: e.kind === undefined ? undefined : { limit: e.kind }, poison: false }
  }
  return classify(e, undefined, limits, false)
}
