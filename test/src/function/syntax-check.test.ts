// A module that does not parse is refused at validate time with file, line, column, the source
// line and a caret (QuickJS names no place for a module's syntax error).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkSyntax, loadFunctionDir } from '../../../src/function/index.js'
import { LambkinError } from '../../../src/errors.js'
import { fn, rejectedWith, tree } from './fixtures.js'

function refused (handler: string, files: Record<string, string>, layers: Record<string, string> = {}): LambkinError {
  try {
    checkSyntax('f', handler, files, layers)
  } catch (err) {
    assert.instance(err, LambkinError)
    assert.is((err as LambkinError).code, 'LAMBKIN_COMPILE_ERROR')
    return err as LambkinError
  }
  assert.unreachable('it parsed')
  throw new Error('unreachable')
}

test('a missing comma in the handler: file:line:column, the line and a caret under the column', () => {
  const e = refused('index.js', { 'index.js': 'export default async function (event, ctx) {\n  const x = {\n    a: 1\n    b: 2\n  }\n  return x\n}\n' })
  assert.is(e.message, 'function f does not parse: index.js:4:5: Unexpected token\n        b: 2\n        ^')
  assert.equal(e.details, { file: 'index.js', line: 4, column: 5, reason: 'Unexpected token' })
})

test('an error in a module the handler imports, or in a layer, names that file', () => {
  const lib = refused('index.js', { 'index.js': 'import { h } from "./lib/h.js"\nexport default () => h()\n', 'lib/h.js': 'export function h () {\n  return 1 +\n}\n' })
  assert.match(lib.message, /^function f does not parse: lib\/h\.js:3:1: Unexpected token\n {4}}\n {4}\^$/)
  const layer = refused('index.js', { 'index.js': 'import { mean } from "stats"\nexport default () => mean([1])\n' }, { stats: 'export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length)\n' })
  assert.match(layer.message, /^function f does not parse: layers\/stats:1:70: Unexpected token/)
  // A sub-folder module importing its sibling resolves from its own folder, as the sandbox does.
  const nested = refused('src/main.js', { 'src/main.js': 'export { default } from "./impl.js"', 'src/impl.js': 'export default () => { let }' })
  assert.match(nested.message, 'src/impl.js:1:24: The keyword \'let\' is reserved')
})

test('what the sandbox runs parses: modern syntax, top-level await; files nothing imports are not read', () => {
  checkSyntax('f', 'index.js', {
    'index.js': [
      'import * as m from "./m.mjs"',
      'import data from "./data.json"',
      'class A { #x = 1n; static s = 2; get x () { return this.#x } static { A.t = 3 } }',
      'const r = /(?<=\\$)(?<n>\\d+)/d',
      'const y = await Promise.resolve(m.v?.w ?? 0)',
      'label: for (const k of [1]) { if (k) continue label }',
      'export default async function * (e, ctx) { yield [1, 2, 3].findLast((v) => v > 1) ** 2 }'
    ].join('\n'),
    'm.mjs': 'export const v = { w: 1 }',
    'data.json': '{ "not": "a module" }',
    'scratch.js': 'this is not JavaScript at all {'
  }, {})
})

test('a long minified line is cut around the column, so the caret still points at it', () => {
  const code = `export default () => [${'1,'.repeat(500)} 2 3]`
  const e = refused('index.js', { 'index.js': code })
  const [, shown, caret] = e.message.split('\n')
  const column = (e.details as { column: number }).column
  assert.is(code[column - 1], '3')
  assert.ok(shown.length <= 124, `the source line is cut (${shown.length})`)
  assert.is(shown[caret.length - 1], '3', 'the caret stands under the bad token')
})

test('loadFunctionDir refuses a handler that does not parse with LAMBKIN_COMPILE_ERROR', async () => {
  const t = tree({ ...fn('a', { name: 'a' }), 'a/index.js': 'export default (event) => {\n  return { ok: true }\n' })
  try {
    const e = await rejectedWith(loadFunctionDir(t.at('a')), undefined, 'LAMBKIN_COMPILE_ERROR')
    assert.match(e.message, /^function a does not parse: index\.js:3:1: Unexpected token/)
  } finally {
    t.remove()
  }
})

test.run()
