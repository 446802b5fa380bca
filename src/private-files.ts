// Data folders and secret files are for their owner only. The agent's data folder holds its
// outbox (every result and log), deployed bundles and state; the cloud's holds the registry
// (device secrets' hashes, every record) and the operator token. Folders are made 0700 and
// files 0600 (the `lambkin device`/`cloud` commands also set umask 077, so LevelDB's own files
// follow); a folder made before, with group or other bits, is tightened when it is opened, and
// what cannot be tightened (another owner's file) is warned about. A private key or TLS key
// others can read is warned about wherever lambkin reads one.
import { chmodSync, lstatSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600
/** Entries looked at under a data folder (LevelDB keeps dozens of files; bundles a few per function). */
const MAX_ENTRIES = 100_000

export interface Tightened {
  /** Folders and files whose group/other bits were removed. */
  changed: string[]
  /** Those that could not be changed, with the errno. */
  refused: Array<{ path: string, code: string }>
}

/**
 * Removes group and other permissions from `dir` and everything under it (links are not
 * followed). Never throws: what cannot be read or changed is listed in `refused`.
 */
export function makePrivate (dir: string): Tightened {
  const out: Tightened = { changed: [], refused: [] }
  const stack = [dir]
  let seen = 0
  while (stack.length > 0 && seen++ < MAX_ENTRIES) {
    const p = stack.pop() as string
    let st
    try {
      st = lstatSync(p)
    } catch (err) {
      out.refused.push({ path: p, code: (err as NodeJS.ErrnoException).code ?? 'unreadable' })
      continue
    }
    if (st.isSymbolicLink()) continue
    if ((st.mode & 0o077) !== 0) {
      try {
        chmodSync(p, st.isDirectory() ? PRIVATE_DIR_MODE : st.mode & 0o700)
        out.changed.push(p)
      } catch (err) {
        out.refused.push({ path: p, code: (err as NodeJS.ErrnoException).code ?? 'EPERM' })
      }
    }
    if (!st.isDirectory()) continue
    try {
      for (const name of readdirSync(p)) stack.push(path.join(p, name))
    } catch (err) {
      out.refused.push({ path: p, code: (err as NodeJS.ErrnoException).code ?? 'unreadable' })
    }
  }
  return out
}

/** The log lines for a makePrivate result under `dir` (none when nothing needed doing). */
export function privateLines (dir: string, t: Tightened): string[] {
  const lines: string[] = []
  if (t.changed.length > 0) lines.push(`${dir}: ${t.changed.length} folders and files could be read by other users; made owner-only (folders 0700, files 0600)`)
  for (const r of t.refused.slice(0, 5)) lines.push(`WARNING: ${r.path} could not be made owner-only (${r.code}); other users may read it: fix its owner or mode (chmod go-rwx)`)
  if (t.refused.length > 5) lines.push(`WARNING: ${t.refused.length - 5} more paths under ${dir} could not be made owner-only`)
  return lines
}

/**
 * A warning for a secret file (a private signing key, a TLS key) that group or others can
 * read, or undefined. A file that cannot be stat'ed gets none here: reading it fails with its
 * own error.
 */
export function secretFileWarning (file: string, what: string): string | undefined {
  let mode: number
  try {
    mode = statSync(file).mode
  } catch {
    return undefined
  }
  if ((mode & 0o077) === 0) return undefined
  return `WARNING: ${what} ${file} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): anyone who can read it can ${what.includes('desired') ? 'tell your devices what to run' : what.includes('sign') ? 'sign bundles your devices run' : 'impersonate this server'}; chmod 600 ${file}`
}
