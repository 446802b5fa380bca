// Parses a function's modules at validate time, so a syntax error is reported as
// `file:line:column: message` with the line and a caret. QuickJS names no place for a module
// that does not parse ("unexpected token in expression: '}'"), so acorn reads the code first.
// acorn parses the latest ECMAScript, a superset of what the sandbox runs: code it accepts may
// still fail to compile in QuickJS (with QuickJS's own message), but nothing QuickJS would
// run is refused here.
import { parse } from 'acorn'
import type { Node, Program } from 'acorn'
import { ErrorCodes, LambkinError } from '../errors.js'

/** Where a module failed to parse, for `details` of LAMBKIN_COMPILE_ERROR. */
export interface SyntaxProblem { file: string, line: number, column: number, reason: string }

const SOURCE_LINE_MAX = 120

interface AcornSyntaxError extends SyntaxError { loc?: { line: number, column: number }, pos?: number }

/**
 * Parses the handler and every module it imports statically (relative files of the folder,
 * layers by name), each once.
 * @throws LambkinError LAMBKIN_COMPILE_ERROR naming the file, line and column of the first
 *   syntax error, with the source line and a caret under the column.
 */
export function checkSyntax (name: string, handler: string, files: Record<string, string>, layers: Record<string, string>): void {
  const seen = new Set<string>()
  const queue: Array<{ key: string, layer: boolean }> = [{ key: handler, layer: false }]
  while (queue.length > 0) {
    const { key, layer } = queue.shift() as { key: string, layer: boolean }
    const id = `${layer ? 'layer:' : ''}${key}`
    if (seen.has(id)) continue
    seen.add(id)
    const map = layer ? layers : files
    // Own keys only: a name like "constructor" must not reach Object.prototype.
    const source = Object.hasOwn(map, key) ? map[key] : undefined
    // A missing module or a JSON file is the sandbox's to report, as it is today.
    if (source === undefined || (!layer && !/\.m?js$/.test(key))) continue
    const label = layer ? `layers/${key}` : key
    let program: Program
    try {
      program = parse(source, { ecmaVersion: 'latest', sourceType: 'module', locations: true })
    } catch (err) {
      const e = err as AcornSyntaxError
      if (!(err instanceof SyntaxError) || e.loc === undefined) throw err
      throw syntaxError(name, label, source, e)
    }
    for (const spec of importsOf(program)) {
      if (spec.startsWith('./') || spec.startsWith('../')) {
        const resolved = resolve(layer ? '' : key, spec)
        if (resolved !== undefined) queue.push({ key: resolved, layer: false })
      } else {
        queue.push({ key: spec, layer: true })
      }
    }
  }
}

function syntaxError (name: string, label: string, source: string, e: AcornSyntaxError): LambkinError {
  const line = e.loc?.line ?? 1
  const column = (e.loc?.column ?? 0) + 1
  const reason = e.message.replace(/ \(\d+:\d+\)$/, '')
  const text = source.split(/\r\n|\r|\n|\u2028|\u2029/)[line - 1] ?? ''
  // A minified line is cut to a window around the column, so the caret still points.
  const from = text.length > SOURCE_LINE_MAX ? Math.max(0, Math.min(column - 1 - SOURCE_LINE_MAX / 2, text.length - SOURCE_LINE_MAX)) : 0
  const shown = text.slice(from, from + SOURCE_LINE_MAX).replace(/\t/g, ' ')
  const caret = ' '.repeat(Math.max(0, column - 1 - from)) + '^'
  const problem: SyntaxProblem = { file: label, line, column, reason }
  return new LambkinError(ErrorCodes.COMPILE_ERROR, `function ${name} does not parse: ${label}:${line}:${column}: ${reason}\n    ${shown}\n    ${caret}`, { details: { ...problem } })
}

/** The specifiers of a module's static imports and re-exports. */
function importsOf (program: Program): string[] {
  const out: string[] = []
  for (const node of program.body as Node[]) {
    if (node.type === 'ImportDeclaration' || node.type === 'ExportAllDeclaration' || node.type === 'ExportNamedDeclaration') {
      const src = (node as Node & { source?: { value?: unknown } | null }).source
      if (typeof src?.value === 'string') out.push(src.value)
    }
  }
  return out
}

/** `spec` relative to the module at `base`, as the sandbox's loader resolves it; undefined above the folder. */
function resolve (base: string, spec: string): string | undefined {
  const parts = base.split('/').slice(0, -1)
  for (const seg of spec.split('/')) {
    if (seg === '..') {
      if (parts.length === 0) return undefined
      parts.pop()
    } else if (seg !== '.' && seg !== '') parts.push(seg)
  }
  return parts.join('/')
}
