import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, rmSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { loadFunctionDir, MANIFEST_MAX_BYTES, MANIFEST_MAX_DEPTH } from '../../../src/function/index.js'
import { fn, rejectedWith, tree } from './fixtures.js'

test('loads the manifest, code and layers from layers/ beside the folder', async () => {
  const t = tree({
    ...fn('fns/a', { name: 'a', layers: ['stats', 'geo'], triggers: [{ mqtt: 'x/+' }] }),
    'fns/a/lib/util.js': 'export const u = 1',
    'fns/a/node_modules/x/index.js': 'ignored',
    'fns/layers/stats/index.js': 'export const mean = () => 0',
    'fns/layers/geo.js': 'export const km = 1'
  })
  try {
    const a = await loadFunctionDir(t.at('fns/a'))
    assert.is(a.manifest.name, 'a')
    assert.equal(a.manifest.triggers, [{ mqtt: 'x/+', qos: 1 }])
    assert.is(a.dir, t.at('fns/a'))
    assert.equal(a.files, { 'index.js': 'export default () => 1', 'lib/util.js': 'export const u = 1' })
    assert.equal(a.layers, { stats: 'export const mean = () => 0', geo: 'export const km = 1' })
    assert.match(a.version, /^[0-9a-f]{16}$/)
  } finally {
    t.remove()
  }
})

test('a relative dir resolves against the working directory', async () => {
  const t = tree(fn('a', { name: 'a' }))
  try {
    const a = await loadFunctionDir(path.relative(process.cwd(), t.at('a')))
    assert.is(a.dir, t.at('a'))
  } finally {
    t.remove()
  }
})

test('layersDir option wins over the default; <name>/index.js before <name>.js', async () => {
  const t = tree({
    ...fn('a', { name: 'a', layers: ['stats'] }),
    'layers/stats/index.js': 'beside',
    'shared/stats/index.js': 'folder form',
    'shared/stats.js': 'file form'
  })
  try {
    assert.equal((await loadFunctionDir(t.at('a'))).layers, { stats: 'beside' })
    assert.equal((await loadFunctionDir(t.at('a'), { layersDir: t.at('shared') })).layers, { stats: 'folder form' })
    rmSync(t.at('shared/stats'), { recursive: true })
    assert.equal((await loadFunctionDir(t.at('a'), { layersDir: t.at('shared') })).layers, { stats: 'file form' })
  } finally {
    t.remove()
  }
})

test('a missing layer names layers[i] and both places it looked', async () => {
  const t = tree({ ...fn('a', { name: 'a', layers: ['stats', 'ghost'] }), 'layers/stats.js': 'ok' })
  try {
    const e = await rejectedWith(loadFunctionDir(t.at('a')), 'layers[1]', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, path.join(t.root, 'layers', 'ghost', 'index.js'))
    assert.match(e.message, path.join(t.root, 'layers', 'ghost.js'))
  } finally {
    t.remove()
  }
})

test('no function.json is LAMBKIN_FUNCTION_NOT_FOUND, also for a folder that does not exist', async () => {
  const t = tree({ 'none/index.js': '' })
  try {
    const e = await rejectedWith(loadFunctionDir(t.at('none')), undefined, 'LAMBKIN_FUNCTION_NOT_FOUND')
    assert.match(e.message, 'function.json')
    await rejectedWith(loadFunctionDir(t.at('nowhere')), undefined, 'LAMBKIN_FUNCTION_NOT_FOUND')
    await rejectedWith(loadFunctionDir(t.at('none/index.js')), undefined, 'LAMBKIN_FUNCTION_NOT_FOUND')
  } finally {
    t.remove()
  }
})

