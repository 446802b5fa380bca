// Reading a small file named on the command line (a PEM certificate, key or CA, a signing or
// trust key) at start, bounded: a path to a device (/dev/zero, /dev/urandom), a FIFO or a huge
// file by mistake is refused at once instead of read until memory runs out.
import { closeSync, constants, fstatSync, openSync } from 'node:fs'
import { readBoundedSync } from './bounded-read.js'
import { ErrorCodes, errorMessage, LambkinError } from './errors.js'

/** The most a PEM file given to lambkin may hold, bytes: a CA bundle of a few hundred certificates fits. */
export const MAX_PEM_BYTES = 1024 * 1024

/**
 * Reads a regular file of at most `maxBytes`, checking the size as it reads (a /proc file
 * reports a size that is not what a read returns). Errors carry no `code` of their own beyond
 * the errno ones, so callers that print `code ?? message` show the reason.
 * @throws Error "not a regular file" (a device, FIFO, socket or folder; opened without
 *   blocking, so a FIFO nobody writes does not hang), "larger than the N bytes ..." past
 *   `maxBytes`; errno errors (ENOENT, EACCES) as they come.
 */
export function readSmallFileSync (file: string, maxBytes = MAX_PEM_BYTES): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new Error('not a regular file')
    return readBoundedSync(fd, st.size, maxBytes, () => new Error(`larger than the ${maxBytes} bytes a PEM file may hold`))
  } finally {
    closeSync(fd)
  }
}

/**
 * The PEM file `--<flag>` names, bounded as readSmallFileSync reads it.
 * @throws LambkinError LAMBKIN_CONFIG_INVALID naming the flag and the file, with the reason
 *   (ENOENT, EACCES, not a regular file, too large); details.key is the flag.
 */
export function readPemFlag (file: string, flag: string): Buffer {
  try {
    return readSmallFileSync(file)
  } catch (err) {
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `--${flag} ${file} cannot be read (${(err as { code?: string }).code ?? errorMessage(err)}); give a PEM file`, { cause: err, details: { key: flag } })
  }
}
