// Loading one function folder (function.json + code + layers) from disk into memory, with a
// content version: the same manifest, code and layers always give the same version.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, LambkinError } from '../errors.js'
import { jsonErrorPosition } from './json-position.js'
import type { Limits } from './limits.js'
import { validateManifest } from './manifest.js'
import type { FunctionManifest } from './manifest.js'
import { readCode } from './read-code.js'

export interface LoadedFunction {
  manifest: FunctionManifest
  /** Absolute path of the folder. */
  dir: string
  /** First 16 hex digits of sha256 over manifest, files and layers. */
  version: string
  /** Code by POSIX path relative to `dir` (function.json itself is carried as `manifest`). */
  files: Record<string, string>
  /** Layer source by layer name. */
  layers: Record<string, string>
}

export interface LoadOptions {
  /** Where layers live; default: a `layers/` folder beside the function's folder. */
  layersDir?: string
  /** The device's caps (LIMIT_CAPS where unset). */
  caps?: Partial<Limits>
}

export async function loadFunctionDir (dir: string, opts: LoadOptions = {}): Promise<LoadedFunction> {
  const abs = path.resolve(dir)
  const manifest = validateManifest(await readManifest(abs), { caps: opts.caps })
  const files = await readCode(abs)
  if (files[manifest.handler] === undefined) {
    const reason = `names ${manifest.handler}, which is not in ${abs}`
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "handler" ${reason}; create it or point "handler" at your entry file`, { details: { key: 'handler', reason } })
  }
  const layersDir = path.resolve(opts.layersDir ?? path.join(path.dirname(abs), 'layers'))
  const layers: Record<string, string> = {}
  for (const [i, name] of manifest.layers.entries()) layers[name] = await readLayer(layersDir, name, i)
  return { manifest, dir: abs, version: versionOf(manifest, files, layers), files, layers }
}

/** The content version. Each part is length-prefixed, so no two different inputs hash alike. */
export function versionOf (manifest: FunctionManifest, files: Record<string, string>, layers: Record<string, string>): string {
  const hash = createHash('sha256')
  const part = (s: string): void => { hash.update(`${Buffer.byteLength(s)}:`).update(s) }
  part(JSON.stringify(manifest))
  for (const [kind, map] of [['file', files], ['layer', layers]] as const) {
    for (const k of Object.keys(map).sort()) { part(kind); part(k); part(map[k]) }
  }
  return hash.digest('hex').slice(0, 16)
}

async function readManifest (abs: string): Promise<unknown> {
  const file = path.join(abs, 'function.json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'not found' : (cause as Error).message
    throw new LambkinError(ErrorCodes.FUNCTION_NOT_FOUND, `no function at ${abs}: ${file} ${why}. A function is a folder with function.json and its handler`, { cause, details: { dir: abs } })
  }
  // Editors on Windows like to save a byte order mark; it is not an error worth a failed deploy.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    return JSON.parse(text)
  } catch (cause) {
    const at = jsonErrorPosition(text) ?? { position: text.length, line: 0, column: 0 }
    const reason = `is not valid JSON at line ${at.line}, column ${at.column} (position ${at.position}): ${(cause as Error).message}`
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `${file} ${reason}`, { cause, details: { key: '(root)', reason, ...at } })
  }
}

async function readLayer (layersDir: string, name: string, i: number): Promise<string> {
  const candidates = [path.join(layersDir, name, 'index.js'), path.join(layersDir, `${name}.js`)]
  for (const candidate of candidates) {
    try {
      return await readFile(candidate, 'utf8')
    } catch (err) {
      // A missing file means "try the next place"; anything else (permissions) is worth saying.
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') {
        const reason = `names layer "${name}", but ${candidate} could not be read: ${(err as Error).message}`
        throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "layers[${i}]" ${reason}`, { cause: err, details: { key: `layers[${i}]`, reason } })
      }
    }
  }
  const reason = `names layer "${name}", but neither ${candidates[0]} nor ${candidates[1]} exists`
  throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "layers[${i}]" ${reason}`, { details: { key: `layers[${i}]`, reason } })
}
