// Loading one function folder (function.json + code + layers) from disk into memory, with a
// content version: the same manifest, code and layers always give the same version.
import { createHash } from 'node:crypto'
import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, errorMessage, LambkinError } from '../errors.js'
import { FolderFileError, isInside, readInside } from './folder-files.js'
import type { Limits } from './limits.js'
import { MANIFEST_MAX_BYTES, MANIFEST_MAX_DEPTH, validateManifest } from './manifest.js'
import type { FunctionManifest } from './manifest.js'
import { MAX_CODE_BYTES, readCode } from './read-code.js'
import { parseStrictJson, StrictJsonError } from './strict-json.js'
import { checkSyntax } from './syntax-check.js'
import { own } from '../own.js'

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

/**
 * Loads one function folder into memory. Nothing outside the folder (and the layers it names)
 * is read: links must lead inside it (docs/functions.md, "A function's folder is closed").
 * @throws LambkinError LAMBKIN_FUNCTION_NOT_FOUND without a function.json;
 *   LAMBKIN_MANIFEST_INVALID for a manifest that is not strict JSON within MANIFEST_MAX_BYTES /
 *   MANIFEST_MAX_DEPTH or breaks the schema, a link out of the folder, a non-regular code
 *   file, code over MAX_CODE_BYTES / MAX_CODE_FILES, a missing handler or layer;
 *   LAMBKIN_LIMIT_EXCEEDS_CAP for limits above `opts.caps`; LAMBKIN_COMPILE_ERROR for a module
 *   the handler imports that does not parse (file, line, column and a caret).
 */
export async function loadFunctionDir (dir: string, opts: LoadOptions = {}): Promise<LoadedFunction> {
  const abs = path.resolve(dir)
  const manifest = validateManifest(await readManifest(abs), { caps: opts.caps })
  const files = await readCode(abs)
  if (own(files, manifest.handler) === undefined) {
    const reason = `names ${manifest.handler}, which is not in ${abs}`
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "handler" ${reason}; create it or point "handler" at your entry file`, { details: { key: 'handler', reason } })
  }
  const layersDir = path.resolve(opts.layersDir ?? path.join(path.dirname(abs), 'layers'))
  // Read in order (the first bad layer is the one reported); fromEntries defines each name as an own key.
  const read: Array<[string, string]> = []
  for (const [i, name] of manifest.layers.entries()) read.push([name, await readLayer(layersDir, name, i)])
  const layers: Record<string, string> = Object.fromEntries(read)
  checkSyntax(manifest.name, manifest.handler, files, layers)
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
  let bytes: Buffer
  try {
    bytes = await readInside(await realpath(abs), file, MANIFEST_MAX_BYTES, file)
  } catch (cause) {
    if (cause instanceof FolderFileError) {
      throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `${cause.message}`, { details: { key: '(root)', reason: cause.message, dir: abs } })
    }
    const code = (cause as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'not found' : `cannot be read (${code ?? errorMessage(cause)})`
    throw new LambkinError(ErrorCodes.FUNCTION_NOT_FOUND, `no function at ${abs}: ${file} ${why}. A function is a folder with function.json and its handler`, { cause, details: { dir: abs } })
  }
  try {
    return parseStrictJson(bytes, { maxBytes: MANIFEST_MAX_BYTES, maxDepth: MANIFEST_MAX_DEPTH })
  } catch (cause) {
    if (!(cause instanceof StrictJsonError)) throw cause
    const key = cause.key === undefined ? '(root)' : cause.key
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `${file} ${cause.message}`, { cause, details: { key, reason: cause.message, fault: cause.fault, position: cause.position, line: cause.line, column: cause.column } })
  }
}

/**
 * A layer's source: `<layersDir>/<name>/index.js`, else `<layersDir>/<name>.js`. Links may
 * point only inside the layer's own folder (or, for `<name>.js`, inside `layersDir`).
 */
async function readLayer (layersDir: string, name: string, i: number): Promise<string> {
  const candidates = [
    { file: path.join(layersDir, name, 'index.js'), folder: path.join(layersDir, name) },
    { file: path.join(layersDir, `${name}.js`), folder: layersDir }
  ]
  const fail = (reason: string, cause?: unknown): never => {
    throw new LambkinError(ErrorCodes.MANIFEST_INVALID, `function.json "layers[${i}]" ${reason}`, { cause, details: { key: `layers[${i}]`, reason } })
  }
  let realLayers: string | undefined
  for (const { file, folder } of candidates) {
    try {
      realLayers ??= await realpath(layersDir)
      const realFolder = await realpath(folder)
      if (!isInside(realLayers, realFolder)) fail(`names layer "${name}", but ${folder} leads outside ${realLayers} (to ${realFolder})`)
      const buf = await readInside(realFolder, file, MAX_CODE_BYTES, file)
      try {
        return utf8.decode(buf)
      } catch (cause) {
        return fail(`names layer "${name}", but ${file} is not UTF-8 text; save it as UTF-8`, cause)
      }
    } catch (err) {
      if (err instanceof LambkinError) throw err
      if (err instanceof FolderFileError) return fail(`names layer "${name}", but ${err.message}`)
      // A missing file means "try the next place"; anything else (permissions) is worth saying.
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') fail(`names layer "${name}", but ${file} could not be read (${code ?? errorMessage(err)})`, err)
    }
  }
  return fail(`names layer "${name}", but neither ${candidates[0].file} nor ${candidates[1].file} exists`)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
