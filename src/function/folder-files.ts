// Reading files that must stay inside one folder (a function's, a layer's): every path is
// resolved through its links first, and a file reached through a link that leaves the folder,
// or that is not a regular file (a FIFO, a device, /proc), is refused before it is opened.
import { constants } from 'node:fs'
import { open, realpath } from 'node:fs/promises'
import path from 'node:path'
import { readBounded } from '../bounded-read.js'

export type FolderFault = 'outside' | 'not-regular' | 'too-large'

/**
 * Why a file was refused. The message names paths only, never what the file holds: a link
 * to /proc/self/environ must not put the agent's environment into an error a function sees.
 */
export class FolderFileError extends Error {
  readonly fault: FolderFault
  constructor (fault: FolderFault, message: string) {
    super(message)
    this.name = 'FolderFileError'
    this.fault = fault
  }
}

/** True when `p` is `root` or below it; both must be real (link-free) absolute paths. */
export function isInside (root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep)
}

/**
 * The real path of `file`, which must lie inside `realRoot` (already a real path).
 * @throws FolderFileError `outside` when a link leads out of it; the errno error of
 *   realpath (ENOENT for a missing file or a dangling link) otherwise.
 */
export async function realInside (realRoot: string, file: string, shown: string): Promise<string> {
  const real = await realpath(file)
  if (!isInside(realRoot, real)) {
    throw new FolderFileError('outside', `${shown} leads outside ${realRoot} (to ${real}); links in a function or layer folder must point inside it`)
  }
  return real
}

// O_NONBLOCK: opening a FIFO nobody writes would otherwise wait for ever before fstat can
// refuse it. O_NOFOLLOW: the path was resolved already, a link swapped in since is refused.
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK

/**
 * Reads a regular file inside `realRoot`, at most `maxBytes`.
 * @param shown how messages name the file (a path relative to the folder).
 * @throws FolderFileError `outside`, `not-regular` (FIFO, socket, device, folder) or
 *   `too-large`; errno errors (ENOENT, EACCES) as they come.
 */
export async function readInside (realRoot: string, file: string, maxBytes: number, shown: string): Promise<Buffer> {
  const real = await realInside(realRoot, file, shown)
  return await readRegular(real, maxBytes, shown)
}

/**
 * Reads at most `maxBytes` of a regular file, checking the size as it reads (a file in /proc
 * or one still growing reports a size that is not what a read returns). With `pipes`, a pipe
 * or terminal is read too (a config given as `--config <(...)` or `/dev/stdin`).
 * @throws FolderFileError `not-regular` or `too-large`; errno errors as they come.
 */
export async function readRegular (file: string, maxBytes: number, shown: string, opts: { pipes?: boolean } = {}): Promise<Buffer> {
  const fh = await open(file, opts.pipes === true ? constants.O_RDONLY : FLAGS)
  try {
    const st = await fh.stat()
    const pipe = opts.pipes === true && (st.isFIFO() || st.isSocket() || st.isCharacterDevice())
    if (!st.isFile() && !pipe) throw new FolderFileError('not-regular', `${shown} is not a regular file`)
    return await readBounded(fh, st.size, maxBytes, () => tooLarge(shown, maxBytes))
  } finally {
    await fh.close()
  }
}

function tooLarge (shown: string, max: number): FolderFileError {
  return new FolderFileError('too-large', `${shown} is larger than the ${max} bytes allowed`)
}
