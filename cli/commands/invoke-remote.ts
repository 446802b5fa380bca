// `lambkin invoke --device <id> <fn> --event JSON`: runs a function on a board through the
// cloud and prints its result [W7] (docs/cloud.md, "The operator API": POST /v1/devices/:id/invoke). The board
// runs it as a normal invocation with event.source "invoke" and keeps it in its outbox.
import { ApiClient, pathPart } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { EXIT_FAILURE, EXIT_OK } from '../io.js'
import type { CliIo } from '../io.js'
import { jsonArg } from '../json-arg.js'
import { apiOptions, command, intOption, runProgram } from '../program.js'
import type { Run } from '../program.js'
import type { InvokeAnswer } from '../rollout-view.js'
import { printable } from '../table.js'

export const REMOTE_INVOKE_USAGE = 'usage: lambkin invoke --device <id> <fn> [--event JSON|@file] [--timeout ms] [--json]'

/** Default and largest --timeout, ms: a remote call answers or fails within this. */
export const REMOTE_INVOKE_TIMEOUT = Object.freeze({ defaultMs: 10_000, maxMs: 300_000 })

/** `lambkin invoke --device`: 0 when the function ran and returned, 1 when it failed or never ran, 2 for bad usage. */
export async function remoteInvokeCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: EXIT_OK }
  let json = argv.includes('--json')
  const program = apiOptions(command('lambkin invoke', io, REMOTE_INVOKE_USAGE)
    .description('Runs a function once on a board, through the cloud, and prints its result as JSON on stdout (with --json, the whole answer: ok, version, result or error, durationMs). The board must be connected to the cloud.')
    .requiredOption('--device <id>', 'the device to run it on')
    .argument('<fn>', 'function name (as deployed or in the device\'s own folder)')
    .option('--event <json|@file>', 'the event, as JSON or @file (default {}); the device sets source "invoke"')
    .option('--timeout <ms>', 'how long to wait for the answer, ms', intOption('--timeout', 1, REMOTE_INVOKE_TIMEOUT.maxMs), REMOTE_INVOKE_TIMEOUT.defaultMs))
    .action(async (fn: string, f: ApiTarget & { device: string, event?: string, timeout: number, json?: boolean }) => {
      json = f.json === true
      const event = f.event === undefined ? {} : await jsonArg('event', f.event, REMOTE_INVOKE_USAGE)
      const api = new ApiClient(f)
      // The cloud answers LAMBKIN_INVOKE_TIMEOUT shortly after timeoutMs; the margin lets it.
      const a = await api.call<InvokeAnswer>('POST', `/v1/devices/${pathPart(f.device, 'device id')}/invoke`, { fn, event, timeoutMs: f.timeout }, f.timeout + 15_000)
      if (json) {
        io.stdout(JSON.stringify(a) + '\n')
      } else if (a.ok) {
        io.stderr(`[${printable(f.device)} ${printable(a.fn)} version ${a.version ?? '?'}, ${a.durationMs.toFixed(1)} ms]\n`)
        io.stdout((a.result === undefined ? 'null' : JSON.stringify(a.result, null, 2)) + '\n')
      } else {
        io.stderr(printable(`${a.error?.code ?? 'LAMBKIN_FUNCTION_ERROR'}: ${a.error?.message ?? 'the function failed'}`) + '\n')
      }
      run.code = a.ok ? EXIT_OK : EXIT_FAILURE
    })
  return await runProgram(program, argv, io, run, () => json)
}
