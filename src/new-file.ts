// Creating a small file that must be whole or absent: a signing key, the operator token, a
// broker site's dynamic-security file (writeNewFile), or replacing one whole (replaceFile). A
// plain writeFileSync(file, data, { flag: 'wx' }) creates the file before it writes, so a full
// disk (ENOSPC) left an empty file behind, and a power cut before the kernel wrote the data
// back could too; the next start or `lambkin keys generate` then refused it ("already exists",
// "holds no usable token") until someone deleted it by hand. Here the bytes go to a temporary
// file beside it, are fsynced, and only then get the final name. A temporary file a power cut
// or a kill left behind (named by a process no longer running) goes at the next write.
import { closeSync, fsyncSync, linkSync, openSync, readdirSync, renameSync, existsSync, unlinkSync, writeSync } from 'node:fs'
import path from 'node:path'

/**
 * Writes `data` to `file` (created with `mode`) so that `file` either holds all of it, durably
 * (fsynced, and its folder too), or does not exist. Like flag 'wx', an existing `file` is never
 * replaced: throws an fs error with code EEXIST. Any other fs error (ENOSPC, EACCES) is thrown
 * as it came, with nothing left behind. On a file system without hard links (vfat) the final
 * step is a rename after an existence check.
 */
export function writeNewFile (file: string, data: string | Buffer, mode: number): void {
  writeThrough(file, data, mode, (tmp) => {
    try {
      linkSync(tmp, file)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err
      if (existsSync(file)) throw Object.assign(new Error(`EEXIST: file already exists, link '${tmp}' -> '${file}'`), { code: 'EEXIST' })
      renameSync(tmp, file)
    }
  })
}

/**
 * Writes `data` to `file` (with `mode`), replacing what it held in one step (rename(2) is
 * atomic): after a power cut `file` holds either all of the old bytes or all of the new, never a
 * part or nothing. fs errors (ENOSPC, EACCES) are thrown as they came, the old file untouched.
 */
export function replaceFile (file: string, data: string | Buffer, mode: number): void {
  writeThrough(file, data, mode, (tmp) => { renameSync(tmp, file) })
}

/** The bytes into `.<name>.<pid>.tmp` beside `file`, fsynced, then `place(tmp)`; the temporary file never stays. */
function writeThrough (file: string, data: string | Buffer, mode: number, place: (tmp: string) => void): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  removeLeftovers(file)
  try {
    const fd = openSync(tmp, 'w', mode)
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data
      let at = 0
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    place(tmp)
  } finally {
    try { unlinkSync(tmp) } catch {}
  }
  syncFolder(path.dirname(file))
}

/** fsyncs a folder so a new name in it survives a power cut; best effort (not every file system allows it). */
function syncFolder (dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try { fsyncSync(fd) } finally { closeSync(fd) }
  } catch {}
}

/**
 * Removes `.<name>.<pid>.tmp` files beside `file` whose process is gone (a power cut or a kill
 * mid-write): they may hold a secret (a key, the token), and nothing else removes them. One of
 * a running process is left to it; best effort.
 */
function removeLeftovers (file: string): void {
  const prefix = `.${path.basename(file)}.`
  let names: string[]
  try { names = readdirSync(path.dirname(file)) } catch { return }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue
    const pid = Number(name.slice(prefix.length, -'.tmp'.length))
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue
    try { unlinkSync(path.join(path.dirname(file), name)) } catch {}
  }
}

/** Whether a process `pid` runs (signal 0: EPERM means it does, as another user's). */
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
