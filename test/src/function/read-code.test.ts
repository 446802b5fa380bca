import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { MAX_CODE_BYTES, MAX_CODE_FILES, MAX_FOLDER_ENTRIES } from '../../../src/function/index.js'
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

test('follows links that stay inside the folder, once, without looping; a dangling link is skipped', async () => {
  const t = tree({ 'fn/index.js': 'a', 'fn/src/lib.js': 'inner' })
  try {
    symlinkSync(t.at('fn/src'), t.at('fn/shared'))
    symlinkSync('src/lib.js', t.at('fn/lib.js'))
    symlinkSync(t.at('fn'), t.at('fn/loop'))
    symlinkSync(t.at('nowhere'), t.at('fn/dangling.js'))
    // shared/ and src/ are one folder: read once, under the name met first.
    assert.equal(await readCode(t.at('fn')), { 'index.js': 'a', 'lib.js': 'inner', 'shared/lib.js': 'inner' })
  } finally {
    t.remove()
  }
})

// docs/functions.md, "A function's folder is closed": each link below used to be followed and its target
// loaded as the function's code, where `await import()` in a try/catch could read it.
test('a link to /proc/self/environ is refused, and the error holds no part of the environment', async () => {
  const t = tree({ 'fn/index.js': 'a' })
  try {
    symlinkSync('/proc/self/environ', t.at('fn/e.js'))
    const e = await rejectedWith(readCode(t.at('fn')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, 'e.js leads outside')
    assert.is(e.details.file, 'e.js')
    for (const value of Object.values(process.env)) {
      if (value !== undefined && value.length >= 8) assert.not.ok(JSON.stringify(e).includes(value), 'the error quotes an environment value')
    }
  } finally {
    t.remove()
  }
})

test('a link to a sibling function\'s file, or to a folder outside, is refused naming the link', async () => {
  const t = tree({ 'fns/a/index.js': 'a', 'fns/b/index.js': 'secret source of b', 'outside/lib/x.js': 'x' })
  try {
    symlinkSync('../b/index.js', t.at('fns/a/b.js'))
    const e = await rejectedWith(readCode(t.at('fns/a')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, 'b.js leads outside')
    assert.not.match(e.message, 'secret source')
    rmSync(t.at('fns/a/b.js'))
    symlinkSync(t.at('outside/lib'), t.at('fns/a/lib'))
    const d = await rejectedWith(readCode(t.at('fns/a')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(d.message, 'lib leads outside')
    rmSync(t.at('fns/a/lib'))
    // A link inside a linked-in folder is judged by where it finally leads.
    mkdirSync(t.at('fns/a/sub'))
    symlinkSync('../../b', t.at('fns/a/sub/b'))
    await rejectedWith(readCode(t.at('fns/a')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
  } finally {
    t.remove()
  }
})

test('a FIFO named like code is refused without being opened for ever; other non-code entries are ignored', async () => {
  const t = tree({ 'fn/index.js': 'a' })
  try {
    execFileSync('mkfifo', [t.at('fn/pipe')])
    assert.equal(await readCode(t.at('fn')), { 'index.js': 'a' })
    execFileSync('mkfifo', [t.at('fn/pipe.js')])
    const e = await rejectedWith(readCode(t.at('fn')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, 'pipe.js is not a regular file')
  } finally {
    t.remove()
  }
})

test('a link to a device is refused as outside the folder', async () => {
  const t = tree({ 'fn/index.js': 'a' })
  try {
    symlinkSync('/dev/zero', t.at('fn/zero.json'))
    const e = await rejectedWith(readCode(t.at('fn')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, 'zero.json leads outside')
  } finally {
    t.remove()
  }
})

test('more code files or folder entries than allowed are refused, not walked', async () => {
  const files: Record<string, string> = {}
  for (let i = 0; i <= MAX_CODE_FILES; i++) files[`fn/m${i}.js`] = ''
  const t = tree(files)
  try {
    const e = await rejectedWith(readCode(t.at('fn')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, `more than ${MAX_CODE_FILES} code files`)
    rmSync(t.at('fn'), { recursive: true })
    mkdirSync(t.at('fn'))
    for (let i = 0; i <= MAX_FOLDER_ENTRIES; i++) writeFileSync(t.at(`fn/d${i}.txt`), '')
    const d = await rejectedWith(readCode(t.at('fn')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(d.message, `more than ${MAX_FOLDER_ENTRIES} entries`)
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
