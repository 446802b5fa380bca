// Loading a function folder (function.json + code + layers) from disk into memory, and a
// folder of such folders where one broken function does not stop the others.
import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, LambkinError } from '../errors.js'
import { validateManifest } from './manifest.js'
import type { FunctionManifest } from './manifest.js'
import type { Limits } from './limits.js'

export interface LoadedFunction {
  manifest: FunctionManifest
  dir: string
  /** First 16 hex digits of sha256 over manifest, files and layers: same code, same version. */
  version: string
  files: Record<string, string>
  layers: Record<string, string>
}

export interface LoadOptions { layersDir?: string, caps?: Partial<Limits> }

const MAX_CODE_BYTES = 4 * 1024 * 1024

async function readCode (root: string, rel = '', out: Record<string, string> = {}, total = { bytes: 0 }): Promise<Record<string, string>> {
  for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
    const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`
    if (entry.isDirectory()) await readCode(root, relPath, out, total)
    else if (entry.isFile() && /\.(m?js|json)$/.test(entry.name) && relPath !== 'function.json') {
      const text = await readFile(path.join(root, relPath), 'utf8')
      total.bytes += Buffer.byteLength(text)
      if (total.bytes > MAX_CODE_BYTES) throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function folder ${root} holds more than ${MAX_CODE_BYTES} bytes of code`, { details: { key: 'handler', reason: 'code too large' } })
      out[relPath] = text
    }
  }
  return out
}

async function readLayer (layersDir: string, name: string, i: number): Promise<string> {
  for (const candidate of [path.join(layersDir, name, 'index.js'), path.join(layersDir, `${name}.js`)]) {
    try {
      return await readFile(candidate, 'utf8')
    } catch {}
  }
  throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "layers[${i}]" names layer "${name}", but neither ${path.join(layersDir, name, 'index.js')} nor ${path.join(layersDir, `${name}.js`)} exists`, { details: { key: `layers[${i}]`, reason: 'layer not found' } })
}

export async function loadFunctionDir (dir: string, opts: LoadOptions = {}): Promise<LoadedFunction> {
  const abs = path.resolve(dir)
  let text: string
  try {
    text = await readFile(path.join(abs, 'function.json'), 'utf8')
  } catch (cause) {
    throw new LambkinError(ErrorCodes.FUNCTION_NOT_FOUND, `no function.json in ${abs}: a function is a folder with function.json and its handler`, { cause })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (cause) {
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `${path.join(abs, 'function.json')} is not valid JSON: ${(cause as Error).message}`, { cause, details: { key: '(root)', reason: 'invalid JSON' } })
  }
  const manifest = validateManifest(raw, { caps: opts.caps })
  const files = await readCode(abs)
  if (files[manifest.handler] === undefined) {
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "handler" names ${manifest.handler}, which is not in ${abs}`, { details: { key: 'handler', reason: 'file not found' } })
  }
  const layersDir = opts.layersDir ?? path.join(path.dirname(abs), 'layers')
  const layers: Record<string, string> = {}
  for (const [i, name] of manifest.layers.entries()) layers[name] = await readLayer(layersDir, name, i)
  const hash = createHash('sha256').update(JSON.stringify(manifest))
  for (const k of Object.keys(files).sort()) hash.update(`\0${k}\0${files[k]}`)
  for (const k of Object.keys(layers).sort()) hash.update(`\0layer:${k}\0${layers[k]}`)
  return { manifest, dir: abs, version: hash.digest('hex').slice(0, 16), files, layers }
}

/** Loads every subfolder with a function.json; `layers/` is reserved for layers. */
export async function loadFunctionsDir (dir: string, opts: LoadOptions = {}): Promise<{ functions: LoadedFunction[], errors: Array<{ dir: string, error: LambkinError }> }> {
  const functions: LoadedFunction[] = []
  const errors: Array<{ dir: string, error: LambkinError }> = []
  const names = new Set<string>()
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name !== 'layers' && !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))
  for (const entry of entries) {
    const sub = path.join(dir, entry.name)
    try {
      await stat(path.join(sub, 'function.json'))
    } catch {
      continue
    }
    try {
      const fn = await loadFunctionDir(sub, opts)
      if (names.has(fn.manifest.name)) throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function name "${fn.manifest.name}" in ${sub} is already used by another folder`, { details: { key: 'name', reason: 'duplicate' } })
      names.add(fn.manifest.name)
      functions.push(fn)
    } catch (err) {
      errors.push({ dir: sub, error: err instanceof LambkinError ? err : new LambkinError(ErrorCodes.MANIFEST_INVALID, String(err), { cause: err }) })
    }
  }
  return { functions, errors }
}