test('bad JSON is LAMBKIN_MANIFEST_INVALID with line and column', async () => {
  const t = tree({ 'a/function.json': '{\n  "name": "a",\n  "handler": index.js\n}', 'a/index.js': '' })
  try {
    const e = await rejectedWith(loadFunctionDir(t.at('a')), undefined, 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, `${t.at('a/function.json')} is not valid JSON at line 3, column 14`)
    assert.is(e.details.key, '(root)')
    assert.is(e.details.line, 3)
    assert.is(e.details.column, 14)
    assert.is(e.details.position, 30)
    t.write('a/function.json', '{ "name": ')
    assert.match((await rejectedWith(loadFunctionDir(t.at('a')), undefined, 'LAMBKIN_MANIFEST_INVALID')).message, 'line 1, column 11')
    // The reason, not only the place.
    t.write('a/function.json', '{\n  "name": "a",\n  "env": { "THRESHOLD": "70" },\n}')
    const comma = await rejectedWith(loadFunctionDir(t.at('a')), undefined, 'LAMBKIN_MANIFEST_INVALID')
    assert.match(comma.message, /is not valid JSON at line 4, column 1 \(position \d+\): trailing comma before '}'$/)
  } finally {
    t.remove()
  }
})

test('a byte order mark before the JSON is accepted', async () => {
  const t = tree({ 'a/function.json': '\ufeff{"name":"a"}', 'a/index.js': '' })
  try {
    assert.is((await loadFunctionDir(t.at('a'))).manifest.name, 'a')
  } finally {
    t.remove()
  }
})

test('schema errors and cap errors come through from validation', async () => {
  const t = tree({ ...fn('a', { name: 'a', limits: { memoryKiB: 65536 } }), ...fn('b', { name: 'b', limts: {} }) })
  try {
    await rejectedWith(loadFunctionDir(t.at('a'), { caps: { memoryKiB: 32768 } }), 'limits.memoryKiB', 'LAMBKIN_LIMIT_EXCEEDS_CAP')
    assert.is((await loadFunctionDir(t.at('a'))).manifest.limits.memoryKiB, 65536)
    await rejectedWith(loadFunctionDir(t.at('b')), 'limts', 'LAMBKIN_MANIFEST_INVALID')
  } finally {
    t.remove()
  }
})

test('a missing handler file names "handler"', async () => {
  const t = tree({ 'a/function.json': JSON.stringify({ name: 'a', handler: 'src/main.mjs' }), 'a/index.js': '' })
  try {
    const e = await rejectedWith(loadFunctionDir(t.at('a')), 'handler', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, 'src/main.mjs')
    t.write('a/src/main.mjs', 'export default () => 1')
    assert.is((await loadFunctionDir(t.at('a'))).files['src/main.mjs'], 'export default () => 1')
  } finally {
    t.remove()
  }
})

test('version: the same content gives the same version, any change gives another', async () => {
  const t = tree({ ...fn('fns/a', { name: 'a', layers: ['stats'] }), 'fns/layers/stats.js': 'v1' })
  const version = async (): Promise<string> => (await loadFunctionDir(t.at('fns/a'))).version
  try {
    const v1 = await version()
    assert.is(await version(), v1)
    // Formatting function.json differently does not change the manifest, so not the version.
    t.write('fns/a/function.json', JSON.stringify({ name: 'a', layers: ['stats'] }, null, 2))
    assert.is(await version(), v1)
    const seen = new Set([v1])
    const change = async (why: string, rel: string, text: string): Promise<void> => {
      t.write(rel, text)
      const v = await version()
      assert.not.ok(seen.has(v), `${why} should change the version`)
      seen.add(v)
    }
    await change('code', 'fns/a/index.js', 'export default () => 2')
    await change('a new module', 'fns/a/lib.js', '')
    await change('a layer', 'fns/layers/stats.js', 'v2')
    await change('env in the manifest', 'fns/a/function.json', JSON.stringify({ name: 'a', layers: ['stats'], env: { A: 'b' } }))
    await change('a limit', 'fns/a/function.json', JSON.stringify({ name: 'a', layers: ['stats'], env: { A: 'b' }, limits: { timeoutMs: 5 } }))
    // The same bytes split differently between files are a different function too.
    t.write('fns/a/lib.js', 'export default () => 2')
    t.write('fns/a/index.js', '')
    assert.not.ok(seen.has(await version()))
  } finally {
    t.remove()
  }
})

test('version does not depend on where the folder is', async () => {
  const t = tree({ ...fn('one/a', { name: 'a' }), ...fn('two/a', { name: 'a' }) })
  try {
    assert.is((await loadFunctionDir(t.at('one/a'))).version, (await loadFunctionDir(t.at('two/a'))).version)
  } finally {
    t.remove()
  }
})

