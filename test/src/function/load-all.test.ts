import { test } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import { loadFunctionsDir } from '../../../src/function/index.js'
import { fn, rejectedWith, tree } from './fixtures.js'

test('loads every function folder, skipping layers/, dot-folders and folders without function.json', async () => {
  const t = tree({
    ...fn('b', { name: 'bravo', layers: ['stats'] }),
    ...fn('a', { name: 'alpha' }),
    'layers/stats/index.js': 'export const mean = () => 0',
    'layers/function.json': JSON.stringify({ name: 'not-a-function' }),
    ...fn('.trash', { name: 'old' }),
    'notes/readme.txt': 'not a function',
    'stray.js': ''
  })
  try {
    const { functions, errors } = await loadFunctionsDir(t.root)
    assert.equal(errors, [])
    assert.equal(functions.map((f) => f.manifest.name), ['alpha', 'bravo'])
    assert.equal(functions[1].layers, { stats: 'export const mean = () => 0' })
  } finally {
    t.remove()
  }
})

test('one broken function does not stop the others', async () => {
  const t = tree({
    ...fn('good', { name: 'good' }),
    ...fn('caps', { name: 'caps', limits: { concurrency: 8 } }),
    ...fn('typo', { name: 'typo', limts: {} }),
    ...fn('nolayer', { name: 'nolayer', layers: ['ghost'] }),
    'badjson/function.json': '{',
    'nohandler/function.json': JSON.stringify({ name: 'nohandler' })
  })
  try {
    const { functions, errors } = await loadFunctionsDir(t.root, { caps: { concurrency: 4 } })
    assert.equal(functions.map((f) => f.manifest.name), ['good'])
    assert.equal(errors.map((e) => [path.basename(e.dir), e.error.code, e.error.details.key]), [
      ['badjson', 'LAMBKIN_MANIFEST_INVALID', '(root)'],
      ['caps', 'LAMBKIN_LIMIT_EXCEEDS_CAP', 'limits.concurrency'],
      ['nohandler', 'LAMBKIN_MANIFEST_INVALID', 'handler'],
      ['nolayer', 'LAMBKIN_MANIFEST_INVALID', 'layers[0]'],
      ['typo', 'LAMBKIN_MANIFEST_INVALID', 'limts']
    ])
    assert.is(errors[0].dir, t.at('badjson'))
  } finally {
    t.remove()
  }
})

test('two folders with one name: the second in folder order is the error, naming the first', async () => {
  const t = tree({ ...fn('a-first', { name: 'same' }), ...fn('b-second', { name: 'same' }), ...fn('c', { name: 'other' }) })
  try {
    const { functions, errors } = await loadFunctionsDir(t.root)
    assert.equal(functions.map((f) => [f.manifest.name, path.basename(f.dir)]), [['same', 'a-first'], ['other', 'c']])
    assert.is(errors.length, 1)
    assert.is(errors[0].dir, t.at('b-second'))
    assert.is(errors[0].error.details.key, 'name')
    assert.match(errors[0].error.message, t.at('a-first'))
  } finally {
    t.remove()
  }
})

test('an empty folder loads nothing; a missing one is LAMBKIN_FUNCTION_NOT_FOUND', async () => {
  const t = tree()
  try {
    assert.equal(await loadFunctionsDir(t.root), { functions: [], errors: [] })
    await rejectedWith(loadFunctionsDir(t.at('nowhere')), undefined, 'LAMBKIN_FUNCTION_NOT_FOUND')
  } finally {
    t.remove()
  }
})

test('the shipped examples all load', async () => {
  const { functions, errors } = await loadFunctionsDir(path.resolve('examples'))
  assert.equal(errors.map((e) => e.error.message), [])
  assert.ok(functions.length >= 4)
})

test.run()
