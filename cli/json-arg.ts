// A JSON value given on the command line, inline or as @file (`--event`, `--state`).
import { readFileSync } from 'node:fs'
import { ErrorCodes, errorMessage, LambkinError } from '../src/errors.js'
import { usageError } from './io.js'

/** The most an --event or --state file may hold: far above the sandbox's caps (an event 256 KiB). */
export const JSON_ARG_MAX_BYTES = 16 * 1024 * 1024

/**
 * Parses `raw` as JSON, or the file it names when it starts with `@`.
 * @throws LambkinError LAMBKIN_USAGE (with `usage` appended) for text that is not JSON, or for
 *   a file that cannot be read.
 */
export function jsonArg (name: string, raw: string, usage: string): unknown {
  let text = raw
  if (raw.startsWith('@')) {
    try {
      text = readFileSync(raw.slice(1), 'utf8')
    } catch (cause) {
      throw new LambkinError(ErrorCodes.USAGE, `cannot read --${name} file ${raw.slice(1)}: ${errorMessage(cause)}`, { cause })
    }
  }
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    throw usageError(`--${name} is not valid JSON: ${errorMessage(cause)}`, usage)
  }
}
