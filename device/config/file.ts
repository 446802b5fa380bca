// Reads a JSON config file into key assignments, refusing unknown keys so typos surface at
// start instead of silently falling back to a default.
import { dirname, resolve } from 'node:path'
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import { FolderFileError, parseStrictJson, readRegular, StrictJsonError } from '../../src/function/index.js'
import { SCHEMA } from './schema.js'
import type { Group } from './schema.js'
import { configError } from './source.js'
import type { Source } from './source.js'
import { nearest } from '../../src/did-you-mean.js'

export interface Assignment { key: string, raw: unknown, source: Source }

/** A config file may be at most this many bytes (a full one is a few KiB). */
export const CONFIG_MAX_BYTES = 1024 * 1024
/** Nesting deeper than this is refused before any key is looked at (the schema nests 3 deep). */
export const CONFIG_MAX_DEPTH = 16

/** `; did you mean "x"?` for the nearest known name (case, or up to 2 edits), else `.`. */
export function suggestion (key: string, known: readonly string[]): string {
  const near = nearest(key, known)
  return near === undefined ? '.' : `; did you mean "${near}"?`
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function walk (node: Group, obj: Record<string, unknown>, prefix: string, source: Source, out: Assignment[]): void {
  for (const [name, raw] of Object.entries(obj)) {
    const key = prefix + name
    const known = Object.keys(node.fields)
    const field = Object.hasOwn(node.fields, name) ? node.fields[name] : undefined
    if (field === undefined) {
      throw configError(key, `is not a known key${suggestion(name, known)} Known keys${prefix === '' ? '' : ` under "${prefix.slice(0, -1)}"`}: ${known.join(', ')}`, source)
    }
    if (field.kind === 'group') {
      if (!isPlainObject(raw)) throw configError(key, `must be an object (keys: ${Object.keys(field.fields).join(', ')}), got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`, source)
      walk(field, raw, `${key}.`, source, out)
    } else {
      out.push({ key, raw, source })
    }
  }
}

/**
 * Assignments in file order; relative paths in it resolve against the file's own folder.
 * The file is read as strict JSON (src/function/strict-json.ts): at most CONFIG_MAX_BYTES,
 * CONFIG_MAX_DEPTH deep, valid UTF-8, no key twice in one object.
 * @throws LambkinError LAMBKIN_CONFIG_INVALID naming the file and the position or key; never
 *   quoting the file's text, which may hold a password.
 */
export async function readConfigFile (file: string, cwd: string): Promise<Assignment[]> {
  const path = resolve(cwd, file)
  let bytes: Buffer
  try {
    bytes = await readRegular(path, CONFIG_MAX_BYTES, `config file ${path}`, { pipes: true })
  } catch (cause) {
    if (cause instanceof FolderFileError) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `${cause.message}; check the --config path or LAMBKIN_CONFIG`, { details: { file: path } })
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause)
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `config file ${path} cannot be read (${code}); check the --config path or LAMBKIN_CONFIG`, { cause, details: { file: path } })
  }
  let parsed: unknown
  try {
    parsed = parseStrictJson(bytes, { maxBytes: CONFIG_MAX_BYTES, maxDepth: CONFIG_MAX_DEPTH })
  } catch (cause) {
    if (!(cause instanceof StrictJsonError)) throw cause
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `config file ${path} ${cause.message}; fix the file or point --config elsewhere`, { cause, details: { file: path, fault: cause.fault, position: cause.position, line: cause.line, column: cause.column, key: cause.key } })
  }
  if (!isPlainObject(parsed)) {
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `config file ${path} must hold a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`, { details: { file: path } })
  }
  const out: Assignment[] = []
  walk(SCHEMA, parsed, '', { kind: 'file', name: path, baseDir: dirname(path) }, out)
  return out
}
