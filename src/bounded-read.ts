// The one bounded read loop behind readRegular (src/function/folder-files.ts, async: function
// code, config files, --event @file) and readSmallFileSync (src/small-file.ts, sync: PEM and key
// files at start). A file's size as stat gives it is a hint only (a /proc file says 0, a file
// still growing says less), so the bound is checked on what the reads return.
import { readSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

/**
 * The loop, written once for both readers: it yields each buffer to fill and is sent back how
 * many bytes the read put in it (0 at the end); it returns the whole content. Chunks are sized
 * from `size` (stat's), at least 4 KiB, never past maxBytes + 1.
 * @throws what `tooLarge` makes, when `size` or the bytes read pass maxBytes.
 */
function * boundedChunks (size: number, maxBytes: number, tooLarge: () => Error): Generator<Buffer, Buffer, number> {
  if (size > maxBytes) throw tooLarge()
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    const chunk = Buffer.alloc(Math.min(maxBytes + 1 - total, Math.max(size - total + 1, 4096)))
    const bytesRead: number = yield chunk
    if (bytesRead === 0) return Buffer.concat(chunks, total)
    chunks.push(chunk.subarray(0, bytesRead))
    total += bytesRead
    if (total > maxBytes) throw tooLarge()
  }
}

/** Reads open file `fd` from its position to the end, at most maxBytes (boundedChunks). */
export function readBoundedSync (fd: number, size: number, maxBytes: number, tooLarge: () => Error): Buffer {
  const loop = boundedChunks(size, maxBytes, tooLarge)
  let step = loop.next()
  while (step.done !== true) step = loop.next(readSync(fd, step.value, 0, step.value.length, null))
  return step.value
}

/** Reads open file `fh` from its position to the end, at most maxBytes (boundedChunks). */
export async function readBounded (fh: FileHandle, size: number, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const loop = boundedChunks(size, maxBytes, tooLarge)
  let step = loop.next()
  while (step.done !== true) step = loop.next((await fh.read(step.value, 0, step.value.length, null)).bytesRead)
  return step.value
}
