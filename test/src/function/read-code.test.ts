import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { symlinkSync } from 'node:fs'
import { MAX_CODE_BYTES } from '../../../src/function/index.js'
import { readCode } from '../../../src/function/read-code.js'
import { rejectedWith, tree } from './fixtures.js'

test('reads .js, .mjs and .json by POSIX path; skips function.json, other files, node_modules and dot-folders', async () => {
  const t = tree({
    'function.json': '{}',
    'index.js': 'a',
    'lib/util.mjs': 'b',
    'lib/deep/data.json': '{"c":1}',
    'README.md': 'no',
    'lib/types.ts': 'no',
    'node_modules/x/index.js': 'no',
    'lib/node_modules/y.js': 'no',
    '.git/hooks/x.js': 'no',
    '.eslintrc.json': 'no'
  })
  try {
    assert.equal(await readCode(t.root), { 'index.js': 'a', 'lib/deep/data.json': '{"c":1}', 'lib/util.mjs': 'b' })
  } finally {
    t.remove()
  }
})

test('follows symlinks to files and folders, once, without looping', async () => {
  const t = tree({ 'fn/index.js': 'a', 'shared/lib.js': 'shared' })
  try {
    symlinkSync(t.at('shared'), t.at('fn/shared'))
    symlinkSync(t.at('shared/lib.js'), t.at('fn/lib.js'))
    symlinkSync(t.at('fn'), t.at('fn/loop'))
    symlinkSync(t.at('nowhere'), t.at('fn/dangling.js'))
    assert.equal(await readCode(t.at('fn')), { 'index.js': 'a', 'lib.js': 'shared', 'shared/lib.js': 'shared' })
  } finally {
    t.remove()
  }
})

test('exactly the cap is fine, one byte more is refused naming "handler"', async () => {
  const t = tree({ 'index.js': 'x'.repeat(MAX_CODE_BYTES - 10), 'more.json': '"12345678"' })
  try {
    assert.is(Object.keys(await readCode(t.root)).length, 2)
    t.write('z.js', 'y')
    const e = await rejectedWith(readCode(t.root), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, String(MAX_CODE_BYTES))
  } finally {
    t.remove()
  }
})

test('a file that is not UTF-8 is refused; a byte order mark is dropped', async () => {
  const t = tree({ 'index.js': Buffer.from([0xef, 0xbb, 0xbf, 0x61]) })
  try {
    assert.equal(await readCode(t.root), { 'index.js': 'a' })
    t.write('bad.js', Buffer.from([0x61, 0xff, 0xfe]))
    const e = await rejectedWith(readCode(t.root), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, 'bad.js')
  } finally {
    t.remove()
  }
})

test.run()
