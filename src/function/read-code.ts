// Reads a function folder's code (.js, .mjs, .json) into memory, keyed by POSIX relative path,
// skipping node_modules and dot-folders, and refusing more than a bundle may carry. The folder
// stays closed: a link that leads out of it, or a code file that is not a regular file, makes
// the whole function refused (docs/architecture.md, "Sandbox", no ambient authority: the sandbox imports
// only what was read here, so this is the one place a file system path is followed).
import { readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, LambkinError } from '../errors.js'
import { FolderFileError, readRegular, realInside } from './folder-files.js'
import { dict } from '../own.js'

/** The most code one function folder may hold (function.json and layers not counted). */
export const MAX_CODE_BYTES = 4 * 1024 * 1024
/** The most code files one function folder may hold. */
export const MAX_CODE_FILES = 1000
/** The most folder entries looked at (code or not), so a folder of a million files is refused, not walked. */
export const MAX_FOLDER_ENTRIES = 10_000

const CODE_FILE = /\.(m?js|json)$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

interface Walk { root: string, realRoot: string, files: Record<string, string>, bytes: number, entries: number, seenDirs: Set<string> }

/**
 * The code files under `root`, sorted by path.
 * @throws LambkinError LAMBKIN_MANIFEST_INVALID (key "handler") when a link leads outside the
 *   folder, a code file is not a regular file or not UTF-8, or the folder is over
 *   MAX_CODE_BYTES, MAX_CODE_FILES or MAX_FOLDER_ENTRIES. Messages name paths, never contents.
 */
export async function readCode (root: string): Promise<Record<string, string>> {
  const walk: Walk = { root, realRoot: await realpath(root), files: dict(), bytes: 0, entries: 0, seenDirs: new Set() }
  await readDir(walk, '', walk.realRoot)
  // Sorted keys, so two loads of the same folder look the same to anyone iterating them.
  return Object.fromEntries(Object.entries(walk.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

async function readDir (walk: Walk, rel: string, real: string): Promise<void> {
  // A folder linked from inside the folder is read once; a link back up would loop for ever.
  if (walk.seenDirs.has(real)) return
  walk.seenDirs.add(real)
  const entries = await readdir(real, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
    if (++walk.entries > MAX_FOLDER_ENTRIES) refuse(walk, rel, `the folder holds more than ${MAX_FOLDER_ENTRIES} entries; move data out of it`)
    const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`
    let target = path.join(real, entry.name)
    let isDir = entry.isDirectory()
    let isFile = entry.isFile()
    if (entry.isSymbolicLink()) {
      const resolved = await follow(walk, target, relPath)
      // A dangling link holds nothing to read.
      if (resolved === undefined) continue
      const s = await stat(resolved)
      target = resolved
      isDir = s.isDirectory()
      isFile = s.isFile()
    }
    if (isDir) await readDir(walk, relPath, target)
    else if (CODE_FILE.test(entry.name) && relPath !== 'function.json') {
      // A FIFO, socket or device named like code is refused rather than opened.
      if (!isFile) refuse(walk, relPath, `${relPath} is not a regular file`)
      await readOne(walk, relPath, target)
    }
  }
}

async function follow (walk: Walk, link: string, relPath: string): Promise<string | undefined> {
  try {
    return await realInside(walk.realRoot, link, relPath)
  } catch (err) {
    if (err instanceof FolderFileError) refuse(walk, relPath, err.message)
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined
    throw err
  }
}

async function readOne (walk: Walk, relPath: string, file: string): Promise<void> {
  if (Object.keys(walk.files).length >= MAX_CODE_FILES) refuse(walk, relPath, `the folder holds more than ${MAX_CODE_FILES} code files`)
  let buf: Buffer
  try {
    buf = await readRegular(file, MAX_CODE_BYTES - walk.bytes, relPath)
  } catch (err) {
    if (!(err instanceof FolderFileError)) throw err
    if (err.fault !== 'too-large') refuse(walk, relPath, err.message)
    return tooBig(walk, relPath)
  }
  walk.bytes += buf.byteLength
  try {
    walk.files[relPath] = utf8.decode(buf)
  } catch (cause) {
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "handler" code must be UTF-8 text, but ${path.join(walk.root, relPath)} is not; save it as UTF-8`, { cause, details: { key: 'handler', reason: 'file is not UTF-8', file: relPath } })
  }
}

function refuse (walk: Walk, relPath: string, reason: string): never {
  throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "handler" cannot be loaded from ${walk.root}: ${reason}`, { details: { key: 'handler', reason, file: relPath } })
}

function tooBig (walk: Walk, relPath: string): never {
  const reason = `code in the folder exceeds ${MAX_CODE_BYTES} bytes (reached at ${relPath})`
  throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "handler" ${reason} in ${walk.root}; move data files out of it (node_modules/ and dot-folders are not loaded)`, { details: { key: 'handler', reason, max: MAX_CODE_BYTES } })
}
