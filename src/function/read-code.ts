// Reads a function folder's code (.js, .mjs, .json) into memory, keyed by POSIX relative path,
// skipping node_modules and dot-folders, and refusing more than a bundle may carry.
import { readdir, readFile, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, LambkinError } from '../errors.js'

/** The most code one function folder may hold (function.json and layers not counted). */
export const MAX_CODE_BYTES = 4 * 1024 * 1024

const CODE_FILE = /\.(m?js|json)$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

interface Walk { root: string, files: Record<string, string>, bytes: number, seenDirs: Set<string> }

export async function readCode (root: string): Promise<Record<string, string>> {
  const walk: Walk = { root, files: {}, bytes: 0, seenDirs: new Set() }
  await readDir(walk, '')
  // Sorted keys, so two loads of the same folder look the same to anyone iterating them.
  return Object.fromEntries(Object.entries(walk.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

async function readDir (walk: Walk, rel: string): Promise<void> {
  const abs = path.join(walk.root, rel)
  // A symlinked folder is followed once; a link back up the tree would otherwise loop forever.
  const real = await realpath(abs)
  if (walk.seenDirs.has(real)) return
  walk.seenDirs.add(real)
  const entries = await readdir(abs, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
    const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`
    let isDir = entry.isDirectory()
    let isFile = entry.isFile()
    if (entry.isSymbolicLink()) {
      const s = await stat(path.join(abs, entry.name)).catch(() => undefined)
      isDir = s?.isDirectory() === true
      isFile = s?.isFile() === true
    }
    if (isDir) await readDir(walk, relPath)
    else if (isFile && CODE_FILE.test(entry.name) && relPath !== 'function.json') await readOne(walk, relPath)
  }
}

async function readOne (walk: Walk, relPath: string): Promise<void> {
  const file = path.join(walk.root, relPath)
  // Check the size before reading, so a stray 1 GiB data.json is refused, not loaded.
  const { size } = await stat(file)
  if (walk.bytes + size > MAX_CODE_BYTES) tooBig(walk, relPath, walk.bytes + size)
  const buf = await readFile(file)
  walk.bytes += buf.byteLength
  if (walk.bytes > MAX_CODE_BYTES) tooBig(walk, relPath, walk.bytes)
  try {
    walk.files[relPath] = utf8.decode(buf)
  } catch (cause) {
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "handler" code must be UTF-8 text, but ${path.join(walk.root, relPath)} is not; save it as UTF-8`, { cause, details: { key: 'handler', reason: 'file is not UTF-8', file: relPath } })
  }
}

function tooBig (walk: Walk, relPath: string, bytes: number): never {
  const reason = `code in the folder exceeds ${MAX_CODE_BYTES} bytes (reached ${bytes} at ${relPath})`
  throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "handler" ${reason} in ${walk.root}; move data files out of it (node_modules/ and dot-folders are not loaded)`, { details: { key: 'handler', reason, bytes, max: MAX_CODE_BYTES } })
}
