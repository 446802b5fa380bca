// Making a data folder (the agent's --data, the cloud's --data) with errors that say what is
// wrong, and never on a kernel's virtual file system.
import { mkdirSync, statSync, statfsSync } from 'node:fs'
import path from 'node:path'
import { ErrorCodes, errorMessage, LambkinError } from './errors.js'
import { PRIVATE_DIR_MODE } from './private-files.js'

/** statfs magic numbers (linux/magic.h) of file systems that cannot hold data. */
const VIRTUAL_FS: Readonly<Record<number, string>> = Object.freeze({ 0x9fa0: 'proc', 0x62656572: 'sysfs', 0x1cd1: 'devpts', 0x64626720: 'debugfs', 0x27e0eb: 'cgroup', 0x63677270: 'cgroup2' })

/**
 * Creates `dir` (and its parents) unless it exists, and returns its absolute path. Throws
 * LAMBKIN_CONFIG_INVALID naming `key` when `dir` is a file, lies on /proc, /sys or another
 * virtual file system (mkdir -p there can spin), or cannot be created (the errno is given).
 */
export function ensureDataDir (dir: string, key: string): string {
  // Owner-only from the start (src/private-files.ts); folders it makes above abs too.
  return makeFolder(dir, key, PRIVATE_DIR_MODE)
}

/**
 * ensureDataDir for any folder a command writes into (`keys generate --out`, `broker
 * dynsec-init --out`, `demo --data`), made with `mode`: one on /proc or /sys used to hang the
 * command in mkdirSync (recursive mkdir there spins) until Ctrl-C.
 */
export function makeFolder (dir: string, key: string, mode: number): string {
  const abs = path.resolve(dir)
  const bad = (why: string, cause?: unknown): LambkinError => new LambkinError(ErrorCodes.CONFIG_INVALID, `${key} ${dir} ${why}`, { cause, details: { key } })
  let existing = abs
  for (;;) {
    let st
    try {
      st = statSync(existing)
    } catch {
      const up = path.dirname(existing)
      if (up === existing) break
      existing = up
      continue
    }
    if (!st.isDirectory()) throw bad(existing === abs ? 'is a file, not a folder' : `cannot be created: ${existing} is a file`)
    break
  }
  try {
    const fs = VIRTUAL_FS[statfsSync(existing).type]
    if (fs !== undefined) throw bad(`is on ${fs}, a virtual file system that cannot hold data; choose a folder on a disk`)
  } catch (err) {
    if (err instanceof LambkinError) throw err
  }
  try {
    mkdirSync(abs, { recursive: true, mode })
  } catch (err) {
    throw bad(`cannot be created (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); choose a folder you can write to`, err)
  }
  return abs
}
