// How CLI commands write: injected so tests can run commands in-process and read the output.
import { ErrorCodes, errorMessage, LambkinError, systemErrorCode } from '../src/errors.js'
import { redactUrls } from '../src/redact.js'
import { logLine } from './log.js'

export interface CliIo {
  stdout: (s: string) => void
  stderr: (s: string) => void
  /** True when stdout is a terminal: commands may then redraw a progress line in place. */
  isTTY?: boolean
  /** True when stderr is the systemd journal: log lines carry priority prefixes (cli/log.ts). */
  journal?: boolean
}

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/**
 * Prints an error the way every command does: `CODE: message`, or JSON with --json; URL
 * credentials redacted. An error with no lambkin code is LAMBKIN_NO_SPACE or LAMBKIN_IO_ERROR
 * when the disk is full or an I/O call failed, else LAMBKIN_INTERNAL, its message kept.
 */
export function printError (io: CliIo, err: unknown, json: boolean): number {
  const e = err instanceof LambkinError
    ? err
    : new LambkinError(systemErrorCode(err) ?? ErrorCodes.INTERNAL, errorMessage(err), { cause: err })
  // A message may quote a URL the user gave, with its credentials.
  if (json) io.stdout(redactUrls(JSON.stringify({ ok: false, error: e.toJSON() })) + '\n')
  else logLine(io, `${e.code}: ${redactUrls(e.message)}`, 'err')
  return e.code === 'LAMBKIN_USAGE' ? EXIT_USAGE : EXIT_FAILURE
}

export function usageError (message: string, usage: string): LambkinError {
  return new LambkinError('LAMBKIN_USAGE', `${message}\n${usage}`)
}