// docs/functions.md, "A function's folder is closed": the manifest and layers are read only from inside
// their folders, with limits, and a duplicated key is refused instead of the last one winning.
test('a function.json with a key twice is refused: the wider grant no longer wins', async () => {
  const t = tree({ 'a/function.json': '{"name":"a","permissions":{"publish":["ok/#"]},"permissions":{"publish":["#"]}}', 'a/index.js': 'export default () => 1' })
  try {
    const e = await rejectedWith(loadFunctionDir(t.at('a')), 'permissions', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, 'twice')
    assert.is(e.details.line, 1)
  } finally {
    t.remove()
  }
})

test('function.json over its size cap, nested too deep, or not UTF-8 is refused', async () => {
  const t = tree({ 'a/index.js': 'export default () => 1' })
  try {
    t.write('a/function.json', JSON.stringify({ name: 'a', env: { X: 'x'.repeat(MANIFEST_MAX_BYTES) } }))
    assert.match((await rejectedWith(loadFunctionDir(t.at('a')), undefined, 'LAMBKIN_MANIFEST_INVALID')).message, `larger than the ${MANIFEST_MAX_BYTES} bytes`)
    t.write('a/function.json', `{"name":"a","env":${'['.repeat(MANIFEST_MAX_DEPTH)}${']'.repeat(MANIFEST_MAX_DEPTH)}}`)
    assert.match((await rejectedWith(loadFunctionDir(t.at('a')), undefined, 'LAMBKIN_MANIFEST_INVALID')).message, `deeper than ${MANIFEST_MAX_DEPTH}`)
    t.write('a/function.json', Buffer.concat([Buffer.from('{"name":"a","env":{"X":"'), Buffer.from([0xe9]), Buffer.from('"}}')]))
    const e = await rejectedWith(loadFunctionDir(t.at('a')), undefined, 'LAMBKIN_MANIFEST_INVALID')
    assert.match(e.message, 'not valid UTF-8 (byte offset 24)')
  } finally {
    t.remove()
  }
})

test('a function.json or layer that links outside its folder is refused without reading it', async () => {
  const t = tree({ ...fn('fns/a', { name: 'a' }), ...fn('fns/b', { name: 'b', layers: ['stats'] }), 'elsewhere/stats.js': 'export const x = "elsewhere"' })
  try {
    rmSync(t.at('fns/a/function.json'))
    symlinkSync('../b/function.json', t.at('fns/a/function.json'))
    const m = await rejectedWith(loadFunctionDir(t.at('fns/a')), undefined, 'LAMBKIN_MANIFEST_INVALID')
    assert.match(m.message, 'function.json leads outside')
    mkdirSync(t.at('fns/layers'))
    symlinkSync(t.at('elsewhere/stats.js'), t.at('fns/layers/stats.js'))
    const l = await rejectedWith(loadFunctionDir(t.at('fns/b')), 'layers[0]', 'LAMBKIN_MANIFEST_INVALID')
    assert.match(l.message, 'leads outside')
    assert.not.match(l.message, 'elsewhere"')
    rmSync(t.at('fns/layers/stats.js'))
    symlinkSync('/proc/self/environ', t.at('fns/layers/stats.js'))
    await rejectedWith(loadFunctionDir(t.at('fns/b')), 'layers[0]', 'LAMBKIN_MANIFEST_INVALID')
    rmSync(t.at('fns/layers/stats.js'))
    symlinkSync(t.at('elsewhere'), t.at('fns/layers/stats'))
    await rejectedWith(loadFunctionDir(t.at('fns/b')), 'layers[0]', 'LAMBKIN_MANIFEST_INVALID')
    // A layer folder linked to another place inside layers/ is fine.
    rmSync(t.at('fns/layers/stats'))
    t.write('fns/layers/real-stats/index.js', 'export const x = "inside"')
    symlinkSync('real-stats', t.at('fns/layers/stats'))
    assert.equal((await loadFunctionDir(t.at('fns/b'))).layers, { stats: 'export const x = "inside"' })
  } finally {
    t.remove()
  }
})

test.run()
