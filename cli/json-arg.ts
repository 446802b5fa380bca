// A JSON value given on the command line, inline or as @file (`--event`, `--state`).
import { ErrorCodes, errorMessage, LambkinError } from '../src/errors.js'
import { usageError } from './io.js'
import { readRegular } from '../src/function/index.js'

/** The most an --event or --state file may hold: far above the sandbox's caps (an event 256 KiB). */
export const JSON_ARG_MAX_BYTES = 16 * 1024 * 1024

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses `raw` as JSON, or the file it names when it starts with `@` (a regular file, or a pipe
 * or device such as /dev/stdin), read to at most JSON_ARG_MAX_BYTES.
 * @throws LambkinError LAMBKIN_USAGE (with `usage` appended) for text that is not JSON, or for
 *   a file that cannot be read or is larger than the bound.
 */
export async function jsonArg (name: string, raw: string, usage: string): Promise<unknown> {
  let text = raw
  if (raw.startsWith('@')) {
    let buf: Buffer
    try {
      buf = await readRegular(raw.slice(1), JSON_ARG_MAX_BYTES, raw.slice(1), { pipes: true })
    } catch (cause) {
      throw new LambkinError(ErrorCodes.USAGE, `cannot read --${name} file ${raw.slice(1)}: ${errorMessage(cause)}`, { cause })
    }
    // TextDecoder drops a leading byte-order mark (Notepad writes one), which JSON.parse
    // refused as an invisible "Unexpected token", as function.json and config files take it.
    try {
      text = utf8.decode(buf)
    } catch {
      throw usageError(`--${name} file ${raw.slice(1)} is not UTF-8 text (UTF-16, or binary?); save it as UTF-8`, usage)
    }
  }
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    throw usageError(`--${name} is not valid JSON: ${errorMessage(cause)}`, usage)
  }
}
