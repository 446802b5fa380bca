// `lambkin invoke <fn-dir>`: runs one function once in the same sandbox the device uses and
// prints its result, so what works on a laptop works on the board.
import { ErrorCodes } from '../../src/errors.js'
import { loadFunctionDir, LIMIT_CAPS } from '../../src/function/index.js'
import { SandboxPool, specOf } from '../../src/sandbox/index.js'
import type { Outcome } from '../../src/sandbox/index.js'
import { EXIT_FAILURE, EXIT_OK, printError, usageError } from '../io.js'
import { parseDecimalInteger } from '../../src/decimal.js'
import type { CliIo } from '../io.js'
import { command, runProgram } from '../program.js'
import { jsonArg as parseJsonArg } from '../json-arg.js'
import type { Run } from '../program.js'
import { REMOTE_INVOKE_USAGE } from './invoke-remote.js'

export const INVOKE_USAGE = 'usage: lambkin invoke <fn-dir> [--event JSON|@file] [--state JSON|@file] [--timeout ms] [--memory KiB] [--instructions N] [--layers dir] [--json]'

const jsonArg = async (name: string, raw: string): Promise<unknown> => await parseJsonArg(name, raw, INVOKE_USAGE)

function intArg (name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined
  const n = parseDecimalInteger(raw)
  if (n === undefined || n < min || n > max) throw usageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`, INVOKE_USAGE)
  return n
}

/**
 * What `invoke --json` prints for a call that ran: the shape docs/cli.md documents, built here
 * field by field so that a change inside the sandbox's Outcome does not change the CLI's output.
 * `result` is null when the handler returned undefined (JSON has no undefined); `state` is
 * present only when the handler changed ctx.state. A call that never ran (bad usage, a bad
 * manifest) prints `{ ok: false, error: { code, message, details } }` from printError instead.
 */
export function invokeJson (o: Outcome): Record<string, unknown> {
  const head = o.ok
    ? {
        ok: true,
        result: o.result ?? null,
        publishes: o.publishes,
        emits: o.emits,
        stateChanged: o.stateChanged,
        ...(o.stateChanged ? { state: o.state } : {})
      }
    : {
        ok: false,
        error: {
          code: o.error.code,
          message: o.error.message,
          ...(o.error.stack === undefined ? {} : { stack: o.error.stack }),
          ...(o.error.details === undefined ? {} : { details: o.error.details })
        }
      }
  return {
    ...head,
    logs: o.logs,
    invocationId: o.invocationId,
    traceId: o.traceId,
    functionName: o.functionName,
    version: o.version,
    durationMs: o.durationMs,
    instructions: o.instructions,
    memoryBytes: o.memoryBytes,
    memoryLimitBytes: o.memoryLimitBytes,
    coldStart: o.coldStart
  }
}

function render (io: CliIo, o: Outcome): void {
  for (const l of o.logs) io.stderr(`[${l.level}] ${l.msg}\n`)
  if (!o.ok) return
  for (const p of o.publishes) {
    const props = `${p.correlationData === undefined ? '' : ` correlation ${p.correlationData}`}${p.responseTopic === undefined ? '' : ` response-topic ${p.responseTopic}`}`
    io.stderr(`[publish qos${p.qos}${p.retain ? ' retain' : ''}${props}] ${p.topic} ${typeof p.payload === 'string' ? p.payload : JSON.stringify(p.payload)}\n`)
  }
  for (const e of o.emits) io.stderr(`[emit] ${JSON.stringify(e)}\n`)
  if (o.stateChanged) io.stderr(`[state] ${JSON.stringify(o.state)}\n`)
}

interface InvokeFlags { event?: string, state?: string, timeout?: string, memory?: string, instructions?: string, layers?: string, json?: boolean }

/** `lambkin invoke`: parses argv with commander; returns the exit code (0 ok, 1 failed, 2 bad usage). */
export async function invokeCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: EXIT_OK }
  const program = command('lambkin invoke', io, INVOKE_USAGE)
    .description('Runs a function once in the sandbox the device uses and prints its result as JSON on stdout; logs, publishes, emits and the new state go to stderr. An event without `source` gets source "invoke" and a time.')
    .argument('<fn-dir>', 'the function folder (function.json and its code)')
    .option('--event <json|@file>', 'the event, as JSON or @file (default {})')
    .option('--state <json|@file>', 'ctx.state to start from, as JSON or @file')
    .option('--timeout <ms>', 'timeoutMs for this call (at most the cap)')
    .option('--memory <KiB>', 'memoryKiB for this call (16384 up to the cap)')
    .option('--instructions <n>', 'instruction budget for this call')
    .option('--layers <dir>', 'folder of layers (default: layers/ beside the function folder)')
    .option('--json', 'print one JSON object on stdout instead')
    .addHelpText('after', `\nOn a board, through the cloud: ${REMOTE_INVOKE_USAGE.replace(/^usage: /, '')}\n`)
    .action(async (dir: string, values: InvokeFlags) => { run.code = await invokeOnce(dir, values, io) })
  return await runProgram(program, argv, io, run, () => argv.includes('--json'))
}

async function invokeOnce (dir: string, values: InvokeFlags, io: CliIo): Promise<number> {
  const json = values.json === true
  let pool: SandboxPool | undefined
  try {
    const overrides = {
      timeoutMs: intArg('timeout', values.timeout, 1, LIMIT_CAPS.timeoutMs),
      memoryKiB: intArg('memory', values.memory, 16384, LIMIT_CAPS.memoryKiB),
      instructions: intArg('instructions', values.instructions, 10_000, LIMIT_CAPS.instructions)
    }
    let event = values.event === undefined ? {} : await jsonArg('event', values.event)
    if (event !== null && typeof event === 'object' && !Array.isArray(event) && !('source' in event)) {
      event = { source: 'invoke', time: Date.now(), ...event }
    }
    const state = values.state === undefined ? undefined : await jsonArg('state', values.state)
    const fn = await loadFunctionDir(dir, { layersDir: values.layers })
    const limits = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined))
    pool = await SandboxPool.create({ workers: 1, spares: 0, deviceId: 'local' })
    const key = await pool.load({ ...specOf(fn, limits), provisioned: 0 })
    const o = await pool.invoke(key, event, { state })
    if (json) {
      io.stdout(JSON.stringify(invokeJson(o)) + '\n')
      return o.ok ? EXIT_OK : EXIT_FAILURE
    }
    render(io, o)
    if (!o.ok) {
      io.stderr(`${o.error.code}: ${o.error.message}\n`)
      if (o.error.code === ErrorCodes.FUNCTION_ERROR && o.error.stack !== undefined) io.stderr(o.error.stack + '\n')
      return EXIT_FAILURE
    }
    io.stdout((o.result === undefined ? 'null' : JSON.stringify(o.result, null, 2)) + '\n')
    return EXIT_OK
  } catch (err) {
    return printError(io, err, json)
  } finally {
    await pool?.close()
  }
}
