import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadFunctionDir, loadFunctionsDir } from '../../../src/function/index.js'

function tree (files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-fn-'))
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    writeFileSync(path.join(root, rel), text)
  }
  return root
}

async function code (p: Promise<unknown>): Promise<string> {
  try { await p } catch (err) { return (err as { code: string }).code }
  return 'resolved'
}

test('loads code, nested modules and layers; version follows content', async () => {
  const root = tree({
    'fns/a/function.json': JSON.stringify({ name: 'a', layers: ['stats'] }),
    'fns/a/index.js': 'export default () => 1',
    'fns/a/lib/util.js': 'export const u = 1',
    'fns/a/node_modules/x/index.js': 'ignored',
    'fns/layers/stats/index.js': 'export const mean = () => 0'
  })
  try {
    const a = await loadFunctionDir(path.join(root, 'fns/a'))
    assert.equal(Object.keys(a.files).sort(), ['index.js', 'lib/util.js'])
    assert.equal(Object.keys(a.layers), ['stats'])
    assert.is(a.version.length, 16)
    assert.is((await loadFunctionDir(path.join(root, 'fns/a'))).version, a.version)
    writeFileSync(path.join(root, 'fns/a/index.js'), 'export default () => 2')
    assert.is.not((await loadFunctionDir(path.join(root, 'fns/a'))).version, a.version)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('missing manifest, bad JSON, missing handler and missing layer have codes', async () => {
  const root = tree({
    'none/index.js': '',
    'badjson/function.json': '{ "name": ',
    'nohandler/function.json': JSON.stringify({ name: 'nohandler' }),
    'nolayer/function.json': JSON.stringify({ name: 'nolayer', layers: ['ghost'] }),
    'nolayer/index.js': 'export default () => 1'
  })
  try {
    assert.is(await code(loadFunctionDir(path.join(root, 'none'))), 'LAMBKIN_FUNCTION_NOT_FOUND')
    assert.is(await code(loadFunctionDir(path.join(root, 'badjson'))), 'LAMBKIN_MANIFEST_INVALID')
    assert.is(await code(loadFunctionDir(path.join(root, 'nohandler'))), 'LAMBKIN_MANIFEST_INVALID')
    assert.is(await code(loadFunctionDir(path.join(root, 'nolayer'))), 'LAMBKIN_MANIFEST_INVALID')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('a folder of functions: one broken function does not stop the others', async () => {
  const root = tree({
    'good/function.json': JSON.stringify({ name: 'good' }),
    'good/index.js': 'export default () => 1',
    'broken/function.json': JSON.stringify({ name: 'broken', limits: { memoryKiB: 1 } }),
    'broken/index.js': '',
    'twin/function.json': JSON.stringify({ name: 'good' }),
    'twin/index.js': 'export default () => 1',
    'notes/readme.txt': 'not a function'
  })
  try {
    const { functions, errors } = await loadFunctionsDir(root)
    assert.equal(functions.map((f) => f.manifest.name), ['good'])
    assert.equal(errors.map((e) => [path.basename(e.dir), e.error.code]).sort(), [['broken', 'LAMBKIN_MANIFEST_INVALID'], ['twin', 'LAMBKIN_MANIFEST_INVALID']])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('the shipped examples all load', async () => {
  const { functions, errors } = await loadFunctionsDir(path.resolve('examples'))
  assert.equal(errors, [])
  assert.ok(functions.length >= 4)
})

test.run()
