// Loading a folder of function folders, as the agent does at start: one broken function is
// reported and skipped, never a reason to stop loading the others.
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, errorMessage, LambkinError } from '../errors.js'
import { loadFunctionDir } from './load.js'
import type { LoadedFunction, LoadOptions } from './load.js'
import { RESERVED_NAMES } from './manifest.js'

export interface LoadedFunctions {
  /** Sorted by folder name. */
  functions: LoadedFunction[]
  errors: Array<{ dir: string, error: LambkinError }>
}

/** Loads every subfolder holding a function.json; `layers/` and dot-folders are skipped. */
export async function loadFunctionsDir (dir: string, opts: LoadOptions = {}): Promise<LoadedFunctions> {
  const abs = path.resolve(dir)
  let entries
  try {
    entries = await readdir(abs, { withFileTypes: true })
  } catch (cause) {
    throw new LambkinError(ErrorCodes.FUNCTION_NOT_FOUND, `cannot list the functions folder ${abs}: ${errorMessage(cause)}${(cause as { code?: unknown }).code === 'ENOENT' ? ': create it, or point --functions (functionsDir in the config, LAMBKIN_FUNCTIONS) at the folder holding your functions, one subfolder with a function.json each' : ''}`, { cause, details: { dir: abs } })
  }
  const subs = entries
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.') && !RESERVED_NAMES.includes(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => path.join(abs, name))
  // Loads run side by side; results are judged in folder order, so "the second one" of two
  // functions sharing a name is always the same folder.
  const results = await Promise.all(subs.map(async (sub) => await loadOne(sub, opts)))
  const out: LoadedFunctions = { functions: [], errors: [] }
  const owner = new Map<string, string>()
  for (const [i, r] of results.entries()) {
    if (r === undefined) continue
    if (r instanceof LambkinError) { out.errors.push({ dir: subs[i], error: r }); continue }
    const first = owner.get(r.manifest.name)
    if (first !== undefined) {
      const reason = `"${r.manifest.name}" is already the name of the function in ${first}; function names must be unique`
      out.errors.push({ dir: subs[i], error: new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "name" in ${subs[i]} ${reason}`, { details: { key: 'name', reason } }) })
      continue
    }
    owner.set(r.manifest.name, subs[i])
    out.functions.push(r)
  }
  return out
}

async function loadOne (sub: string, opts: LoadOptions): Promise<LoadedFunction | LambkinError | undefined> {
  const hasManifest = await stat(path.join(sub, 'function.json')).then((s) => s.isFile(), () => false)
  if (!hasManifest) return undefined
  try {
    return await loadFunctionDir(sub, opts)
  } catch (err) {
    if (err instanceof LambkinError) return err
    return new LambkinError(ErrorCodes.MANIFEST_INVALID, `could not load the function in ${sub}: ${errorMessage(err)}`, { cause: err, details: { dir: sub } })
  }
}
